from __future__ import annotations

import asyncio
import http.server
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from boostqa.llm.transport import (
    ItemRejected,
    OpenAiTransport,
    RateLimited,
    RunRefused,
    TransientError,
    classify_status,
    retry_after_seconds,
)
from boostqa.llm.types import LlmEndpoint, Sampling

STATUS: dict[str, Any] = {"code": 200, "headers": {}, "finish_reason": "stop", "error": "nope", "cut": False}


class _ChatServer(http.server.BaseHTTPRequestHandler):
    """A minimal OpenAI-compatible chat endpoint with keep-alive, like vLLM's."""

    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        code = STATUS["code"]
        reply = {"id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": body["model"],
                 "choices": [{"index": 0, "finish_reason": STATUS["finish_reason"],
                              "message": {"role": "assistant", "content": '{"label": "x"}'}}],
                 "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}}
        data = json.dumps(reply if code == 200 else {"error": {"message": STATUS["error"]}}).encode()
        data = data[: len(data) // 2] if STATUS["cut"] else data  # a garbled body, e.g. from a broken proxy
        self.send_response(code)
        for name, value in STATUS["headers"].items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def endpoint() -> Iterator[LlmEndpoint]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _ChatServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    STATUS.update(code=200, headers={}, finish_reason="stop", error="nope", cut=False)
    try:
        yield LlmEndpoint(role="annotator", base_url=f"http://127.0.0.1:{server.server_address[1]}/v1", model="m",
                          timeout_s=5)
    finally:
        server.shutdown()


def _chat(transport: OpenAiTransport, endpoint: LlmEndpoint) -> object:
    return asyncio.run(transport.chat(endpoint, [{"role": "user", "content": "hi"}], "s", {"type": "object"},
                                      Sampling()))


def test_one_transport_serves_several_event_loops(endpoint: LlmEndpoint) -> None:
    transport = OpenAiTransport()
    for _ in range(3):  # one asyncio.run() per shard, as the stages do
        result = _chat(transport, endpoint)
        assert result.text == '{"label": "x"}' and result.completion_tokens == 3  # type: ignore[attr-defined]


@pytest.mark.parametrize(("code", "error"), [(429, RateLimited), (503, TransientError), (408, TransientError),
                                            (400, ItemRejected), (413, ItemRejected), (422, ItemRejected),
                                            (401, RunRefused), (403, RunRefused), (404, RunRefused)])
def test_http_errors_are_classified(endpoint: LlmEndpoint, code: int, error: type[Exception]) -> None:
    STATUS["code"] = code
    with pytest.raises(error):
        _chat(OpenAiTransport(), endpoint)


def test_a_refused_item_keeps_the_status_and_the_servers_reason(endpoint: LlmEndpoint) -> None:
    STATUS.update(code=400, error="This model's maximum context length is 2048 tokens. However, you requested 9000")
    with pytest.raises(ItemRejected) as refused:
        _chat(OpenAiTransport(), endpoint)
    assert refused.value.status_code == 400 and "maximum context length is 2048" in refused.value.body


def test_a_429_carries_its_retry_after(endpoint: LlmEndpoint) -> None:
    STATUS.update(code=429, headers={"Retry-After": "7"})
    with pytest.raises(RateLimited) as limited:
        _chat(OpenAiTransport(), endpoint)
    assert limited.value.retry_after_s == 7.0


def test_the_finish_reason_comes_back_with_the_reply(endpoint: LlmEndpoint) -> None:
    STATUS["finish_reason"] = "length"
    assert _chat(OpenAiTransport(), endpoint).finish_reason == "length"  # type: ignore[attr-defined]


def test_a_malformed_reply_body_is_transient_not_a_crash(endpoint: LlmEndpoint) -> None:
    STATUS["cut"] = True  # found by `make faults` (llm malformed_json): it used to escape as JSONDecodeError
    with pytest.raises(TransientError, match="malformed reply"):
        _chat(OpenAiTransport(), endpoint)


def test_retry_after_reads_seconds_dates_and_milliseconds() -> None:
    now = datetime(2026, 12, 7, 12, 0, 0, tzinfo=UTC)
    assert retry_after_seconds({"retry-after": "3"}) == 3.0
    assert retry_after_seconds({"retry-after": "Mon, 07 Dec 2026 12:00:30 GMT"}, now) == 30.0
    assert retry_after_seconds({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert retry_after_seconds({"retry-after": "soon"}) is None and retry_after_seconds({}) is None
    assert retry_after_seconds(None) is None and retry_after_seconds({"retry-after": "-5"}) == 0.0


def test_statuses_map_to_the_failure_policy() -> None:
    assert isinstance(classify_status(500, "m", ""), TransientError)
    assert isinstance(classify_status(409, "m", ""), TransientError)
    refused = classify_status(418, "m", "x" * 5000)
    assert isinstance(refused, ItemRejected) and len(refused.body) == 2000  # an unknown 4xx: this item only
    assert isinstance(classify_status(404, "model not found", ""), RunRefused)
