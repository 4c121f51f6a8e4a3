from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any
from unittest.mock import Mock

import pytest
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from boostqa.annotate.config import AnnotateRunConfig
from boostqa.annotate.worklist import freeze_worklist
from boostqa.ingest.config import get_source
from boostqa.ingest.runner import ingest_source
from boostqa.llm.cache import ResponseCache
from boostqa.llm.client import LlmClient
from boostqa.llm.fake import FakeTransport
from boostqa.llm.transport import RunRefused
from boostqa.llm.types import LlmEndpoint
from boostqa.settings import RESOURCES, get_settings
from boostqa_airflow.hooks.llm import LlmHook
from boostqa_airflow.operators.annotate import (
    AnnotateShardOperator,
    FinishAnnotateRunOperator,
    FreezeAnnotateShardsOperator,
)
from tests.conftest import MemoryStore

REPLY = json.dumps({"discipline": "physics", "difficulty": 3, "grade_band": "high_school", "rationale": "r"})
PARAMS = {"limit": "None", "shard_size": "1", "samples": "1", "prompt_version": "annotate_v3"}


@pytest.fixture
def lake(memory_store: MemoryStore) -> MemoryStore:
    ingest_source(get_source(RESOURCES / "seed_sources.yaml", "community_dump"), date(2026, 11, 25), memory_store)
    return memory_store


def _hooked(operator: Any, store: MemoryStore, client: LlmClient | None = None) -> Any:
    operator.lake = Mock(get_conn=Mock(return_value=store))
    operator.llm = Mock(get_client=Mock(return_value=client), get_endpoint=Mock(return_value=Mock(model="tiny")))
    return operator


def _client(tmp_path: Path, run_id: str, calls: list[object] | None = None) -> LlmClient:
    endpoint = LlmEndpoint(role="annotator", base_url="http://fake/v1", model="tiny")
    transport = FakeTransport(lambda m: (calls.append(m) if calls is not None else None) or REPLY)
    return LlmClient(endpoint, transport, ResponseCache(tmp_path / "c.sqlite"), run_id)


@pytest.fixture
def no_warehouse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("BOOSTQA_WAREHOUSE_PATH", str(tmp_path / "none.duckdb"))  # the projection's history: none
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_llm_hook_builds_the_role_endpoint_from_its_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    conn = {"conn_type": "openai", "host": "http://gen:8000/v1", "password": "sk-test",
            "extra": {"model": "deepseek-r1", "max_concurrency": 32}}
    monkeypatch.setenv("AIRFLOW_CONN_BOOSTQA_LLM_GENERATOR", json.dumps(conn))
    endpoint = LlmHook("generator").get_endpoint()
    assert (endpoint.role, endpoint.base_url, endpoint.model, endpoint.max_concurrency) == (
        "generator", "http://gen:8000/v1", "deepseek-r1", 32)
    assert endpoint.api_key.get_secret_value() == "sk-test"


def test_freeze_then_one_task_per_shard_then_finish(lake: MemoryStore, tmp_path: Path, no_warehouse: None) -> None:
    freeze = _hooked(FreezeAnnotateShardsOperator(task_id="freeze_shards", run_id="annotate_x", stage_params=PARAMS),
                     lake)
    shards = freeze.execute(context={})
    assert shards == [0, 1]
    assert freeze.execute(context={}) == shards  # a retry keeps the frozen shards
    results = []
    for shard in shards:
        client = _client(tmp_path, "annotate_x")
        operator = _hooked(AnnotateShardOperator(task_id="annotate_shard", run_id="annotate_x", shard=shard,
                                                 stage_params=PARAMS), lake, client)
        results.append(operator.execute(context={}))
        operator.llm.get_client.assert_called_once_with("annotate_x")
        assert client.guard is not None and client.guard.share == 1 / 4  # the annotator pool's slots
    assert [(r["shard"], r["annotated"], r["skipped"]) for r in results] == [(0, 1, False), (1, 1, False)]
    finish = _hooked(FinishAnnotateRunOperator(task_id="finish_run", run_id="annotate_x", shard_results=results),
                     lake)
    result = finish.execute(context={})
    assert (result["pending"], result["annotated"], result["quarantined"], result["shards"]) == (2, 2, 0, 2)
    assert "annotations/run_id=annotate_x/_SUCCESS" in lake.objects


