from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from unittest.mock import Mock

import pytest
import yaml
from airflow.sdk.exceptions import AirflowFailException

from boostqa.benchmarks.loader import load_items, mirror_editions
from boostqa.benchmarks.mirror import open_mirror
from boostqa.settings import RESOURCES
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


def test_ingest_decontaminates_seeds_against_the_benchmark_mirror_its_params_name(
        memory_store: MemoryStore, tmp_path: Path) -> None:
    mirror_editions(open_mirror(str(tmp_path / "hub")))
    arc = next(i for i in load_items(names=["arc_challenge"]) if len(i.question.split()) >= 14)
    leak = {"id": "leak-1", "q": arc.question, "opts": list(arc.choices or []), "a": "A", "topic": "physics",
            "level": 2, "lang": "en"}
    (tmp_path / "dump.jsonl").write_text(json.dumps(leak) + "\n", encoding="utf-8")
    sources = yaml.safe_load((RESOURCES / "seed_sources.yaml").read_text(encoding="utf-8"))
    (dump,) = [s for s in sources["sources"] if s["name"] == "community_dump"]
    dump["location"] = str(tmp_path / "dump.jsonl")
    (tmp_path / "sources.yaml").write_text(yaml.safe_dump(sources), encoding="utf-8")

    def ingest(**params: str) -> dict[str, Any]:
        operator = IngestSeedSourceOperator(task_id="ingest", source_name="community_dump", ingest_date="2026-11-25",
                                            stage_params={"sources_file": str(tmp_path / "sources.yaml"), **params})
        operator.hook = Mock(get_conn=Mock(return_value=memory_store))  # type: ignore[method-assign]
        return operator.execute(context={})  # type: ignore[no-any-return]

    assert ingest(benchmark_source="mirror", benchmark_mirror=str(tmp_path / "hub"))["quarantine_reasons"] == {
        "benchmark_contaminated": 1}
    with pytest.raises(AirflowFailException, match="no 'test' data of cais/mmlu"):
        ingest(benchmark_source="mirror", benchmark_mirror=str(tmp_path / "elsewhere"))
