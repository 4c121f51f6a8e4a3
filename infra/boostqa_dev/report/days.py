"""One row per scheduled day of a multi-day demo: what the day planned, called, kept, and how the corpus grew."""

from __future__ import annotations

from pydantic import BaseModel
from rich.table import Table

from boostqa.lake import layout
from boostqa.lake.read import read_prefix
from boostqa.lake.store import ObjectStore
from boostqa.lake.versions import read_pointer

SYNTHESIZE = "synthesize"


class DayRow(BaseModel):
    """What one day's scheduled chain did (read back from the lake)."""

    day: str
    plan_id: str
    jobs_planned: int
    synthesis_run_id: str | None
    jobs_run: int
    new_calls: int
    cache_hits: int
    billed_tokens: int
    projected_tokens: int | None
    budget_tokens: int | None
    items_kept: int
    corpus_items: int
    mixture_version: str
    mixture_samples: int
    mixture_boostqa: int  # the BoostQA part: grows with the corpus (the general part follows a per-version draw)


def run_ids(store: ObjectStore, prefix: str) -> set[str]:
    """Run ids partitioning ``prefix`` (``<prefix>run_id=<id>/...``), the bootstrap run left out."""
    ids = {key[len(prefix):].split("/", 1)[0].removeprefix("run_id=") for key in store.list_keys(prefix)}
    return {i for i in ids if i and i != layout.BOOTSTRAP_RUN}


def _rows(store: ObjectStore, prefix: str, columns: list[str]) -> list[dict[str, object]]:
    table = read_prefix(store, prefix, columns)
    return [] if table is None else table.to_pylist()


def day_row(store: ObjectStore, day: str, synthesis_run_id: str | None) -> DayRow:
    """The row of ``day``: its plan, its synthesis run (None when the plan was empty), the corpus and mixture after."""
    plan = read_pointer(store, "plans") or {}
    mixture = read_pointer(store, "mixtures") or {}
    jobs = ledger = kept = budget = []
    if synthesis_run_id:
        budget = _rows(store, layout.budget_record_key(SYNTHESIZE, synthesis_run_id),
                       ["projected_tokens", "run_budget_tokens"])
        jobs = _rows(store, layout.synthesis_jobs_snapshot(synthesis_run_id), ["job_id"])
        ledger = _rows(store, layout.ledger_prefix(SYNTHESIZE, synthesis_run_id),
                       ["cache_hit", "prompt_tokens", "completion_tokens"])
        kept = _rows(store, f"{layout.qc_table_prefix('kept')}run_id={synthesis_run_id}/", ["item_id"])
    general = f"{layout.qc_table_prefix('kept')}run_id={layout.GENERAL_QC_RUN}/"
    corpus = {r["item_id"] for key in store.list_keys(layout.qc_table_prefix("kept")) if not key.startswith(general)
              for r in _rows(store, key, ["item_id"])}  # BoostQA items only, not the general corpus' documents
    called = [r for r in ledger if not r["cache_hit"]]
    return DayRow(
        day=day, plan_id=str(plan.get("version", "-")), jobs_planned=int(plan.get("jobs", 0)),
        synthesis_run_id=synthesis_run_id, jobs_run=len(jobs), new_calls=len(called),
        cache_hits=len(ledger) - len(called),
        billed_tokens=sum(int(r["prompt_tokens"]) + int(r["completion_tokens"]) for r in called),  # type: ignore[call-overload]
        projected_tokens=budget[0]["projected_tokens"] if budget else None,  # type: ignore[arg-type]
        budget_tokens=budget[0]["run_budget_tokens"] if budget else None,  # type: ignore[arg-type]
        items_kept=len(kept), corpus_items=len(corpus), mixture_version=str(mixture.get("version", "-")),
        mixture_samples=int(mixture.get("samples", 0)), mixture_boostqa=int(mixture.get("boostqa_samples", 0)),
    )


def _tokens(value: int | None) -> str:
    return "no cap" if value is None else f"{value:,}"


def days_table(rows: list[DayRow]) -> Table:
    """The per-day growth table the multi-day demo prints."""
    table = Table(title="scheduled days (each a new plan, synthesis run and mixture version; the corpus only grows)")
    for column in ("day", "plan", "jobs planned", "jobs run", "new calls", "cache hits", "billed tokens",
                   "projected", "budget", "kept", "corpus", "mixture", "samples", "boostqa"):
        table.add_column(column, justify="left" if column in ("day", "plan", "mixture") else "right")
    for r in rows:
        projected = "-" if r.projected_tokens is None else f"{r.projected_tokens:,}"
        table.add_row(r.day, r.plan_id, str(r.jobs_planned), str(r.jobs_run), str(r.new_calls), str(r.cache_hits),
                      f"{r.billed_tokens:,}", projected, _tokens(r.budget_tokens), str(r.items_kept),
                      str(r.corpus_items), r.mixture_version, str(r.mixture_samples),
                      str(r.mixture_boostqa))
    return table
