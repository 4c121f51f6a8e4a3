"""What each stage job does on the cluster: one function per stage, from its typed run config to a small result."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from boostqa.jobs.spec import JobSpec, StageName
from boostqa.lake.store import ObjectStore
from boostqa.qc.config import QcRunConfig
from boostqa.qc.pipeline import LocalTasks, RayTasks, Tasks
from boostqa.qc.run import run_parts, run_qc


def qc_job(store: ObjectStore, spec: JobSpec, on_ray: bool | None = None) -> dict[str, Any]:
    """QC one synthesis run (filters, decontamination, exact and near dedup) unless it is done.

    On a Ray cluster (a job's driver has ``RAY_ADDRESS``; or ``on_ray``) a run of at least ``distributed_min_items``
    items runs its phases as Ray tasks spread over the cluster; smaller runs, and every run elsewhere, in this
    process. The result is the same either way.
    """
    config = QcRunConfig.model_validate(spec.params)
    distributed = bool(os.environ.get("RAY_ADDRESS")) if on_ray is None else on_ray
    parts = run_parts(store, spec.run_id)
    tasks: Tasks = LocalTasks()
    if distributed and sum(rows for _, rows in parts) >= config.distributed_min_items:
        tasks = RayTasks()
    return run_qc(store, spec.run_id, config.qc_config(), force=config.force, tasks=tasks, parts=parts).model_dump()


STAGES: dict[StageName, Callable[[ObjectStore, JobSpec], dict[str, Any]]] = {"qc": qc_job}
