from __future__ import annotations

from typing import Any
from unittest.mock import Mock

import pytest
from airflow.sdk.exceptions import AirflowFailException

from boostqa_airflow.operators.ingest import (
    IngestSeedSourceOperator,
    ListSeedSourcesOperator,
    PublishSeedsOperator,
)
from tests.conftest import MemoryStore


def test_list_sources_returns_the_enabled_names() -> None:
    names = ListSeedSourcesOperator(task_id="list").execute(context={})
    assert names == ["stem_exam_en", "cn_exam_zh", "open_stem_qa", "community_dump"]


def test_ingest_operator_calls_the_library_through_its_hook(memory_store: MemoryStore) -> None:
    operator = IngestSeedSourceOperator(task_id="ingest", source_name="community_dump", ingest_date="2026-11-25")
    operator.hook = Mock(get_conn=Mock(return_value=memory_store))  # type: ignore[method-assign]
    result = operator.execute(context={})
    assert result["rows_valid"] == 2 and result["rows_quarantined"] == 15
    assert result["manifest_uri"] == (
        "s3://test-bucket/raw/seeds/source=community_dump/ingest_date=2026-11-25/_manifest.json")
    assert any(k.startswith("quarantine/ingest/run_id=ingest_2026-11-25/") for k in memory_store.objects)


@pytest.mark.parametrize(("source", "day"), [("no_such_source", "2026-11-25"), ("cn_exam_zh", "not-a-date")])
def test_bad_params_fail_without_retry(source: str, day: str) -> None:
    operator = IngestSeedSourceOperator(task_id="ingest", source_name=source, ingest_date=day)
    operator.hook = Mock()  # type: ignore[method-assign]
    with pytest.raises(AirflowFailException):
        operator.execute(context={})
    operator.hook.get_conn.assert_not_called()


def test_publish_sums_results_into_the_asset_event() -> None:
    asset = object()
    events: dict[Any, Any] = {asset: Mock()}
    operator = PublishSeedsOperator(task_id="publish", results=[])
    operator.results = [
        {"rows_valid": 3, "rows_quarantined": 1, "manifest_uri": "s3://b/2"},
        {"rows_valid": 4, "rows_quarantined": 0, "manifest_uri": "s3://b/1"},
    ]
    operator.outlets = [asset]  # type: ignore[list-item]
    summary = operator.execute(context={"outlet_events": events})
    assert summary == {"sources": 2, "rows_valid": 7, "rows_quarantined": 1, "manifests": ["s3://b/1", "s3://b/2"]}
    assert events[asset].extra == {"sources": 2, "rows_valid": 7, "rows_quarantined": 1}
