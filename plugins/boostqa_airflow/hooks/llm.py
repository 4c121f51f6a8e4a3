"""``LlmHook``: a ``boostqa_llm_<role>`` connection -> a boostqa ``LlmClient`` for that role, with its cache."""

from __future__ import annotations

from functools import cache
from typing import Any, NamedTuple

from airflow.sdk import BaseHook
from airflow.sdk.exceptions import AirflowNotFoundException
from pydantic import SecretStr

from boostqa.errors import ConfigError
from boostqa.llm.cache import ResponseCache
from boostqa.llm.cache_backend import CacheBackend
from boostqa.llm.cache_postgres import DEFAULT_SCHEMA, PostgresResponseCache
from boostqa.llm.client import LlmClient
from boostqa.llm.transport import OpenAiTransport
from boostqa.llm.types import LlmEndpoint
from boostqa.settings import get_settings
from boostqa.vocabulary import Role
from boostqa_airflow.constants import LLM_CACHE_CONN_ID, LLM_CONN_IDS, LLM_EVAL_CONN_ID

# Extras of a postgres connection that are libpq parameters (TLS, timeouts), passed on as they are.
LIBPQ_EXTRAS = ("sslmode", "sslrootcert", "sslcert", "sslkey", "connect_timeout", "application_name",
                "target_session_attrs", "options")


class LlmHook(BaseHook):
    """Connection fields: host = OpenAI-compatible base URL, password = API key, extra = model and limits.

    Extra keys: ``model`` (served model name), optional ``max_concurrency``, ``timeout_s``, ``max_attempts``,
    ``max_reasks``. The response cache is chosen by the optional ``boostqa_llm_cache`` connection (``get_cache``):
    PostgreSQL, shared by every worker, when it is defined; else ``BOOSTQA_STATE_DIR/llm/response_cache.sqlite``.
    """

    conn_name_attr = "llm_conn_id"
    default_conn_name = LLM_CONN_IDS["annotator"]
    conn_type = "openai"
    hook_name = "BoostQA LLM role (OpenAI-compatible)"

    def __init__(self, role: Role, llm_conn_id: str | None = None, cache_conn_id: str = LLM_CACHE_CONN_ID) -> None:
        super().__init__()
        self.role = role
        self.llm_conn_id = llm_conn_id or LLM_CONN_IDS[role]
        self.cache_conn_id = cache_conn_id

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Base URL, key and model; nothing else."""
        return {
            "hidden_fields": ["schema", "port", "login"],
            "relabeling": {"host": "Base URL", "password": "API key"},
            "placeholders": {"host": "http://vllm-generator:8000/v1", "extra": '{"model": "deepseek-r1"}'},
        }

    def get_endpoint(self) -> LlmEndpoint:
        """The role's endpoint from the connection."""
        conn = self.get_connection(self.llm_conn_id)
        extra = conn.extra_dejson
        limits = {k: extra[k] for k in ("max_concurrency", "timeout_s", "max_attempts", "max_reasks") if k in extra}
        return LlmEndpoint(role=self.role, base_url=conn.host or "", api_key=SecretStr(conn.password or "EMPTY"),
                           model=extra["model"], **limits)

    def get_cache(self) -> CacheBackend:
        """The response cache: PostgreSQL when the cache connection is defined, else the SQLite file.

        The connection (type ``postgres``): host, port, login, password, schema = the database; optional extras are
        libpq parameters (``sslmode`` ...) and ``cache_schema``, the PostgreSQL schema of the cache's two tables
        (default ``boostqa_llm_cache``), which the cache creates when missing. One cache, hence one database
        session, per process and connection: the roles of a synthesis task share it.

        Raises:
            ConfigError: the connection is defined but is not a postgres connection.
        """
        try:
            conn = self.get_connection(self.cache_conn_id)
        except AirflowNotFoundException:
            return ResponseCache(get_settings().llm_cache_path)
        if conn.conn_type not in ("postgres", "postgresql"):
            raise ConfigError(f"connection {self.cache_conn_id!r} has type {conn.conn_type!r}: the shared LLM "
                              "response cache needs a postgres connection (host, port, login, password, schema = "
                              f"database); remove it to use the SQLite file {get_settings().llm_cache_path}")
        extra = conn.extra_dejson or {}
        return _shared_postgres_cache(_conninfo(conn, extra), str(extra.get("cache_schema", DEFAULT_SCHEMA)))

    def get_client(self, run_id: str) -> LlmClient:
        """A client for one run, with the persistent response cache."""
        return LlmClient(self.get_endpoint(), OpenAiTransport(), self.get_cache(), run_id)

    def get_conn(self) -> LlmEndpoint:
        """The endpoint (Airflow's hook protocol)."""
        return self.get_endpoint()


def _conninfo(conn: Any, extra: dict[str, Any]) -> SecretStr:
    from psycopg.conninfo import make_conninfo

    params = {key: str(extra[key]) for key in LIBPQ_EXTRAS if key in extra}
    return SecretStr(make_conninfo("", host=conn.host, port=conn.port, user=conn.login, password=conn.password,
                                   dbname=conn.schema, **params))


@cache
def _shared_postgres_cache(conninfo: SecretStr, schema: str) -> PostgresResponseCache:
    # Per process: a synthesis task's three role clients share one session, and a Celery worker's task processes
    # open one each (PostgreSQL's default of 100 connections is shared with Airflow itself).
    return PostgresResponseCache(conninfo, schema=schema)


class EvalServer(NamedTuple):
    """The OpenAI-compatible server of the ``boostqa_llm_eval`` connection: base URL, served model, API key."""

    url: str
    model: str
    api_key: SecretStr


def eval_server(conn_id: str = LLM_EVAL_CONN_ID) -> EvalServer:
    """The evaluation server from its connection (host = base URL, password = API key, extra ``model``).

    Raises:
        AirflowNotFoundException: the connection is not defined.
        KeyError: its extra names no ``model``.
    """
    conn = BaseHook.get_connection(conn_id)
    return EvalServer(url=conn.host or "", model=str(conn.extra_dejson["model"]),
                      api_key=SecretStr(conn.password or "EMPTY"))
