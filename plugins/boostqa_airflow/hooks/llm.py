"""``LlmHook``: a ``boostqa_llm_<role>`` connection -> a boostqa ``LlmClient`` for that role."""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseHook
from pydantic import SecretStr

from boostqa.llm.cache import ResponseCache
from boostqa.llm.client import LlmClient
from boostqa.llm.transport import OpenAiTransport
from boostqa.llm.types import LlmEndpoint
from boostqa.settings import get_settings
from boostqa.vocabulary import Role
from boostqa_airflow.constants import LLM_CONN_IDS


class LlmHook(BaseHook):
    """Connection fields: host = OpenAI-compatible base URL, password = API key, extra = model and limits.

    Extra keys: ``model`` (served model name), optional ``max_concurrency``, ``timeout_s``, ``max_attempts``,
    ``max_reasks``. The response cache lives at ``BOOSTQA_STATE_DIR/llm/response_cache.sqlite``.
    """

    conn_name_attr = "llm_conn_id"
    default_conn_name = LLM_CONN_IDS["annotator"]
    conn_type = "openai"
    hook_name = "BoostQA LLM role (OpenAI-compatible)"

    def __init__(self, role: Role, llm_conn_id: str | None = None) -> None:
        super().__init__()
        self.role = role
        self.llm_conn_id = llm_conn_id or LLM_CONN_IDS[role]

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

    def get_client(self, run_id: str) -> LlmClient:
        """A client for one run, with the persistent response cache."""
        return LlmClient(self.get_endpoint(), OpenAiTransport(), ResponseCache(get_settings().llm_cache_path), run_id)

    def get_conn(self) -> LlmEndpoint:
        """The endpoint (Airflow's hook protocol)."""
        return self.get_endpoint()
