"""Operator of the quality_control task group: QC one synthesis run (filters, decontamination, dedup)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException
from pydantic import ValidationError

from boostqa.errors import ConfigError
from boostqa.qc.records import QcConfig
from boostqa.qc.stage import run_qc
from boostqa_airflow.constants import S3_CONN_ID
from boostqa_airflow.hooks.lake import LakeHook


def qc_config(ngram: int | str, threshold: float | str, shingle_size: int | str, num_perm: int | str,
              bands: int | str, benchmark_source: str) -> QcConfig:
    """A QC config from DAG params (strings after templating).

    Raises:
        AirflowFailException: a value is out of range; retrying would not help.
    """
    try:
        return QcConfig.model_validate({
            "decontamination": {"ngram": int(ngram)},
            "minhash": {"threshold": float(threshold), "shingle_size": int(shingle_size), "num_perm": int(num_perm),
                        "bands": int(bands)},
            "benchmark_source": benchmark_source,
        })
    except (ValueError, ValidationError) as exc:
        raise AirflowFailException(f"bad QC parameters: {exc}") from exc


class QualityControlOperator(BaseOperator):
    """Filter, decontaminate and deduplicate one synthesis run's items.

    Idempotent: a finished run is skipped unless ``force``. Returns the counts per first reason.
    """

    template_fields: Sequence[str] = ("run_id", "ngram", "threshold", "shingle_size", "num_perm", "bands",
                                      "benchmark_source", "force")

    def __init__(self, *, run_id: str, ngram: int | str = 13, threshold: float | str = 0.8,
                 shingle_size: int | str = 5, num_perm: int | str = 128, bands: int | str = 32,
                 benchmark_source: str = "local", force: bool | str = False, lake_conn_id: str = S3_CONN_ID,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.run_id, self.ngram, self.threshold = run_id, ngram, threshold
        self.shingle_size, self.num_perm, self.bands = shingle_size, num_perm, bands
        self.benchmark_source, self.force = benchmark_source, force
        self.lake_conn_id = lake_conn_id

    def execute(self, context: Any) -> dict[str, Any]:
        config = qc_config(self.ngram, self.threshold, self.shingle_size, self.num_perm, self.bands,
                           self.benchmark_source)
        force = str(self.force).lower() in ("true", "1")
        try:
            result = run_qc(LakeHook(self.lake_conn_id).get_conn(), self.run_id, config, force=force)
        except ConfigError as exc:  # e.g. an index built with other settings: a retry would fail the same way
            raise AirflowFailException(str(exc)) from exc
        self.log.info("qc %s: %d items, %d kept, removed by first reason %s", self.run_id, result.items, result.kept,
                      result.reasons)
        return result.model_dump()
