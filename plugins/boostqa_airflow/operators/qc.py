"""Operator of the quality_control task group: QC one synthesis run (filters, decontamination, dedup)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException

from boostqa.errors import ConfigError
from boostqa.qc.config import QcRunConfig
from boostqa.qc.stage import run_qc
from boostqa_airflow.constants import S3_CONN_ID
from boostqa_airflow.hooks.lake import LakeHook
from boostqa_airflow.params import validated


def qc_config(stage_params: Mapping[str, Any] | None) -> QcRunConfig:
    """The run's typed QC params (strings after templating).

    Raises:
        AirflowFailException: a value is out of range; retrying would not help.
    """
    return validated(QcRunConfig, stage_params)


class QualityControlOperator(BaseOperator):
    """Filter, decontaminate and deduplicate one synthesis run's items.

    Idempotent: a finished run is skipped unless ``force``. Returns the counts per first reason.
    """

    run_config: ClassVar[type[QcRunConfig]] = QcRunConfig  # the DAG's qc_* params derive from it
    template_fields: Sequence[str] = ("run_id", "stage_params")

    def __init__(self, *, run_id: str, stage_params: Mapping[str, Any] | None = None,
                 lake_conn_id: str = S3_CONN_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.run_id, self.stage_params, self.lake_conn_id = run_id, dict(stage_params or {}), lake_conn_id

    def execute(self, context: Any) -> dict[str, Any]:
        config = qc_config(self.stage_params)
        try:
            result = run_qc(LakeHook(self.lake_conn_id).get_conn(), self.run_id, config.qc_config(),
                            force=config.force)
        except ConfigError as exc:  # e.g. an index built with other settings: a retry would fail the same way
            raise AirflowFailException(str(exc)) from exc
        self.log.info("qc %s: %d items, %d kept, removed by first reason %s", self.run_id, result.items, result.kept,
                      result.reasons)
        return result.model_dump()
