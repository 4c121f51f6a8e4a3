"""The closed loop's guard: a plan that only a new evaluation triggered is published only on a changed probe.

An evaluation feeds the deficiency probe, which feeds the mixing ratios and the next plan; publishing that plan starts
synthesis, a new mixture, a new checkpoint and a new evaluation. Without a guard the chain would turn forever. Each
plan keeps the probe it was built from (``plans/plan_id=<id>/deficiency_probe.parquet``); a build triggered by
evaluations alone publishes its plan only when some bucket's deficiency moved by at least ``replan_min_change``
from the latest published plan's probe, and at most ``replan_max_rounds`` times in a row: every new checkpoint's
evaluation moves a small probe a little, so the count, kept in ``plans/latest.json``, is what ends the chain. New
seeds or annotations, or a run by hand, always publish and start the count again.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, Field

from boostqa.lake import layout
from boostqa.lake.read import dbt_export
from boostqa.lake.store import ObjectStore
from boostqa.lake.versions import read_pointer
from boostqa.stage_config import StageConfig

PROBE_NAME = "deficiency_probe.parquet"
Bucket = tuple[str, int]


class ReplanConfig(StageConfig):
    """The warehouse_build params of the guard."""

    stage: ClassVar[str] = "planning"

    replan_min_change: float = Field(0.02, ge=0, le=1, description="when only an evaluation triggered the build: "
                                     "publish its plan only if some bucket's deficiency moved at least this much "
                                     "from the latest plan's probe (0 publishes on any change)")
    replan_max_rounds: int = Field(3, ge=0, description="plans that evaluations alone may publish in a row; then "
                                   "the loop waits for new seeds or annotations (or a run by hand)")


class ReplanDecision(BaseModel):
    """Whether to publish a plan, and why (logged, and returned to XCom)."""

    publish: bool
    reason: str
    previous_plan_id: str | None = None
    probe_change: float | None = None
    evaluation_rounds: int = Field(default=0, description="evaluation-only plans in a row, this one included")


def plan_probe(store: ObjectStore, plan_id: str) -> dict[Bucket, float] | None:
    """Deficiency per (discipline, difficulty) bucket of the probe a plan was built from; None without one."""
    data = store.get_bytes_or_none(layout.plan_object(plan_id, PROBE_NAME))
    if data is None:
        return None
    rows = dbt_export(data, ["model_id", "discipline_id", "difficulty", "deficiency"]).to_pylist()
    return {(str(r["discipline_id"]), int(r["difficulty"])): float(r["deficiency"]) for r in rows}


def probe_change(new: dict[Bucket, float], old: dict[Bucket, float]) -> float:
    """The largest move of any bucket's deficiency (a bucket missing on one side counts as 0 there)."""
    return max((abs(new.get(b, 0.0) - old.get(b, 0.0)) for b in new.keys() | old.keys()), default=0.0)


def replan_decision(store: ObjectStore, plan_id: str, evaluations_only: bool, min_change: float,
                    max_rounds: int = 3) -> ReplanDecision:
    """Whether the plan ``plan_id`` dbt just exported should become the latest (see the module's docstring)."""
    if not evaluations_only:
        return ReplanDecision(publish=True, reason="new seeds or annotations, or a run by hand")
    previous = read_pointer(store, "plans")
    if previous is None:
        return ReplanDecision(publish=True, reason="the first plan", evaluation_rounds=1)
    previous_id, rounds = str(previous["version"]), int(previous.get("evaluation_rounds", 0))
    if previous_id == plan_id:  # a retry or a cleared task after the pointer moved: announce it again
        return ReplanDecision(publish=True, reason="already the latest plan: announced again",
                              previous_plan_id=previous_id, evaluation_rounds=rounds)
    if rounds >= max_rounds:
        return ReplanDecision(publish=False, reason=f"{rounds} plans in a row came from evaluations alone (at most "
                              f"{max_rounds}): the loop waits for new seeds or annotations, or a run by hand",
                              previous_plan_id=previous_id, evaluation_rounds=rounds)
    new, old = plan_probe(store, plan_id), plan_probe(store, previous_id)
    if new is None or old is None:
        return ReplanDecision(publish=True, reason=f"no probe to compare ({'this' if new is None else 'latest'} "
                              "plan has none)", previous_plan_id=previous_id, evaluation_rounds=rounds + 1)
    change = probe_change(new, old)
    if change >= min_change and change > 0:
        return ReplanDecision(publish=True, reason=f"the probe moved by {change:.3f} (>= {min_change})",
                              previous_plan_id=previous_id, probe_change=change, evaluation_rounds=rounds + 1)
    return ReplanDecision(publish=False, reason=f"no new information: the probe moved by {change:.3f} (< "
                          f"{min_change}) since plan {previous_id}", previous_plan_id=previous_id,
                          probe_change=change, evaluation_rounds=rounds)
