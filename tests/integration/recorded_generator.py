"""A recorded reply set for the generator role, served over the OpenAI chat API (for tests whose assertions need
good generator output; the embedded SmolLM2-135M's is mostly removed by QC).

The replies are exam questions written by us (``tests/fixtures/llm/generator_replies.jsonl``) in four pools:
language (en, zh) x kind (open, choice). Each new request gets the next unused reply of the pool its prompt asks
for (the language named in the prompt; choice when the reply schema has ``options``); the same request again gets
the same reply, as a deterministic model would. A pool that runs out answers HTTP 400, so a test never passes on a
reply handed out twice. The annotator and refiner roles stay on the real vLLM server unless a test points them here
too (``ReplySet.roles``, for plumbing-only runs): a difficulty check then gets the hardest band, and a refinement
confirms its draft.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from boostqa.settings import BoostqaSettings
from boostqa_airflow.constants import LLM_CONN_IDS
from boostqa_dev.stack.airflow_home import airflow_env

REPLIES = Path(__file__).parents[1] / "fixtures" / "llm" / "generator_replies.jsonl"
REPLY_FIELDS = ("question", "options", "answer_option", "draft_answer")
# Its own model name: its replies are cached and billed apart from the real model's (unpriced: no USD cap here).
MODEL = "recorded-generator"


class ReplySet:
    """Hands out the recorded replies: one per distinct request, never one twice."""

    def __init__(self, path: Path = REPLIES, from_the_end: bool = False) -> None:
        """``from_the_end``: hand the pools out last reply first, so a second test in the same session (one lake,
        one QC index) gets other questions than the first, not duplicates QC would remove."""
        self.pools: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            self.pools.setdefault((row["language"], row["kind"]), []).append(row)
        if from_the_end:
            self.pools = {pool: rows[::-1] for pool, rows in self.pools.items()}
        self.given: dict[str, dict[str, Any]] = {}
        self.used: dict[tuple[str, str], int] = {}
        self.lock = threading.Lock()
        self.roles: set[str] = {"generator"}  # the roles whose connection points here in the next DAG runs
        self.reviews = 0  # difficulty checks and refinements answered

    def reply(self, body: dict[str, Any]) -> dict[str, Any]:
        """The reply object for one chat request (raises LookupError when its pool is used up)."""
        prompt = "\n".join(m["content"] for m in body["messages"])
        review = _review(body, prompt)
        if review is not None:
            with self.lock:
                self.reviews += 1
            return review
        key = hashlib.sha256(json.dumps([body["messages"], body.get("seed")], sort_keys=True).encode()).hexdigest()
        schema = body["response_format"]["json_schema"]["schema"]
        pool = ("zh" if "question in Chinese" in prompt else "en",
                "choice" if "options" in schema["properties"] else "open")
        with self.lock:
            if key not in self.given:
                index = self.used.get(pool, 0)
                if index >= len(self.pools.get(pool, [])):
                    raise LookupError(f"the recorded reply set has no unused {pool[0]} {pool[1]} reply left")
                self.used[pool] = index + 1
                row = self.pools[pool][index]
                self.given[key] = {k: row[k] for k in REPLY_FIELDS if k in schema["properties"]}
            return self.given[key]

    @property
    def handed_out(self) -> int:
        """How many distinct requests got a reply."""
        return len(self.given)


def _review(body: dict[str, Any], prompt: str) -> dict[str, Any] | None:
    """A difficulty check's reply (the hardest band the schema allows) or a refinement's (it confirms the draft);
    None for a generator request."""
    schema = body["response_format"]["json_schema"]["schema"]
    if "anyOf" in schema:  # the annotation schema: one branch per difficulty
        branch = schema["anyOf"][-1]["properties"]
        return {"discipline": branch["discipline"]["enum"][0], "difficulty": branch["difficulty"]["const"],
                "grade_band": branch["grade_band"]["const"], "rationale": "Recorded review."}
    if "draft_correct" not in schema["properties"]:
        return None
    draft = prompt.split("Draft answer:\n", 1)[1].split("\n\nSolve the question yourself", 1)[0].strip()
    draft = draft.removeprefix("<draft_answer>").removesuffix("</draft_answer>").strip()  # refine_v2's data block
    option = re.match(r"\(([ABCD])\) ", draft)
    reply: dict[str, Any] = {"final_answer": draft[option.end():] if option else draft, "draft_correct": True}
    if "answer_option" in schema["properties"]:
        reply = {"answer_option": option.group(1) if option else "A", **reply}
    return reply


def _handler(replies: ReplySet) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            try:
                reply = replies.reply(body)
            except LookupError as exc:
                self._send(400, {"error": {"message": str(exc), "type": "invalid_request_error"}})
                return
            text = json.dumps(reply, ensure_ascii=False)
            prompt = sum(len(m["content"]) for m in body["messages"])
            self._send(200, {
                "id": f"recorded-{hashlib.sha256(text.encode()).hexdigest()[:16]}", "object": "chat.completion",
                "created": 0, "model": body["model"],
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": text}}],
                "usage": {"prompt_tokens": prompt // 4, "completion_tokens": len(text) // 4,
                          "total_tokens": (prompt + len(text)) // 4},
            })

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (http.server's signature)
            """Quiet: the synthesis ledger records every call."""

    return Handler


@contextmanager
def recorded_generator(settings: BoostqaSettings, monkeypatch: pytest.MonkeyPatch,
                       from_the_end: bool = False) -> Iterator[ReplySet]:
    """Serve the reply set on a free local port and point the connections of ``replies.roles`` (the generator's
    unless a test adds others) at it in every DAG run."""
    replies = ReplySet(from_the_end=from_the_end)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(replies))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def env_with_recorded_generator(stack: BoostqaSettings) -> dict[str, str]:
        env = airflow_env(stack)
        for role in replies.roles:
            conn_var = f"AIRFLOW_CONN_{LLM_CONN_IDS[role].upper()}"
            conn = json.loads(env[conn_var])
            conn["host"] = f"http://127.0.0.1:{server.server_address[1]}/v1"
            conn["extra"] = conn["extra"] | {"model": MODEL}
            env[conn_var] = json.dumps(conn)
        return env

    monkeypatch.setattr("boostqa_dev.demo.airflow_env", env_with_recorded_generator)
    try:
        yield replies
    finally:
        server.shutdown()
        server.server_close()
