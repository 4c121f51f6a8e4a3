from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from unittest.mock import Mock

import pytest
from airflow.sdk.exceptions import AirflowFailException

from boostqa.ingest.config import get_source
from boostqa.ingest.runner import ingest_source
from boostqa.llm.cache import ResponseCache
from boostqa.llm.client import LlmClient
from boostqa.llm.fake import FakeTransport
from boostqa.llm.types import LlmEndpoint
from boostqa.settings import RESOURCES
from boostqa_airflow.hooks.llm import LlmHook
from boostqa_airflow.operators.annotate import AnnotateSeedsOperator
from tests.conftest import MemoryStore

REPLY = json.dumps({"discipline": "physics", "difficulty": 3, "grade_band": "high_school", "rationale": "r"})


def test_llm_hook_builds_the_role_endpoint_from_its_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    conn = {"conn_type": "openai", "host": "http://gen:8000/v1", "password": "sk-test",
            "extra": {"model": "deepseek-r1", "max_concurrency": 32}}
    monkeypatch.setenv("AIRFLOW_CONN_BOOSTQA_LLM_GENERATOR", json.dumps(conn))
    endpoint = LlmHook("generator").get_endpoint()
    assert (endpoint.role, endpoint.base_url, endpoint.model, endpoint.max_concurrency) == (
        "generator", "http://gen:8000/v1", "deepseek-r1", 32)
    assert endpoint.api_key.get_secret_value() == "sk-test"


def test_annotate_operator_labels_pending_seeds_through_its_hooks(memory_store: MemoryStore, tmp_path: Path) -> None:
    ingest_source(get_source(RESOURCES / "seed_sources.yaml", "community_dump"), date(2026, 11, 25), memory_store)
    endpoint = LlmEndpoint(role="annotator", base_url="http://fake/v1", model="tiny")
    client = LlmClient(endpoint, FakeTransport(lambda m: REPLY), ResponseCache(tmp_path / "c.sqlite"), "annotate_x")
    operator = AnnotateSeedsOperator(task_id="annotate", run_id="annotate_x",
                                     stage_params={"limit": "None", "shard_size": "1"})
    operator.lake = Mock(get_conn=Mock(return_value=memory_store))  # type: ignore[method-assign]
    operator.llm = Mock(get_client=Mock(return_value=client))  # type: ignore[method-assign]
    result = operator.execute(context={})
    assert (result["pending"], result["annotated"], result["quarantined"], result["shards"]) == (2, 2, 0, 2)
    operator.llm.get_client.assert_called_once_with("annotate_x")


def test_bad_parameters_fail_without_retry() -> None:
    operator = AnnotateSeedsOperator(task_id="annotate", stage_params={"limit": "many"})
    operator.lake = Mock()  # type: ignore[method-assign]
    with pytest.raises(AirflowFailException, match="bad annotate parameters"):
        operator.execute(context={})
    operator.lake.get_conn.assert_not_called()


def test_an_annotate_run_over_its_token_budget_fails_before_any_call(memory_store: MemoryStore, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from boostqa.settings import get_settings

    ingest_source(get_source(RESOURCES / "seed_sources.yaml", "community_dump"), date(2026, 11, 25), memory_store)
    calls: list[object] = []
    endpoint = LlmEndpoint(role="annotator", base_url="http://fake/v1", model="tiny")
    client = LlmClient(endpoint, FakeTransport(lambda m: calls.append(m) or REPLY), ResponseCache(tmp_path / "c"),
                       "annotate_y")
    operator = AnnotateSeedsOperator(task_id="annotate", run_id="annotate_y",
                                     stage_params={"limit": "None", "shard_size": "1"})
    operator.lake = Mock(get_conn=Mock(return_value=memory_store))  # type: ignore[method-assign]
    operator.llm = Mock(get_client=Mock(return_value=client))  # type: ignore[method-assign]
    monkeypatch.setenv("BOOSTQA_BUDGET__ANNOTATE_RUN_TOKENS", "10")
    monkeypatch.setenv("BOOSTQA_WAREHOUSE_PATH", str(tmp_path / "none.duckdb"))
    get_settings.cache_clear()
    try:
        with pytest.raises(AirflowFailException, match="annotate"):
            operator.execute(context={})
    finally:
        get_settings.cache_clear()
    assert calls == []
    (key,) = [k for k in memory_store.objects if k.startswith("llm/budgets/stage=annotate/run_id=annotate_y/")]
    assert key.endswith(".parquet")
