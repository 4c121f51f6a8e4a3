"""Generation plans in the lake: each warehouse build exports a new plan_id; publishing points ``latest`` at it."""

from __future__ import annotations

import logging
from typing import Any

from boostqa.errors import LakeError
from boostqa.lake import layout
from boostqa.lake.read import dbt_export
from boostqa.lake.store import ObjectStore
from boostqa.lake.versions import write_pointer

log = logging.getLogger(__name__)
JOBS_NAME = "synthesis_jobs.parquet"


def plan_jobs(store: ObjectStore, plan_id: str) -> int:
    """How many synthesis jobs the plan holds.

    Raises:
        LakeError: the plan was never exported (its warehouse build failed or has not run).
    """
    key = layout.plan_object(plan_id, JOBS_NAME)
    data = store.get_bytes_or_none(key)
    if data is None:
        raise LakeError(f"plan {plan_id} has no jobs at {store.config.uri(key)}: the warehouse_build run that "
                        "names it did not export it")
    return int(dbt_export(data, ["job_id"]).num_rows)


def publish_plan(store: ObjectStore, plan_id: str, **facts: Any) -> dict[str, Any]:
    """Point ``plans/latest.json`` at a plan dbt has exported (after its objects); returns the pointer.

    ``facts`` are kept in the pointer beside the job count (the loop's evaluation-only rounds).
    """
    jobs = plan_jobs(store, plan_id)
    pointer = write_pointer(store, "plans", plan_id, jobs=jobs, **facts)
    if jobs == 0:
        log.info("plan %s is empty: every bucket's target is met (or no seed can serve it); synthesis will skip",
                 plan_id)
    else:
        log.info("plan %s published: %d synthesis jobs", plan_id, jobs)
    return pointer
