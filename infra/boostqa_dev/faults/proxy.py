"""An LLM fault proxy: sits between the pipeline's OpenAI client and a real server and injects one kind of failure.

A request is picked for a fault by a hash of its body and the seed, at the configured rate, so a run is
reproducible; the first chat request is always picked, so every run injects at least once. Transient kinds (500,
429, timeout, reset, malformed JSON, empty reply) hit a picked request on its first arrival only, as a real server's
hiccup does: the retry or re-ask then reaches the server. Permanent kinds (400, ``finish_reason=length``, 401)
answer the picked request every time. Everything else is forwarded as is.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientError, ClientSession, ClientTimeout, TCPConnector, web

TRANSIENT = ("http_500", "http_429", "timeout", "reset", "malformed_json", "empty_reply")
PERMANENT = ("http_400", "finish_length", "http_401")
KINDS = TRANSIENT + PERMANENT
CONTEXT_OVERFLOW = ("This model's maximum context length is 2048 tokens. However, you requested 4096 tokens "
                    "in the messages. Please reduce the length of the messages.")


@dataclass
class FaultPlan:
    """Which fault, how often (0..1), and the seed that picks the requests; ``hold_s`` is how long a timeout hangs."""

    kind: str
    rate: float
    seed: int = 0
    retry_after_s: int = 1
    hold_s: float = 8.0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of {', '.join(KINDS)}")

    def picks(self, body: bytes) -> bool:
        """Whether this request body is one the fault hits (by a hash of it and the seed, at ``rate``)."""
        digest = hashlib.sha256(self.seed.to_bytes(8, "big") + body).digest()
        return int.from_bytes(digest[:8], "big") / 2**64 < self.rate


@dataclass
class ProxyLog:
    """What the proxy did: requests seen, faults injected, and for 429s when the retry came back."""

    requests: int = 0
    injected: Counter[str] = field(default_factory=Counter)
    seen: set[str] = field(default_factory=set)
    first_chat: str | None = None
    rate_limited_at: dict[str, float] = field(default_factory=dict)
    upstream_errors: int = 0  # forwarded calls the server dropped (answered 502: a fault the proxy did not plan)
    retry_gaps_s: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class FaultProxy:
    """The proxy as a server on ``127.0.0.1:<port>`` in a thread of its own; ``base_url`` is what a client calls."""

    def __init__(self, upstream: str, plan: FaultPlan, port: int) -> None:
        self.upstream, self.plan, self.port = upstream.rstrip("/"), plan, port
        self.log = ProxyLog()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True, name="fault-proxy")
        self._runner: web.AppRunner | None = None
        self._session: ClientSession | None = None

    @property
    def base_url(self) -> str:
        """The OpenAI base URL a client points at to go through the proxy."""
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=30)
        return self

    def __exit__(self, *_: object) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)

    async def _start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        # No keep-alive to the server: a pooled connection it closed would fail a forwarded call, which the client
        # would then see as an injected fault that was never counted.
        self._session = ClientSession(timeout=ClientTimeout(total=600), connector=TCPConnector(force_close=True))

    async def _stop(self) -> None:
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def _first_sighting(self, key: str) -> bool:
        with self.log.lock:
            self.log.requests += 1
            first = key not in self.log.seen
            self.log.seen.add(key)
            if key in self.log.rate_limited_at:  # a request the proxy answered 429 has come back
                self.log.retry_gaps_s.append(time.monotonic() - self.log.rate_limited_at.pop(key))
            return first

    def _count(self, kind: str) -> None:
        with self.log.lock:
            self.log.injected[kind] += 1

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        key = hashlib.sha256(body).hexdigest()
        first = self._first_sighting(key)
        kind = self.plan.kind
        chat = request.path.endswith("/chat/completions")
        with self.log.lock:
            if chat and self.log.first_chat is None:
                self.log.first_chat = key
        picked = self.plan.picks(body) or key == self.log.first_chat
        hit = chat and picked and (first or kind in PERMANENT)
        if not hit:
            return await self._forward(request, body)
        self._count(kind)
        if kind == "http_429":
            with self.log.lock:
                self.log.rate_limited_at[key] = time.monotonic()
        return await self._inject(request, body, kind)

    async def _inject(self, request: web.Request, body: bytes, kind: str) -> web.StreamResponse:
        def error(status: int, message: str, **headers: str) -> web.Response:
            return web.json_response({"error": {"message": message, "type": "fault_proxy", "code": status}},
                                     status=status, headers=headers)

        if kind == "http_500":
            return error(500, "injected: internal server error")
        if kind == "http_429":
            return error(429, "injected: rate limit reached", **{"Retry-After": str(self.plan.retry_after_s)})
        if kind == "http_400":
            return error(400, CONTEXT_OVERFLOW)
        if kind == "http_401":
            return error(401, "injected: invalid API key")
        if kind == "timeout":
            await self._hold(request)
            return error(504, "injected: held past the client's timeout")
        if kind == "reset":
            assert request.transport is not None
            request.transport.abort()  # the connection drops with no answer
            return web.Response(status=500)
        if kind == "malformed_json":
            return web.Response(body=b'{"id": "chatcmpl-fault", "choices": [{"message": {"content": "',
                                content_type="application/json")
        upstream = await self._call_upstream(request, body)
        reply = json.loads(upstream[1])
        if kind == "empty_reply":
            reply["choices"][0]["message"]["content"] = ""
        else:  # finish_length: the server stopped at max_tokens
            reply["choices"][0]["finish_reason"] = "length"
        return web.json_response(reply)

    async def _hold(self, request: web.Request) -> None:
        """Hold a call until its client gives up and disconnects (or ``hold_s`` passes)."""
        deadline = time.monotonic() + self.plan.hold_s
        while time.monotonic() < deadline and request.transport is not None and not request.transport.is_closing():
            await asyncio.sleep(0.2)

    async def _call_upstream(self, request: web.Request, body: bytes) -> tuple[int, bytes, dict[str, str]]:
        assert self._session is not None
        url = self.upstream + request.path.removeprefix("/v1") + (f"?{request.query_string}" if request.query_string
                                                                 else "")
        headers = {k: v for k, v in request.headers.items() if k.lower() in ("authorization", "content-type")}
        async with self._session.request(request.method, url, data=body, headers=headers) as answer:
            return answer.status, await answer.read(), {"Content-Type": answer.headers.get("Content-Type", "")}

    async def _forward(self, request: web.Request, body: bytes) -> web.Response:
        try:
            status, data, headers = await self._call_upstream(request, body)
        except ClientError as exc:
            with self.log.lock:
                self.log.upstream_errors += 1
            return web.json_response({"error": {"message": f"fault proxy: upstream {exc!r}"}}, status=502)
        return web.Response(status=status, body=data, headers=headers)

    def summary(self) -> dict[str, Any]:
        """Requests seen, faults injected by kind, and the shortest wait before a 429'd request came back."""
        with self.log.lock:
            return {"requests": self.log.requests, "injected": dict(self.log.injected),
                    "min_retry_after_gap_s": min(self.log.retry_gaps_s, default=None),
                    "rate_limited_never_retried": len(self.log.rate_limited_at),
                    "upstream_errors": self.log.upstream_errors}
