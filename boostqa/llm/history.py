"""Measured tokens per job of a stage: the warehouse mart ``fct_llm_usage``, else the lake's ledgers, else a prior."""

from __future__ import annotations

import logging
from collections import defaultdict
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from boostqa.lake import layout
from boostqa.lake.read import read_object
from boostqa.lake.store import ObjectStore

log = logging.getLogger(__name__)
ANY_ROLE = "*"  # tokens of a prior: no role known, priced at the dearest model the stage uses


class UsagePerJob(BaseModel):
    """Prompt and completion tokens one job costs, per role, and where that figure comes from.

    Tokens are those of every turn (called or replayed): what the work costs when nothing is in the cache.
    """

    per_role: dict[str, tuple[float, float]] = Field(description="role -> (prompt, completion) tokens per job")
    source: Literal["history", "prior"]
    detail: str = Field(description="e.g. 'fct_llm_usage, 3 runs, 96 jobs' or 'prior BOOSTQA_BUDGET__...'")
    runs: list[str] = Field(default_factory=list)

    @property
    def prompt_tokens(self) -> float:
        """Prompt tokens per job, all roles."""
        return sum(p for p, _ in self.per_role.values())

    @property
    def completion_tokens(self) -> float:
        """Completion tokens per job, all roles."""
        return sum(c for _, c in self.per_role.values())

    @property
    def tokens(self) -> float:
        """Prompt + completion tokens per job."""
        return self.prompt_tokens + self.completion_tokens


def prior_usage(stage: str, settings: Any = None) -> UsagePerJob:
    """The configured prior of a stage (``BOOSTQA_BUDGET__<STAGE>_PRIOR_{PROMPT,COMPLETION}_TOKENS_PER_JOB``)."""
    if settings is None:
        from boostqa.settings import get_settings

        settings = get_settings().budget
    prompt = float(getattr(settings, f"{stage}_prior_prompt_tokens_per_job"))
    completion = float(getattr(settings, f"{stage}_prior_completion_tokens_per_job"))
    return UsagePerJob(per_role={ANY_ROLE: (prompt, completion)}, source="prior",
                       detail=f"prior BOOSTQA_BUDGET__{stage.upper()}_PRIOR_*_TOKENS_PER_JOB (no earlier run measured)")


def _usage(per_run: dict[str, dict[str, Any]], source: str) -> UsagePerJob | None:
    """Average over runs: per role, the runs' tokens / the runs' jobs (a run's jobs = its most items of a role)."""
    runs = sorted(r for r, v in per_run.items() if v["jobs"] > 0)
    jobs = sum(per_run[r]["jobs"] for r in runs)
    if not jobs:
        return None
    totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for run in runs:
        for role, (prompt, completion) in per_run[run]["roles"].items():
            totals[role][0] += prompt
            totals[role][1] += completion
    return UsagePerJob(per_role={role: (p / jobs, c / jobs) for role, (p, c) in totals.items()}, source="history",
                       detail=f"{source}, {len(runs)} runs, {jobs} jobs", runs=runs)


def _quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def usage_from_warehouse(warehouse_path: Path, stage: str, runs: int = 5, exclude_run: str | None = None
                         ) -> UsagePerJob | None:
    """Tokens per job of the latest ``runs`` runs of ``stage`` in ``marts.fct_llm_usage``.

    Read from the published snapshot, so dbt's lock never matters; None when it or the stage's history is missing.
    """
    from boostqa.warehouse import query, snapshot_path, warehouse_snapshot

    if not snapshot_path(warehouse_path).exists():
        return None
    sql = f"""
        with usage as (
            select * from marts.fct_llm_usage
            where stage = {_quoted(stage)} and run_id != {_quoted(layout.BOOTSTRAP_RUN)}
              and run_id != {_quoted(exclude_run or '')}
        ),
        latest as (
            select run_id, max(items) as jobs from usage group by run_id having max(items) > 0
            order by run_id desc limit {int(runs)}
        )
        select usage.run_id, usage.role, latest.jobs, sum(usage.all_prompt_tokens) as prompt_tokens,
               sum(usage.all_completion_tokens) as completion_tokens
        from usage join latest using (run_id)
        group by all
    """
    with warehouse_snapshot(warehouse_path) as snapshot:
        rows = query(snapshot, sql)
    per_run: dict[str, dict[str, Any]] = {}
    for row in rows:
        run = per_run.setdefault(row["run_id"], {"jobs": int(row["jobs"]), "roles": {}})
        run["roles"][row["role"]] = (float(row["prompt_tokens"] or 0), float(row["completion_tokens"] or 0))
    return _usage(per_run, "fct_llm_usage")


def usage_from_lake(store: ObjectStore, stage: str, runs: int = 5, exclude_run: str | None = None
                    ) -> UsagePerJob | None:
    """Tokens per job of the latest ``runs`` runs of ``stage`` from their ledger parts in the lake; None if none."""
    by_run: dict[str, list[str]] = defaultdict(list)
    for key in store.list_keys(layout.ledger_stage_prefix(stage)):
        run = key.split("/run_id=", 1)[-1].split("/", 1)[0]
        if key.endswith(".parquet") and run not in (layout.BOOTSTRAP_RUN, exclude_run):
            by_run[run].append(key)
    per_run: dict[str, dict[str, Any]] = {}
    columns = ["role", "item_id", "prompt_tokens", "completion_tokens"]
    for run in sorted(by_run, reverse=True):
        rows = [row for key in by_run[run]
                for row in read_object(store, key, columns).to_pylist()]
        items: dict[str, set[str]] = defaultdict(set)
        roles: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
        for row in rows:
            items[row["role"]].add(row["item_id"])
            roles[row["role"]][0] += row["prompt_tokens"] or 0
            roles[row["role"]][1] += row["completion_tokens"] or 0
        jobs = max((len(v) for v in items.values()), default=0)
        if jobs:
            per_run[run] = {"jobs": jobs, "roles": {r: (p, c) for r, (p, c) in roles.items()}}
        if len(per_run) >= runs:
            break
    return _usage(per_run, "lake ledger")


def measure_usage(stage: str, prior: UsagePerJob, store: ObjectStore | None = None,
                  warehouse_path: Path | None = None, runs: int = 5, exclude_run: str | None = None) -> UsagePerJob:
    """Tokens per job of ``stage``: the warehouse mart first, then the lake's ledgers, then ``prior``.

    A warehouse that cannot be read (missing, older than the mart's columns) is logged and skipped.
    """
    if warehouse_path is not None:
        try:
            found = usage_from_warehouse(warehouse_path, stage, runs, exclude_run)
        except Exception as exc:  # an unreadable or outdated warehouse must not block the run: the lake has it too
            log.warning("tokens per job not read from the warehouse %s (%s); trying the lake", warehouse_path, exc)
            found = None
        if found is not None:
            return found
    if store is not None and (found := usage_from_lake(store, stage, runs, exclude_run)) is not None:
        return found
    return prior