def test_bad_parameters_fail_without_retry() -> None:
    operator = FreezeAnnotateShardsOperator(task_id="freeze_shards", run_id="r", stage_params={"limit": "many"})
    operator.lake = Mock()  # type: ignore[method-assign]
    with pytest.raises(AirflowFailException, match="bad annotate parameters"):
        operator.execute(context={})
    operator.lake.get_conn.assert_not_called()
    unknown = FreezeAnnotateShardsOperator(task_id="freeze_shards", run_id="r", stage_params={"prompt_version": "v9"})
    unknown.lake = Mock()  # type: ignore[method-assign]
    with pytest.raises(AirflowFailException, match="bad annotate parameters"):
        unknown.execute(context={})


def test_nothing_to_annotate_skips_the_run(memory_store: MemoryStore) -> None:
    freeze = _hooked(FreezeAnnotateShardsOperator(task_id="freeze_shards", run_id="annotate_e", stage_params=PARAMS),
                     memory_store)
    with pytest.raises(AirflowSkipException, match="nothing to annotate"):
        freeze.execute(context={})


def test_an_annotate_run_over_its_token_budget_fails_before_any_call(lake: MemoryStore, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOOSTQA_BUDGET__ANNOTATE_RUN_TOKENS", "10")
    monkeypatch.setenv("BOOSTQA_WAREHOUSE_PATH", str(tmp_path / "none.duckdb"))
    get_settings.cache_clear()
    freeze = _hooked(FreezeAnnotateShardsOperator(task_id="freeze_shards", run_id="annotate_y", stage_params=PARAMS),
                     lake)
    try:
        with pytest.raises(AirflowFailException, match="annotate"):
            freeze.execute(context={})
    finally:
        get_settings.cache_clear()
    (key,) = [k for k in lake.objects if k.startswith("llm/budgets/stage=annotate/run_id=annotate_y/")]
    assert key.endswith(".parquet")
    assert not [k for k in lake.objects if k.startswith("annotations/")]  # not one shard ran


def test_a_run_the_spend_guard_stopped_is_skipped_not_failed_and_not_announced(lake: MemoryStore) -> None:
    freeze_worklist(lake, "annotate_z", AnnotateRunConfig(shard_size=1))
    capped = {"run_id": "annotate_z", "shard": 0, "seeds": 1, "stopped_at_cap": "run tokens cap 10"}
    finish = _hooked(FinishAnnotateRunOperator(task_id="finish_run", run_id="annotate_z", shard_results=[capped]),
                     lake)
    with pytest.raises(AirflowSkipException, match="spend guard stopped it"):
        finish.execute(context={})
    crashed = _hooked(FinishAnnotateRunOperator(task_id="finish_run", run_id="annotate_z", shard_results=[]), lake)
    with pytest.raises(AirflowFailException, match="clear the unfinished annotate_shard tasks"):
        crashed.execute(context={})
    assert "annotations/run_id=annotate_z/_SUCCESS" not in lake.objects


def test_a_shard_of_a_run_frozen_with_other_params_fails_without_retry(lake: MemoryStore, tmp_path: Path) -> None:
    freeze_worklist(lake, "annotate_w", AnnotateRunConfig(shard_size=1))
    calls: list[object] = []
    operator = _hooked(AnnotateShardOperator(task_id="annotate_shard", run_id="annotate_w", shard=0,
                                             stage_params=PARAMS | {"samples": "2"}), lake,
                       _client(tmp_path, "annotate_w", calls))
    with pytest.raises(AirflowFailException, match="frozen with prompt_version=annotate_v3, samples=1"):
        operator.execute(context={})
    assert calls == []


def test_a_server_that_refuses_the_run_fails_the_shard_without_retry_naming_the_connection(
        lake: MemoryStore, tmp_path: Path, no_warehouse: None) -> None:
    freeze_worklist(lake, "annotate_r", AnnotateRunConfig(shard_size=1))
    endpoint = LlmEndpoint(role="annotator", base_url="http://fake/v1", model="tiny")
    transport = FakeTransport(lambda m: RunRefused("HTTP 401: invalid api key", 401))
    client = LlmClient(endpoint, transport, ResponseCache(tmp_path / "c.sqlite"), "annotate_r")
    operator = _hooked(AnnotateShardOperator(task_id="annotate_shard", run_id="annotate_r", shard=0,
                                             stage_params=PARAMS), lake, client)
    with pytest.raises(AirflowFailException, match="connection boostqa_llm_annotator: its password"):
        operator.execute(context={})
    assert len(transport.calls) == 1  # one call, no retry
