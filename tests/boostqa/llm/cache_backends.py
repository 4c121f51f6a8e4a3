"""Both response-cache backends for the contract and claim tests, and a worker process that asks through one."""

from __future__ import annotations

import asyncio
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, SecretStr

from boostqa.llm.cache import ResponseCache
from boostqa.llm.cache_backend import CacheBackend
from boostqa.llm.cache_postgres import DEFAULT_SCHEMA, PostgresResponseCache
from boostqa.llm.client import LlmClient
from boostqa.llm.fake import FakeTransport
from boostqa.llm.single_flight import ClaimConfig
from boostqa.llm.types import LlmEndpoint, LlmRequest, cache_key

SCHEMA = {"type": "object", "properties": {"label": {"type": "string"}}, "required": ["label"]}
REPLY = json.dumps({"label": "physics"})
ENDPOINT = LlmEndpoint(role="annotator", base_url="http://fake/v1", model="m", max_attempts=2, max_reasks=0)
# Quick looks, so a waiter notices a stored result or a released claim within a fraction of a second.
FAST_CLAIMS = ClaimConfig(lease_s=30, poll_s=0.02, max_poll_s=0.2)


class Label(BaseModel):
    label: str


def request(item: str = "i1") -> LlmRequest:
    return LlmRequest(item_id=item, messages=[{"role": "user", "content": f"label {item}"}], schema_name="label",
                      json_schema=SCHEMA, prompt_version="p_v1")


def key_of(req: LlmRequest) -> str:
    """The cache key of a request's first turn, as LlmClient computes it."""
    return cache_key(ENDPOINT.model, list(req.messages), req.json_schema, req.sampling, req.prompt_version)


@dataclass(frozen=True)
class BackendSpec:
    """How to open one backend, in this process or in a spawned one (hence plain, picklable values)."""

    kind: Literal["sqlite", "postgres"]
    target: str  # the SQLite file, or the libpq connection string
    schema: str = DEFAULT_SCHEMA

    def open(self) -> CacheBackend:
        if self.kind == "sqlite":
            return ResponseCache(Path(self.target))
        return PostgresResponseCache(SecretStr(self.target), schema=self.schema)


def client(cache: CacheBackend, transport: FakeTransport, claims: ClaimConfig = FAST_CLAIMS,
           run_id: str = "r1") -> LlmClient:
    return LlmClient(ENDPOINT, transport, cache, run_id=run_id, backoff_s=0.001, claims=claims)


def ask_in_process(spec: BackendSpec, barrier: Any, results: Any, delay_s: float) -> None:
    """A worker process: its own cache connection and client; waits for the others, then asks for ``request()``
    through a transport that takes ``delay_s`` to answer, and reports what happened."""
    transport = FakeTransport(lambda messages: REPLY, delay_s=delay_s)
    worker = client(spec.open(), transport, run_id=f"worker-{os.getpid()}")
    barrier.wait(timeout=120)
    started = time.time()
    outcome = asyncio.run(worker.generate(request(), Label))
    results.put({"calls": len(transport.calls), "parsed": outcome.parsed, "request_id": outcome.request_id,
                 "cache_hit": worker.ledger.rows[0].cache_hit, "started": started, "ended": time.time()})
