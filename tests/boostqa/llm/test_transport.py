from __future__ import annotations

import asyncio
import http.server
import json
import threading
from collections.abc import Iterator

import pytest

from boostqa.llm.transport import FatalError, OpenAiTransport, RateLimited, TransientError
from boostqa.llm.types import LlmEndpoint, Sampling

STATUS = {"code": 200}


class _ChatServer(http.server.BaseHTTPRequestHandler):
    """A minimal OpenAI-compatible chat endpoint with keep-alive, like vLLM's."""

    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        code = STATUS["code"]
        reply = {"id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": body["model"],
                 "choices": [{"index": 0, "finish_reason": "stop",
                              "message": {"role": "assistant", "content": '{"label": "x"}'}}],
                 "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}}
        data = json.dumps(reply if code == 200 else {"error": {"message": "nope"}}).encode()
        self.send_response(code)
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
    STATUS["code"] = 200
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


@pytest.mark.parametrize(("code", "error"), [(429, RateLimited), (503, TransientError), (400, FatalError)])
def test_http_errors_are_classified(endpoint: LlmEndpoint, code: int, error: type[Exception]) -> None:
    STATUS["code"] = code
    with pytest.raises(error):
        _chat(OpenAiTransport(), endpoint)
