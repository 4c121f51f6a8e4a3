"""What each stage job does on the cluster: one function per stage, from its typed run config to a small result."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from boostqa.jobs.spec import JobSpec, StageName
from boostqa.lake.store import ObjectStore
from boostqa.qc.config import QcRunConfig
from boostqa.qc.distributed import run_items, screen_on_ray
from boostqa.qc.stage import run_qc, screen_here


def qc_job(store: ObjectStore, spec: JobSpec, on_ray: bool | None = None) -> dict[str, Any]:
    """QC one synthesis run (filters, decontamination, exact and near dedup) unless it is done.

    On a Ray cluster (a job's driver has ``RAY_ADDRESS``; or ``on_ray``) a run of at least ``distributed_min_items``
    items is screened by a Ray Data job over its parts; smaller runs, and every run elsewhere, in this process. The
    result is the same either way.
    """
    config = QcRunConfig.model_validate(spec.params)
    distributed = bool(os.environ.get("RAY_ADDRESS")) if on_ray is None else on_ray
    screener = screen_here
    if distributed and run_items(store, spec.run_id) >= config.distributed_min_items:
        screener = screen_on_ray
    return run_qc(store, spec.run_id, config.qc_config(), force=config.force, screener=screener).model_dump()


STAGES: dict[StageName, Callable[[ObjectStore, JobSpec], dict[str, Any]]] = {"qc": qc_job}
