from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from pydantic import BaseModel

from boostqa.llm.cache import ResponseCache
from boostqa.llm.client import LlmClient, LlmUnavailable, gather_bounded
from boostqa.llm.fake import FakeTransport
from boostqa.llm.transport import FatalError, RateLimited, TransientError
from boostqa.llm.types import LlmEndpoint, LlmRequest

SCHEMA = {"type": "object", "properties": {"label": {"type": "string"}}, "required": ["label"]}


class Label(BaseModel):
    label: str


def _endpoint(**overrides: object) -> LlmEndpoint:
    values: dict[str, object] = {"role": "annotator", "base_url": "http://fake/v1", "model": "m", "max_concurrency": 4,
                                 "max_attempts": 4, "max_reasks": 1}
    values.update(overrides)
    return LlmEndpoint(**values)  # type: ignore[arg-type]


def _request(item: str = "i1") -> LlmRequest:
    return LlmRequest(item_id=item, messages=[{"role": "user", "content": f"label {item}"}], schema_name="label",
                      json_schema=SCHEMA, prompt_version="p_v1")


def _client(tmp_path: Path, transport: FakeTransport, **endpoint: object) -> LlmClient:
    return LlmClient(_endpoint(**endpoint), transport, ResponseCache(tmp_path / "cache.sqlite"), run_id="r1",
                     backoff_s=0.001)


def test_valid_output_is_parsed_and_the_ledger_counts_tokens(tmp_path: Path) -> None:
    transport = FakeTransport(lambda m: '{"label": "physics"}')
    client = _client(tmp_path, transport)
    outcome = asyncio.run(client.generate(_request(), Label))
    assert (outcome.status, outcome.parsed, outcome.cache_hit, outcome.turns) == ("ok", {"label": "physics"}, False, 1)
    [row] = client.ledger.rows
    assert (row.role, row.run_id, row.prompt_version, row.cache_hit) == ("annotator", "r1", "p_v1", False)
    assert row.prompt_tokens == 2 and row.completion_tokens == 2


def test_a_rerun_replays_from_the_cache_with_zero_calls(tmp_path: Path) -> None:
    asyncio.run(_client(tmp_path, FakeTransport(lambda m: '{"label": "x"}')).generate(_request(), Label))
    transport = FakeTransport(lambda m: pytest.fail("a cached request must not call the server"))  # type: ignore[arg-type]
    client = _client(tmp_path, transport)
    outcome = asyncio.run(client.generate(_request(), Label))
    assert outcome.cache_hit and outcome.parsed == {"label": "x"}
    assert transport.calls == [] and client.ledger.calls() == 0 and client.ledger.rows[0].cache_hit


def test_invalid_json_is_re_asked_once_then_accepted(tmp_path: Path) -> None:
    replies = iter(["Sure! The label is physics.", '```json\n{"label": "physics"}\n```'])
    transport = FakeTransport(lambda m: next(replies))
    outcome = asyncio.run(_client(tmp_path, transport).generate(_request(), Label))
    assert outcome.status == "ok" and outcome.turns == 2
    reask = transport.calls[1]
    assert reask[-2] == {"role": "assistant", "content": "Sure! The label is physics."}
    assert "not valid" in reask[-1]["content"]


def test_still_invalid_after_the_reask_budget_keeps_the_raw_text_and_reason(tmp_path: Path) -> None:
    transport = FakeTransport(lambda m: '{"other": 1}')
    outcome = asyncio.run(_client(tmp_path, transport, max_reasks=2).generate(_request(), Label))
    assert outcome.status == "invalid" and outcome.parsed is None
    assert outcome.raw_text == '{"other": 1}'
    assert outcome.reason is not None and "label" in outcome.reason
    assert len(transport.calls) == 3


def test_transient_errors_are_retried_then_succeed(tmp_path: Path) -> None:
    replies = iter([TransientError("HTTP 503"), TransientError("timeout"), '{"label": "ok"}'])
    transport = FakeTransport(lambda m: next(replies))
    client = _client(tmp_path, transport)
    outcome = asyncio.run(client.generate(_request(), Label))
    assert outcome.status == "ok" and len(transport.calls) == 3
    assert client.ledger.rows[0].attempts == 3


def test_a_server_that_stays_down_raises_a_clear_error_and_caches_nothing(tmp_path: Path) -> None:
    transport = FakeTransport(lambda m: TransientError("connection refused"))
    client = _client(tmp_path, transport, max_attempts=3)
    with pytest.raises(LlmUnavailable, match="annotator server http://fake/v1 failed 3 times"):
        asyncio.run(client.generate(_request(), Label))
    assert len(client.cache) == 0 and client.ledger.rows == []


def test_fatal_errors_are_not_retried(tmp_path: Path) -> None:
    transport = FakeTransport(lambda m: FatalError("HTTP 401"))
    with pytest.raises(FatalError):
        asyncio.run(_client(tmp_path, transport).generate(_request(), Label))
    assert len(transport.calls) == 1


def test_429_halves_the_concurrency_limit_instead_of_hammering(tmp_path: Path) -> None:
    seen = {"n": 0}

    def script(messages: list[dict[str, str]]) -> str | RateLimited:
        seen["n"] += 1
        return RateLimited("429") if seen["n"] <= 2 else json.dumps({"label": "ok"})

    transport = FakeTransport(script)
    client = _client(tmp_path, transport, max_concurrency=8)
    outcome = asyncio.run(client.generate(_request(), Label))
    assert outcome.status == "ok"
    assert client.limiter.limit < 8 / 2  # two multiplicative decreases, then slow additive growth
    assert client.limiter.limit > 2


def test_concurrency_never_exceeds_the_role_bound(tmp_path: Path) -> None:
    transport = FakeTransport(lambda m: '{"label": "x"}', delay_s=0.02)
    client = _client(tmp_path, transport, max_concurrency=3)

    async def run_all() -> list[object]:
        return await gather_bounded([client.generate(_request(f"i{n}"), Label) for n in range(20)], limit=50)

    outcomes = asyncio.run(run_all())
    assert len(outcomes) == 20 and transport.max_in_flight == 3


def test_run_batch_keeps_order_and_closes_the_transport_even_on_failure(tmp_path: Path) -> None:
    transport = FakeTransport(lambda m: json.dumps({"label": m[-1]["content"]}), delay_s=0.001)
    client = _client(tmp_path, transport)
    outcomes = asyncio.run(client.run_batch([_request(f"i{n}") for n in range(10)], Label))
    assert [o.parsed["label"] for o in outcomes if o.parsed] == [f"label i{n}" for n in range(10)]
    assert transport.closed == 1

    down = FakeTransport(lambda m: TransientError("HTTP 503"))
    failing = _client(tmp_path / "other", down, max_attempts=2)
    with pytest.raises(LlmUnavailable):
        asyncio.run(failing.run_batch([_request("j1")], Label))
    assert down.closed == 1


def test_reasoning_traces_are_kept_apart_from_the_parsed_answer(tmp_path: Path) -> None:
    from boostqa.llm.transport import split_reasoning

    reply = '<think>The user wants {"label": "wrong"}; think more.</think>\n{"label": "right"}'
    outcome = asyncio.run(_client(tmp_path, FakeTransport(lambda m: reply)).generate(_request(), Label))
    assert outcome.parsed == {"label": "right"}
    assert outcome.reasoning == 'The user wants {"label": "wrong"}; think more.'
    assert split_reasoning("no trace") == (None, "no trace")
    assert split_reasoning("<think>cut off mid-thought") == ("cut off mid-thought", "")
