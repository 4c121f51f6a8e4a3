"""What each stage job does on the cluster: one function per stage, from its typed run config to a small result."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from boostqa.jobs.spec import JobSpec, StageName
from boostqa.lake.store import ObjectStore
from boostqa.qc.config import QcRunConfig
from boostqa.qc.stage import run_qc


def qc_job(store: ObjectStore, spec: JobSpec) -> dict[str, Any]:
    """QC one synthesis run (filters, decontamination, exact and near dedup) unless it is done."""
    config = QcRunConfig.model_validate(spec.params)
    return run_qc(store, spec.run_id, config.qc_config(), force=config.force).model_dump()


STAGES: dict[StageName, Callable[[ObjectStore, JobSpec], dict[str, Any]]] = {"qc": qc_job}
