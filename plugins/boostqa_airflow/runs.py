"""Run identity in Airflow: the boostqa run id of a DAG run (a Jinja macro), and ids handed over in asset events."""

from __future__ import annotations

from typing import Any

from boostqa.runs import check_id, make_run_id

# Param every DAG that writes under a run id takes: resume (or inspect) that run instead of starting a new one.
RESUME_PARAM = "resume_run_id"


def boostqa_run_id(stage: str, dag_run: Any, params: Any = None) -> str:
    """The run id of this DAG run for ``stage``; ``params.resume_run_id`` names an earlier run to continue instead.

    Derived from Airflow's own run id (unique per DAG) and ``run_after`` (set for scheduled, manual, asset-triggered
    and ``dags test`` runs alike): a retry or a cleared task of the same DAG run gets the same id, a new DAG run a
    new one, even on the same day.
    """
    resume = str((params or {}).get(RESUME_PARAM) or "").strip()
    if resume:
        return check_id(resume, RESUME_PARAM)
    return make_run_id(stage, dag_run.run_after, dag_run.run_id)


def run_id_template(stage: str) -> str:
    """A templated field's value that renders to :func:`boostqa_run_id` of the running DAG run."""
    return "{{ boostqa_run_id('" + stage + "', dag_run, params) }}"


def from_asset_events(context: Any, key: str) -> str | None:
    """``extra[key]`` of the newest triggering asset event that carries it (the id an upstream DAG handed over)."""
    events = context.get("triggering_asset_events") or {}
    newest = None
    for asset_events in events.values():
        for event in asset_events:
            if event.extra.get(key) and (newest is None or event.timestamp > newest.timestamp):
                newest = event
    return None if newest is None else str(newest.extra[key])


EVALUATION_KEY = "eval_run_id"  # in the extra of benchmark_eval's boostqa_eval event


def triggered_by_evaluations_only(context: Any) -> bool:
    """True when every asset event that triggered this run came from an evaluation (none: a run by hand)."""
    events = [e for asset_events in (context.get("triggering_asset_events") or {}).values() for e in asset_events]
    return bool(events) and all((e.extra or {}).get(EVALUATION_KEY) for e in events)


def hand_over(context: Any, outlets: Any, extra: dict[str, Any]) -> None:
    """Put ``extra`` (the ids a downstream DAG needs) on the asset events of every outlet of the running task."""
    for outlet in outlets:
        context["outlet_events"][outlet].extra = extra


MACROS = {"boostqa_run_id": boostqa_run_id}
