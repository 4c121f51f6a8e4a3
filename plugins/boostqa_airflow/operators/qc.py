"""Operator of the quality_control task group: one synthesis run's QC as a job on the Ray cluster."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from boostqa.jobs.spec import JobSpec, LakeLocation
from boostqa.lake.layout import GENERAL_QC_RUN
from boostqa.qc.config import QcRunConfig
from boostqa.qc.run import QcResult
from boostqa_airflow.hooks.lake import LakeHook
from boostqa_airflow.operators.ray_job import RayJobOperator
from boostqa_airflow.params import validated


def qc_config(stage_params: Mapping[str, Any] | None) -> QcRunConfig:
    """The run's typed QC params (strings after templating).

    Raises:
        AirflowFailException: a value is out of range; retrying would not help.
    """
    return validated(QcRunConfig, stage_params)


class QualityControlOperator(RayJobOperator):
    """Filter, decontaminate and deduplicate one synthesis run's items, as a job on the Ray cluster.

    Idempotent: a finished run is skipped unless ``force``. Returns the counts per first reason.
    """

    run_config: ClassVar[type[QcRunConfig]] = QcRunConfig  # the DAG's qc_* params derive from it

    def job_spec(self) -> JobSpec:
        config = qc_config(self.stage_params)
        return JobSpec(stage="qc", run_id=self.run_id, lake=LakeLocation.of(LakeHook(self.lake_conn_id).get_config()),
                       params=config.model_dump(mode="json"))

    def summarize(self, result: dict[str, Any]) -> None:
        qc = QcResult.model_validate(result)
        self.log.info("qc %s: %d items, %d kept, removed by first reason %s%s", qc.run_id, qc.items, qc.kept,
                      qc.reasons, " (already done: skipped)" if qc.skipped else "")


class GeneralCorpusQcOperator(QualityControlOperator):
    """QC of the staged general corpus (every source): the same job and params as a synthesis run's QC.

    Always redone, as staging replaces the documents; its decisions and index entries replace the previous ones.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(run_id=GENERAL_QC_RUN, **kwargs)

    def job_spec(self) -> JobSpec:
        spec = super().job_spec()
        return spec.model_copy(update={"params": {**spec.params, "force": True}})
