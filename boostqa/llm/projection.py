"""Pre-flight check of a run's projected LLM spend against its budget, and the budget record dbt reports on."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path

from pydantic import BaseModel, Field

from boostqa.errors import ConfigError
from boostqa.lake import layout
from boostqa.lake.parquet import write_rows
from boostqa.lake.store import ObjectStore
from boostqa.lake.tables import BUDGET_SCHEMA
from boostqa.llm.budget import CommittedSpend, SpendBudget, committed_spend
from boostqa.llm.history import UsagePerJob
from boostqa.llm.prices import PriceList, UnknownModelPrice

log = logging.getLogger(__name__)


class BudgetExceeded(ConfigError):
    """The projected spend of a run does not fit its budget: the run fails before any LLM call (no retry)."""


class Projection(BaseModel):
    """What a run is expected to spend: planned jobs x measured (or prior) tokens per job, priced."""

    stage: str
    run_id: str
    day: str | None
    jobs: int
    tokens_per_job: float
    prompt_tokens_per_job: float
    completion_tokens_per_job: float
    usage_source: str = Field(description="history | prior")
    usage_detail: str
    projected_tokens: int
    projected_usd: float | None = Field(description="None when a model is not priced")
    unpriced_models: list[str] = Field(default_factory=list)
    price_version: str
    committed: CommittedSpend

    def describe(self) -> str:
        """One line: jobs x tokens/job (source) = tokens / USD."""
        usd = f"${self.projected_usd:,.4f}" if self.projected_usd is not None else "USD unknown"
        return (f"{self.jobs:,} jobs x {self.tokens_per_job:,.0f} tokens/job ({self.usage_source}: "
                f"{self.usage_detail}) = {self.projected_tokens:,} tokens / {usd} at prices {self.price_version}")


def project_spend(jobs: int, usage: UsagePerJob, prices: PriceList, role_models: Mapping[str, str], *,
                  stage: str, run_id: str, committed: CommittedSpend | None = None) -> Projection:
    """Project ``jobs`` jobs at ``usage`` tokens per job.

    Each role's tokens are priced at the model now configured for that role (``role_models``: role -> served model);
    tokens of a role not configured (a prior's) are priced at the dearest configured model.
    """
    if jobs < 0:
        raise ValueError(f"jobs must be >= 0, got {jobs}")
    models = sorted(set(role_models.values()))
    usd: float | None = 0.0
    unpriced: set[str] = set()
    for role, (prompt, completion) in usage.per_role.items():
        candidates = [role_models[role]] if role in role_models else models
        missing = [m for m in candidates if not prices.is_priced(m)]
        if missing or not candidates:
            unpriced.update(missing or ["<no model configured>"])
            usd = None
        elif usd is not None:
            usd += prices.max_cost(candidates, prompt * jobs, completion * jobs)
    return Projection(
        stage=stage, run_id=run_id, day=committed.day if committed else None, jobs=jobs,
        tokens_per_job=usage.tokens, prompt_tokens_per_job=usage.prompt_tokens,
        completion_tokens_per_job=usage.completion_tokens, usage_source=usage.source, usage_detail=usage.detail,
        projected_tokens=round(usage.tokens * jobs), projected_usd=usd, unpriced_models=sorted(unpriced),
        price_version=prices.version, committed=committed or CommittedSpend(day=None),
    )


def _fits(projection: Projection, budget: SpendBudget) -> list[str]:
    """The caps the projection passes, each with its numbers."""
    c, p = projection.committed, projection
    usd = p.projected_usd or 0.0
    checks = [
        ("run tokens", budget.run_tokens, c.run.tokens, p.projected_tokens, "{:,.0f} tokens"),
        ("run USD", budget.run_usd, c.run.usd, usd, "${:,.4f}"),
        (f"day {c.day} tokens", budget.day_tokens, c.day_total.tokens, p.projected_tokens, "{:,.0f} tokens"),
        (f"day {c.day} USD", budget.day_usd, c.day_total.usd, usd, "${:,.4f}"),
    ]
    over = []
    for name, cap, spent, projected, fmt in checks:
        if cap is not None and spent + projected > cap:
            over.append(f"{name}: projected {fmt.format(projected)} + already spent {fmt.format(spent)} > budget "
                        f"{fmt.format(cap)} (remaining {fmt.format(max(cap - spent, 0))})")
    return over


def max_jobs_within(projection: Projection, budget: SpendBudget) -> int | None:
    """The most jobs that fit every cap at the projection's cost per job (None: no cap applies)."""
    c, p = projection.committed, projection
    per_job_usd = (p.projected_usd / p.jobs) if p.jobs and p.projected_usd is not None else None
    room: list[float] = []
    for cap, spent, per_job in ((budget.run_tokens, c.run.tokens, p.tokens_per_job),
                                (budget.day_tokens, c.day_total.tokens, p.tokens_per_job),
                                (budget.run_usd, c.run.usd, per_job_usd),
                                (budget.day_usd, c.day_total.usd, per_job_usd)):
        if cap is not None and per_job:
            room.append(max(cap - spent, 0) / per_job)
    return int(min(room)) if room else None


def check_projection(projection: Projection, budget: SpendBudget) -> None:
    """Pass, or refuse the run before any LLM call.

    Raises:
        UnknownModelPrice: a USD cap is set and a configured model has no price.
        BudgetExceeded: the projection passes a cap; the message has the jobs, tokens per job and their source,
            the projected tokens and USD, the budget and what remains of the day.
    """
    if budget.has_usd_cap and projection.unpriced_models:
        raise UnknownModelPrice(
            f"{projection.stage} run {projection.run_id}: models {projection.unpriced_models} have no price in "
            f"llm_prices version {projection.price_version!r}, so the USD budget cannot be checked: add their rows "
            "or set BOOSTQA_BUDGET__DEFAULT_USD_PER_MILLION_PROMPT_TOKENS / ..._COMPLETION_TOKENS")
    over = _fits(projection, budget)
    if not over:
        return
    fit = max_jobs_within(projection, budget)
    raise BudgetExceeded(
        f"{projection.stage} run {projection.run_id} refused before any LLM call: {projection.describe()} does not "
        f"fit the budget ({budget.describe()}): {'; '.join(over)}. "
        + (f"At most {fit:,} jobs fit. " if fit is not None else "")
        + "Lower the job count (param limit), raise the budget (DAG params or BOOSTQA_BUDGET__"
        f"{projection.stage.upper()}_*), or wait for the next UTC day when only the day budget is spent."
    )


def write_budget_record(store: ObjectStore, stage: str, run_id: str, budget: SpendBudget, projection: Projection,
                        accepted: bool = True, reason: str | None = None,
                        checked_at: datetime | None = None) -> str:
    """Write the run's budget record (one row; a re-check replaces it) and return its key."""
    c = projection.committed
    row = {
        "stage": stage, "run_id": run_id, "run_day": date.fromisoformat(c.day) if c.day else None,
        "checked_at": checked_at or datetime.now(UTC), "price_version": projection.price_version,
        "run_budget_tokens": budget.run_tokens, "run_budget_usd": budget.run_usd,
        "day_budget_tokens": budget.day_tokens, "day_budget_usd": budget.day_usd,
        "jobs": projection.jobs, "tokens_per_job": projection.tokens_per_job,
        "usage_source": projection.usage_source, "usage_detail": projection.usage_detail,
        "projected_tokens": projection.projected_tokens, "projected_usd": projection.projected_usd,
        "committed_run_tokens": c.run.tokens, "committed_run_usd": c.run.usd,
        "committed_day_tokens": c.day_total.tokens, "committed_day_usd": c.day_total.usd,
        "is_accepted": accepted, "reason": reason,
    }
    key = layout.budget_record_key(stage, run_id)
    write_rows(store, key, [row], BUDGET_SCHEMA)
    return key


def preflight(store: ObjectStore, stage: str, run_id: str, jobs: int, budget: SpendBudget, prices: PriceList,
              role_models: Mapping[str, str], usage: UsagePerJob) -> Projection:
    """Before fan-out: committed spend from the lake, the projection, the budget record, then the check.

    ``jobs``: jobs still to run in this run (leave out jobs of finished shards on a resumed run).

    Raises:
        BudgetExceeded: the projection does not fit (the record says so, with the message as its reason).
        UnknownModelPrice: a USD cap is set and a configured model has no price.
    """
    committed = committed_spend(store, stage, run_id, prices)
    projection = project_spend(jobs, usage, prices, role_models, stage=stage, run_id=run_id, committed=committed)
    try:
        check_projection(projection, budget)
    except ConfigError as exc:
        write_budget_record(store, stage, run_id, budget, projection, accepted=False, reason=str(exc))
        log.error("%s", exc)
        raise
    write_budget_record(store, stage, run_id, budget, projection)
    log.info("%s run %s within budget (%s): %s", stage, run_id, budget.describe(), projection.describe())
    return projection


def preflight_stage(store: ObjectStore, stage: str, run_id: str, jobs: int, role_models: Mapping[str, str],
                    params: Mapping[str, object] | None = None, warehouse_path: Path | None = None
                    ) -> tuple[SpendBudget, Projection]:
    """``preflight`` with everything else from the settings.

    The stage's caps (``BOOSTQA_BUDGET__*``) overridden by DAG ``params`` (keys ``run_tokens``, ``run_usd``,
    ``day_tokens``, ``day_usd``; see ``SpendBudget.merged``), the price list, tokens per job measured on the latest
    ``history_runs`` runs (warehouse at ``warehouse_path``, default the settings' one, then the lake) or the stage's
    prior.

    Raises:
        BudgetExceeded: the projection does not fit. UnknownModelPrice: a USD cap and an unpriced model.
    """
    from boostqa.llm.history import measure_usage, prior_usage
    from boostqa.llm.prices import prices_from_settings
    from boostqa.settings import get_settings

    settings = get_settings()
    budget = SpendBudget.for_stage(stage, settings.budget).merged(params or {})
    usage = measure_usage(stage, prior_usage(stage, settings.budget), store,
                          warehouse_path or settings.warehouse_path, settings.budget.history_runs, exclude_run=run_id)
    return budget, preflight(store, stage, run_id, jobs, budget, prices_from_settings(), role_models, usage)
