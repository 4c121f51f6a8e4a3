"""Records of the generation engine: endpoints, sampling, requests, transport results, outcomes, ledger rows."""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from boostqa.vocabulary import Role

# ok: valid output; invalid: still invalid after the re-asks; rejected: the server refused the request for good (an
# HTTP 4xx such as a context overflow); truncated: the reply stopped at max_tokens (finish_reason "length")
OutcomeStatus = Literal["ok", "invalid", "rejected", "truncated"]
FAILURE_REASONS: dict[str, str] = {"rejected": "llm_rejected", "truncated": "truncated"}


class LlmEndpoint(BaseModel):
    """One role's OpenAI-compatible server; built from a ``boostqa_llm_<role>`` connection."""

    model_config = ConfigDict(frozen=True)

    role: Role
    base_url: str
    api_key: SecretStr = SecretStr("EMPTY")
    model: str
    max_concurrency: int = Field(default=4, ge=1, description="upper bound of the adaptive concurrency limit")
    timeout_s: float = Field(default=120.0, gt=0)
    max_attempts: int = Field(default=6, ge=1, description="calls per request on 5xx/timeouts/429 before giving up")
    max_reasks: int = Field(default=1, ge=0, description="extra turns asking the model to fix invalid output")


class Sampling(BaseModel):
    """Sampling parameters; part of the cache key."""

    model_config = ConfigDict(frozen=True)

    temperature: float = 0.0
    top_p: float = 1.0
    max_tokens: int = 256
    seed: int | None = None


class LlmRequest(BaseModel):
    """One structured-output request of a stage for one item."""

    model_config = ConfigDict(frozen=True)

    item_id: str
    messages: list[dict[str, str]]
    schema_name: str
    json_schema: dict[str, Any]
    prompt_version: str
    sampling: Sampling = Sampling()


class TransportResult(BaseModel):
    """What a server returned for one call (and what the cache stores)."""

    text: str
    model: str
    request_id: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    reasoning: str | None = Field(default=None, description="reasoning trace a server returned apart "
                                  "(vLLM's reasoning parser: message.reasoning_content)")
    finish_reason: str | None = Field(default=None, description="why the reply ended (stop, length, ...); "
                                      "``length`` is a truncated reply, never stored in the cache")


class LlmOutcome(BaseModel):
    """The engine's answer for one request: validated JSON, or the raw text and why it is invalid."""

    item_id: str
    status: OutcomeStatus
    parsed: dict[str, Any] | None = None
    raw_text: str
    reasoning: str | None = Field(default=None, description="the <think> trace, kept apart from the answer")
    reason: str | None = None
    request_id: str
    model: str
    cache_hit: bool
    turns: int = Field(description="model turns used, 1 + re-asks")

    def failure_reason(self, invalid: str) -> str:
        """The quarantine reason of a failed outcome: ``llm_rejected``, ``truncated``, else the stage's ``invalid``."""
        return FAILURE_REASONS.get(self.status, invalid)


class LedgerRow(BaseModel):
    """One line of the token ledger: one model turn, called or replayed from the cache."""

    run_id: str
    role: str
    model: str
    item_id: str
    request_id: str
    prompt_version: str
    prompt_tokens: int
    completion_tokens: int
    latency_ms: float
    cache_hit: bool
    status: str
    attempts: int


def cache_key(model: str, messages: list[dict[str, str]], schema: dict[str, Any], sampling: Sampling,
              prompt_version: str) -> str:
    """Content address of a call: model, messages, schema, sampling parameters and prompt version."""
    payload = {"model": model, "messages": messages, "schema": schema, "sampling": sampling.model_dump(),
               "prompt_version": prompt_version}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
