from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from pydantic import BaseModel

from boostqa.errors import ConfigError
from boostqa.llm.cache import ResponseCache
from boostqa.llm.client import LlmClient, LlmUnavailable, gather_bounded
from boostqa.llm.failures import LlmRefused
from boostqa.llm.fake import FakeTransport
from boostqa.llm.transport import ItemRejected, RateLimited, RunRefused, TransientError
from boostqa.llm.types import LlmEndpoint, LlmRequest, TransportResult

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


@pytest.mark.parametrize(("code", "check"), [(401, "API key"), (403, "may not use"), (404, "/v1/models")])
def test_a_run_refusal_fails_fast_naming_the_connection_and_what_to_check(tmp_path: Path, code: int,
                                                                         check: str) -> None:
    transport = FakeTransport(lambda m: RunRefused(f"HTTP {code}: no", code))
    client = _client(tmp_path, transport)
    with pytest.raises(LlmRefused, match=f"connection boostqa_llm_annotator: .*{check}") as refused:
        asyncio.run(client.run_batch([_request(f"i{n}") for n in range(5)], Label))
    assert isinstance(refused.value, ConfigError)  # operators turn it into AirflowFailException: no retries
    assert len(transport.calls) <= 5  # none retried (max_attempts 4 would make it 20)
    assert len(client.cache) == 0 and client.ledger.rows == []


def test_an_item_the_server_refuses_is_rejected_and_the_batch_goes_on(tmp_path: Path) -> None:
    body = '{"error": {"message": "maximum context length is 2048 tokens"}}'

    def script(messages: list[dict[str, str]]) -> str | ItemRejected:
        if "long" in messages[-1]["content"]:
            return ItemRejected("HTTP 400: context overflow", 400, body)
        return '{"label": "ok"}'

    transport = FakeTransport(script)
    client = _client(tmp_path, transport)
    outcomes = asyncio.run(client.run_batch([_request("a"), _request("long"), _request("b")], Label))
    assert [o.status for o in outcomes] == ["ok", "rejected", "ok"]
    rejected = outcomes[1]
    assert rejected.reason == "llm_rejected: HTTP 400: context overflow" and rejected.raw_text == body
    assert rejected.failure_reason("invalid_output") == "llm_rejected" and rejected.model == "m"
    assert len(transport.calls) == 3 and len(client.cache) == 2  # not retried, not cached


def test_a_truncated_reply_is_quarantined_charged_and_never_cached(tmp_path: Path) -> None:
    def script(messages: list[dict[str, str]]) -> TransportResult:
        return TransportResult(text='{"label": "a very lo', model="m", request_id="r-1", prompt_tokens=5,
                               completion_tokens=256, finish_reason="length")

    transport = FakeTransport(script)
    client = _client(tmp_path, transport)
    outcome = asyncio.run(client.generate(_request(), Label))
    assert (outcome.status, outcome.raw_text, outcome.request_id) == ("truncated", '{"label": "a very lo', "r-1")
    assert outcome.failure_reason("invalid_output") == "truncated" and "max_tokens=256" in (outcome.reason or "")
    assert len(transport.calls) == 1  # no re-ask: the same max_tokens would truncate again
    [row] = client.ledger.rows
    assert (row.status, row.completion_tokens, row.cache_hit) == ("truncated", 256, False)  # the spend counts
    assert len(client.cache) == 0
    asyncio.run(client.generate(_request(), Label))
    assert len(transport.calls) == 2  # a rerun calls again: a truncation is never replayed as a success


def test_a_429_waits_at_least_its_retry_after(tmp_path: Path) -> None:
    replies = iter([RateLimited("HTTP 429", retry_after_s=0.4), '{"label": "ok"}'])
    transport = FakeTransport(lambda m: next(replies))
    started = time.perf_counter()
    outcome = asyncio.run(_client(tmp_path, transport).generate(_request(), Label))  # backoff alone: ~1 ms
    assert outcome.status == "ok" and time.perf_counter() - started >= 0.4


def test_a_retry_after_longer_than_a_call_timeout_is_capped(tmp_path: Path) -> None:
    replies = iter([RateLimited("HTTP 429", retry_after_s=3600), '{"label": "ok"}'])
    transport = FakeTransport(lambda m: next(replies))
    started = time.perf_counter()
    asyncio.run(_client(tmp_path, transport, timeout_s=0.3).generate(_request(), Label))
    assert 0.3 <= time.perf_counter() - started < 5


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
