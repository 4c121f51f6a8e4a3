"""Operators of the ``seed_ingest`` DAG: list sources, ingest one source, publish the seeds asset."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException

from boostqa.errors import ConfigError
from boostqa.ingest.config import get_source, load_sources
from boostqa.ingest.runner import ingest_source
from boostqa.settings import get_settings
from boostqa_airflow.constants import S3_CONN_ID
from boostqa_airflow.hooks.lake import LakeHook
from boostqa_airflow.runs import hand_over


def _sources_file(sources_file: str | None) -> Path:
    return Path(sources_file) if sources_file else get_settings().seed_sources


class ListSeedSourcesOperator(BaseOperator):
    """Return the names of the enabled seed sources (the list the ingest task is mapped over)."""

    template_fields: Sequence[str] = ("sources_file",)

    def __init__(self, *, sources_file: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sources_file = sources_file

    def execute(self, context: Any) -> list[str]:
        try:
            names = [s.name for s in load_sources(_sources_file(self.sources_file))]
        except ConfigError as exc:
            raise AirflowFailException(str(exc)) from exc
        self.log.info("enabled seed sources: %s", names)
        return names


class IngestSeedSourceOperator(BaseOperator):
    """Ingest one seed source for the logical date into the raw zone; bad rows go to quarantine."""

    template_fields: Sequence[str] = ("source_name", "ingest_date", "sources_file")

    def __init__(
        self,
        *,
        source_name: str,
        ingest_date: str = "{{ ds }}",
        sources_file: str | None = None,
        rows_per_part: int = 100_000,
        lake_conn_id: str = S3_CONN_ID,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.source_name = source_name
        self.ingest_date = ingest_date
        self.sources_file = sources_file
        self.rows_per_part = rows_per_part
        self.lake_conn_id = lake_conn_id

    @cached_property
    def hook(self) -> LakeHook:
        return LakeHook(self.lake_conn_id)

    def execute(self, context: Any) -> dict[str, Any]:
        try:
            source = get_source(_sources_file(self.sources_file), self.source_name)
            logical_date = date.fromisoformat(self.ingest_date)
        except (ConfigError, ValueError) as exc:
            raise AirflowFailException(str(exc)) from exc
        result = ingest_source(source, logical_date, self.hook.get_conn(), rows_per_part=self.rows_per_part)
        self.log.info("%s: %d valid, %d quarantined %s", result.source, result.rows_valid, result.rows_quarantined,
                      result.quarantine_reasons)
        return result.model_dump(mode="json")


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
