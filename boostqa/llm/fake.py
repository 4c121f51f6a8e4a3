"""A scripted transport for unit tests of our own logic (errors, 429s, malformed JSON, slow responses)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from boostqa.llm.transport import TransportError
from boostqa.llm.types import LlmEndpoint, Sampling, TransportResult

Script = Callable[[list[dict[str, str]]], "str | TransportError | TransportResult"]


class FakeTransport:
    """Answers each call from ``script(messages)``: a reply text, a whole result, or an error instance to raise."""

    def __init__(self, script: Script, delay_s: float = 0.0) -> None:
        self.script = script
        self.delay_s = delay_s
        self.calls: list[list[dict[str, str]]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.closed = 0

    async def chat(self, endpoint: LlmEndpoint, messages: list[dict[str, str]], schema_name: str,
                   json_schema: dict[str, Any], sampling: Sampling) -> TransportResult:
        """Record the call and answer it from the script, raising a scripted error."""
        self.calls.append(messages)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            reply = self.script(messages)
        finally:
            self.in_flight -= 1
        if isinstance(reply, TransportError):
            raise reply
        if isinstance(reply, TransportResult):
            return reply
        return TransportResult(text=reply, model=endpoint.model, request_id=f"fake-{len(self.calls)}",
                               prompt_tokens=sum(len(m["content"].split()) for m in messages),
                               completion_tokens=len(reply.split()))

    async def aclose(self) -> None:
        """Nothing to release; counted so tests can check that stages close their transports."""
        self.closed += 1
