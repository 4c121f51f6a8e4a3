from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from boostqa.errors import ConfigError
from boostqa.llm.cache import ResponseCache
from boostqa.llm.cache_postgres import PostgresResponseCache
from boostqa.llm.client import LlmClient
from boostqa.llm.fake import FakeTransport
from boostqa.settings import get_settings
from boostqa_airflow.constants import LLM_CACHE_CONN_ID, LLM_CONN_IDS, LLM_ROLES
from boostqa_airflow.hooks.llm import LlmHook
from tests.boostqa.llm.cache_backends import REPLY, Label, request
from tests.postgres_server import PostgresServer

CACHE_ENV = f"AIRFLOW_CONN_{LLM_CACHE_CONN_ID.upper()}"


@pytest.fixture
def role_connections(monkeypatch: pytest.MonkeyPatch) -> None:
    for role, conn_id in LLM_CONN_IDS.items():
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(
            {"conn_type": "openai", "host": "http://llm:8000/v1", "password": "sk-test", "extra": {"model": role}}))


@pytest.fixture
def state_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    monkeypatch.setenv("BOOSTQA_STATE_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def _cache_connection(server: PostgresServer, database: str, **extra: str) -> str:
    return json.dumps({"conn_type": "postgres", "host": "127.0.0.1", "port": server.port, "login": "postgres",
                       "password": server.password, "schema": database, "extra": extra})


@pytest.mark.usefixtures("role_connections")
def test_without_the_cache_connection_clients_use_the_sqlite_file(monkeypatch: pytest.MonkeyPatch,
                                                                  state_dir: Path) -> None:
    monkeypatch.delenv(CACHE_ENV, raising=False)
    client = LlmHook("annotator").get_client("r1")
    assert isinstance(client.cache, ResponseCache)
    assert client.cache.path == state_dir / "llm" / "response_cache.sqlite"


@pytest.mark.usefixtures("role_connections")
def test_a_postgres_cache_connection_gives_every_role_one_cache_in_that_database(
        monkeypatch: pytest.MonkeyPatch, postgres_server: PostgresServer) -> None:
    postgres_server.create_database("boostqa_hook")
    monkeypatch.setenv(CACHE_ENV, _cache_connection(postgres_server, "boostqa_hook"))
    caches = [LlmHook(role).get_client("r1").cache for role in LLM_ROLES]
    assert isinstance(caches[0], PostgresResponseCache) and all(c is caches[0] for c in caches)  # one session

    transport = FakeTransport(lambda m: REPLY)
    endpoint = LlmHook("annotator").get_endpoint()
    outcome = asyncio.run(LlmClient(endpoint, transport, caches[0], "r1").generate(request(), Label))
    replay = asyncio.run(LlmClient(endpoint, transport, LlmHook("annotator").get_cache(), "r2")
                         .generate(request(), Label))
    assert not outcome.cache_hit and replay.cache_hit and len(transport.calls) == 1
    rows = postgres_server.execute("select count(*) from boostqa_llm_cache.responses", dbname="boostqa_hook")
    assert rows == [(1,)]  # the connection's database (its schema field), the default cache schema


@pytest.mark.usefixtures("role_connections")
def test_the_connection_extras_choose_the_cache_schema_and_pass_libpq_parameters(
        monkeypatch: pytest.MonkeyPatch, postgres_server: PostgresServer) -> None:
    monkeypatch.setenv(CACHE_ENV, _cache_connection(postgres_server, "postgres", cache_schema="llm_cache_alt",
                                                    sslmode="disable", application_name="boostqa-hook-test"))
    cache = LlmHook("generator").get_cache()
    assert isinstance(cache, PostgresResponseCache) and cache.schema == "llm_cache_alt"
    assert cache.get("absent") is None
    sessions = postgres_server.execute("select count(*) from pg_stat_activity "
                                       "where application_name = 'boostqa-hook-test'")
    assert sessions == [(1,)]


@pytest.mark.usefixtures("role_connections")
def test_a_cache_connection_of_another_type_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CACHE_ENV, json.dumps({"conn_type": "sqlite", "host": "/tmp/cache.db"}))
    with pytest.raises(ConfigError, match="needs a postgres connection"):
        LlmHook("refiner").get_client("r1")
