"""Transports: how one chat call reaches a server. ``OpenAiTransport`` for real servers; errors classified here."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

from boostqa.llm.types import LlmEndpoint, Sampling, TransportResult


class TransportError(Exception):
    """Base of the classified call failures (the policy: docs/runbook.md, "LLM failures")."""


class RateLimited(TransportError):
    """HTTP 429: lower the concurrency limit, wait at least the server's ``Retry-After``, then try again."""

    def __init__(self, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class TransientError(TransportError):
    """5xx, 408, timeouts and dropped connections: back off and try again."""


class ItemRejected(TransportError):
    """The server refused this one request for good: quarantine the item, go on with the batch.

    400, 413, 422 (a context overflow, a schema or grammar it cannot follow): the item is quarantined with the status
    and body; nothing is retried or cached.
    """

    def __init__(self, message: str, status_code: int | None = None, body: str = "") -> None:
        super().__init__(message)
        self.status_code, self.body = status_code, body


class RunRefused(TransportError):
    """401, 403, 404: the credentials, permissions or model are wrong; every request would fail: fail fast."""

    def __init__(self, message: str, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code


class Truncated(ItemRejected):
    """The reply stopped at ``max_tokens`` (``finish_reason`` length): quarantined as truncated, never cached."""

    def __init__(self, result: TransportResult, max_tokens: int) -> None:
        super().__init__(f"truncated: the reply reached max_tokens={max_tokens} ({result.completion_tokens} "
                         "completion tokens) before it ended; raise the stage's max_tokens or shorten the prompt")
        self.result = result


RUN_PERMANENT = frozenset({401, 403, 404})
TRANSIENT_4XX = frozenset({408, 409})  # request timeout; conflict (a server's transient state)
BODY_CHARS = 2000  # of an error body kept in the quarantine: enough for the server's reason


def retry_after_seconds(headers: Any, now: datetime | None = None) -> float | None:
    """Seconds a 429 asks to wait (``Retry-After``: seconds or HTTP date; ``retry-after-ms``); None if unreadable."""
    if headers is None:
        return None
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            return max(float(millis) / 1000, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when: datetime = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(float((when - (now or datetime.now(UTC))).total_seconds()), 0.0)


def classify_status(status_code: int, message: str, body: str, headers: Any = None) -> TransportError:
    """The failure an HTTP error status means for the pipeline: transient, rate limited, item- or run-permanent."""
    detail = f"HTTP {status_code}: {message}"
    if status_code == 429:
        return RateLimited(detail, retry_after_seconds(headers))
    if status_code >= 500 or status_code in TRANSIENT_4XX:
        return TransientError(detail)
    if status_code in RUN_PERMANENT:
        return RunRefused(detail, status_code)
    return ItemRejected(detail, status_code, body[:BODY_CHARS])


class Transport(Protocol):
    """One chat-completion call with a JSON-schema response format."""

    async def chat(self, endpoint: LlmEndpoint, messages: list[dict[str, str]], schema_name: str,
                   json_schema: dict[str, Any], sampling: Sampling) -> TransportResult:
        """Send one chat completion; its reply text, reasoning and token usage come back."""

    async def aclose(self) -> None:
        """Release connections opened on the running event loop."""


class OpenAiTransport:
    """Calls an OpenAI-compatible server (vLLM) through the ``openai`` async client; retries are the engine's."""

    def __init__(self) -> None:
        self._clients: dict[str, Any] = {}
        self._loop: Any = None

    def _client(self, endpoint: LlmEndpoint) -> Any:
        import asyncio

        from openai import AsyncOpenAI

        # An AsyncOpenAI client's connection pool belongs to the event loop it was used on; stages run one
        # asyncio.run() per shard, so clients are kept per loop (reusing one across loops fails: loop closed).
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._clients, self._loop = {}, loop
        if endpoint.base_url not in self._clients:
            self._clients[endpoint.base_url] = AsyncOpenAI(
                base_url=endpoint.base_url, api_key=endpoint.api_key.get_secret_value(), max_retries=0,
                timeout=endpoint.timeout_s,
            )
        return self._clients[endpoint.base_url]

    async def aclose(self) -> None:
        """Close this loop's clients before the loop ends (else their sockets are closed by GC on a dead loop)."""
        clients, self._clients, self._loop = list(self._clients.values()), {}, None
        for client in clients:
            await client.close()

    async def chat(self, endpoint: LlmEndpoint, messages: list[dict[str, str]], schema_name: str,
                   json_schema: dict[str, Any], sampling: Sampling) -> TransportResult:
        """One chat completion through the ``openai`` client; API errors become classified transport errors."""
        import openai

        try:
            response = await self._client(endpoint).chat.completions.create(
                model=endpoint.model,
                messages=messages,
                response_format={"type": "json_schema",
                                 "json_schema": {"name": schema_name, "schema": json_schema, "strict": True}},
                temperature=sampling.temperature,
                top_p=sampling.top_p,
                max_tokens=sampling.max_tokens,
                seed=sampling.seed,
            )
        except (openai.APITimeoutError, openai.APIConnectionError) as exc:
            raise TransientError(f"{type(exc).__name__}: {exc}") from exc
        except (json.JSONDecodeError, openai.APIResponseValidationError) as exc:  # a cut-off or garbled reply body
            raise TransientError(f"malformed reply from {endpoint.base_url}: {type(exc).__name__}: {exc}") from exc
        except openai.APIStatusError as exc:
            raise classify_status(exc.status_code, exc.message, exc.response.text, exc.response.headers) from exc
        usage = response.usage
        if not response.choices:
            raise TransientError(f"empty reply (no choices) from {endpoint.base_url}")
        choice = response.choices[0]
        message = choice.message
        return TransportResult(
            text=message.content or "",
            reasoning=getattr(message, "reasoning_content", None) or getattr(message, "reasoning", None),
            model=response.model,
            request_id=response.id,
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
            finish_reason=choice.finish_reason,
        )


THINK = re.compile(r"<think>(.*?)(?:</think>|$)", re.DOTALL)


def split_reasoning(text: str) -> tuple[str | None, str]:
    """Separate ``<think>…</think>`` traces (as DeepSeek-R1 emits them) from the answer text.

    Returns (the traces joined, or None; the text without them). An unclosed ``<think>`` runs to the end.
    """
    traces = [m.strip() for m in THINK.findall(text)]
    if not traces:
        return None, text
    return "\n\n".join(t for t in traces if t) or None, THINK.sub("", text).strip()


def parse_json_object(text: str) -> dict[str, Any]:
    """The first JSON object in a model's text (tolerates code fences and leading prose).

    Raises:
        ValueError: no JSON object could be decoded.
    """
    start = text.find("{")
    if start < 0:
        raise ValueError("no JSON object in the output")
    value, _ = json.JSONDecoder().raw_decode(text[start:])
    if not isinstance(value, dict):
        raise ValueError("the output is not a JSON object")
    return value
