"""Transports: how one chat call reaches a server. ``OpenAiTransport`` for real servers; errors classified here."""

from __future__ import annotations

import json
import re
from typing import Any, Protocol

from boostqa.llm.types import LlmEndpoint, Sampling, TransportResult


class TransportError(Exception):
    """Base of the classified call failures."""


class RateLimited(TransportError):
    """HTTP 429: lower the concurrency limit, then try again."""


class TransientError(TransportError):
    """5xx, timeouts and dropped connections: back off and try again."""


class FatalError(TransportError):
    """4xx other than 429 (bad request, auth): retrying will not help."""


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
        """One chat completion through the ``openai`` client; API errors become transient or fatal errors."""
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
        except openai.RateLimitError as exc:
            raise RateLimited(str(exc)) from exc
        except (openai.APITimeoutError, openai.APIConnectionError, openai.InternalServerError) as exc:
            raise TransientError(f"{type(exc).__name__}: {exc}") from exc
        except openai.APIStatusError as exc:
            if exc.status_code >= 500:
                raise TransientError(f"HTTP {exc.status_code}: {exc}") from exc
            raise FatalError(f"HTTP {exc.status_code}: {exc}") from exc
        usage = response.usage
        message = response.choices[0].message
        return TransportResult(
            text=message.content or "",
            reasoning=getattr(message, "reasoning_content", None) or getattr(message, "reasoning", None),
            model=response.model,
            request_id=response.id,
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
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
