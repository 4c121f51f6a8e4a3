"""Operators of the ``seed_ingest`` DAG: list sources, ingest one source, publish the seeds asset."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from functools import cached_property
from typing import Any, ClassVar

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException

from boostqa.errors import ConfigError
from boostqa.ingest.config import get_source, load_sources
from boostqa.ingest.run_config import IngestRunConfig
from boostqa.ingest.runner import ingest_source
from boostqa.qc.decontaminate import decontaminator_for
from boostqa_airflow.constants import S3_CONN_ID
from boostqa_airflow.failfast import fails_fast
from boostqa_airflow.hooks.lake import LakeHook
from boostqa_airflow.params import validated
from boostqa_airflow.runs import hand_over


@fails_fast
class ListSeedSourcesOperator(BaseOperator):
    """Return the names of the enabled seed sources (the list the ingest task is mapped over)."""

    run_config: ClassVar[type[IngestRunConfig]] = IngestRunConfig  # the DAG's params derive from it
    template_fields: Sequence[str] = ("stage_params",)

    def __init__(self, *, stage_params: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.stage_params = dict(stage_params or {})

    def execute(self, context: Any) -> list[str]:
        try:
            names = [s.name for s in load_sources(validated(self.run_config, self.stage_params).sources_path())]
        except ConfigError as exc:
            raise AirflowFailException(str(exc)) from exc
        self.log.info("enabled seed sources: %s", names)
        return names


@fails_fast
class IngestSeedSourceOperator(BaseOperator):
    """Ingest one seed source for the logical date into the raw zone; bad rows go to quarantine."""

    run_config: ClassVar[type[IngestRunConfig]] = IngestRunConfig
    template_fields: Sequence[str] = ("source_name", "ingest_date", "stage_params")

    def __init__(self, *, source_name: str, ingest_date: str = "{{ ds }}",
                 stage_params: Mapping[str, Any] | None = None, lake_conn_id: str = S3_CONN_ID,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.source_name, self.ingest_date = source_name, ingest_date
        self.stage_params, self.lake_conn_id = dict(stage_params or {}), lake_conn_id

    @cached_property
    def hook(self) -> LakeHook:
        return LakeHook(self.lake_conn_id)

    def execute(self, context: Any) -> dict[str, Any]:
        config = validated(self.run_config, self.stage_params)
        try:
            source = get_source(config.sources_path(), self.source_name)
            logical_date = date.fromisoformat(self.ingest_date)
            store = self.hook.get_conn()
            decontaminator = decontaminator_for(config.benchmarks(), store.config)
        except (ConfigError, ValueError) as exc:
            raise AirflowFailException(str(exc)) from exc
        result = ingest_source(source, logical_date, store, rows_per_part=config.rows_per_part,
                               decontaminator=decontaminator)
        self.log.info("%s: %d valid, %d quarantined %s", result.source, result.rows_valid, result.rows_quarantined,
                      result.quarantine_reasons)
        return result.model_dump(mode="json")


@fails_fast
class PublishSeedsOperator(BaseOperator):
    """Sum the per-source results and emit the seeds asset event with the counts as its extra."""

    template_fields: Sequence[str] = ("results",)

    def __init__(self, *, results: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.results = results

    def execute(self, context: Any) -> dict[str, Any]:
        results = list(self.results)
        summary = {
            "sources": len(results),
            "rows_valid": sum(r["rows_valid"] for r in results),
            "rows_quarantined": sum(r["rows_quarantined"] for r in results),
            "manifests": sorted(r["manifest_uri"] for r in results),
        }
        hand_over(context, self.outlets, {k: v for k, v in summary.items() if k != "manifests"})
        self.log.info("seeds published: %s", summary)
        return summary
