"""The spend guard: caps per run and per day, committed spend from the lake, free replays, params over settings."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pyarrow as pa
import pytest
from pydantic import BaseModel

from boostqa.errors import ConfigError
from boostqa.lake.parquet import parquet_bytes
from boostqa.lake.tables import LEDGER_SCHEMA
from boostqa.llm.budget import (
    BudgetExhausted,
    CommittedSpend,
    Spend,
    SpendBudget,
    SpendGuard,
    committed_spend,
    estimate_prompt_tokens,
    run_started_day,
)
from boostqa.llm.cache import ResponseCache
from boostqa.llm.client import LlmClient
from boostqa.llm.fake import FakeTransport
from boostqa.llm.prices import Price, PriceList, UnknownModelPrice
from boostqa.llm.types import LedgerRow, LlmEndpoint, LlmRequest, Sampling
from boostqa.settings import BoostqaSettings

PRICES = PriceList("p1", {"m": Price(1.0, 2.0)})
SCHEMA = {"type": "object", "properties": {"label": {"type": "string"}}, "required": ["label"]}
RUN = "synthesize_20261203T085512Z_1a2b3c4d"


class Label(BaseModel):
    label: str


def request(item: str, max_tokens: int = 10) -> LlmRequest:
    return LlmRequest(item_id=item, messages=[{"role": "user", "content": f"label item {item}"}], schema_name="label",
                      json_schema=SCHEMA, prompt_version="p_v1", sampling=Sampling(max_tokens=max_tokens))


def need(item: str, max_tokens: int = 10) -> int:
    """The guard's upper bound of one call of ``request(item)``."""
    return estimate_prompt_tokens(request(item, max_tokens).messages) + max_tokens


def client(tmp_path: Path, transport: FakeTransport, guard: SpendGuard | None) -> LlmClient:
    endpoint = LlmEndpoint(role="generator", base_url="http://fake/v1", model="m", max_attempts=2, max_reasks=0)
    return LlmClient(endpoint, transport, ResponseCache(tmp_path / "cache.sqlite"), run_id=RUN, backoff_s=0.001,
                     guard=guard)


def test_the_guard_stops_new_calls_at_the_run_cap_and_replays_stay_free(tmp_path: Path) -> None:
    items = [f"i{n}" for n in range(6)]
    cap = sum(need(i) for i in items[:3])  # room for the upper bounds of exactly three calls
    guard = SpendGuard(SpendBudget(run_tokens=cap), PRICES, label="synthesize r")
    # A slow server: all six requests ask the guard before the first answer settles its reservation.
    transport = FakeTransport(lambda m: '{"label": "x"}', delay_s=0.01)
    outcomes = asyncio.run(client(tmp_path, transport, guard).run_batch_within_budget(
        [request(i) for i in items], Label))

    assert [o is not None for o in outcomes] == [True, True, True, False, False, False]
    assert len(transport.calls) == 3 and guard.calls == 3
    assert 0 < guard.spent.tokens <= cap and guard.reserved.tokens == 0
    assert guard.exhausted is not None and "run tokens cap" in guard.exhausted

    # The next run: the exhausted guard still lets the three cached requests replay, at no cost.
    again = FakeTransport(lambda m: '{"label": "x"}')
    outcomes = asyncio.run(client(tmp_path, again, guard).run_batch_within_budget([request(i) for i in items], Label))
    assert [o is not None and o.cache_hit for o in outcomes] == [True, True, True, False, False, False]
    assert again.calls == [] and guard.calls == 3

    with pytest.raises(BudgetExhausted, match="budget reached"):
        asyncio.run(client(tmp_path, again, guard).run_batch([request(i) for i in items], Label))


def test_committed_spend_and_the_day_cap_refuse_before_the_first_call(tmp_path: Path) -> None:
    committed = CommittedSpend(day="2026-12-03", run=Spend(tokens=10), day_total=Spend(tokens=990, usd=0.5))
    transport = FakeTransport(lambda m: '{"label": "x"}')
    guard = SpendGuard(SpendBudget(run_tokens=10**6, day_tokens=1000), PRICES, committed)
    assert asyncio.run(client(tmp_path, transport, guard).run_batch_within_budget([request("a")], Label)) == [None]
    assert transport.calls == [] and "day tokens cap" in (guard.exhausted or "")
    assert "day 2026-12-03 990 tokens" in (guard.exhausted or "")

    usd_guard = SpendGuard(SpendBudget(day_usd=0.5 + 1e-9), PRICES, committed)
    with pytest.raises(BudgetExhausted, match="day USD cap"):
        usd_guard.reserve("m", 100, 10)


def test_a_failed_call_releases_its_reservation(tmp_path: Path) -> None:
    from boostqa.llm.client import LlmUnavailable
    from boostqa.llm.transport import TransientError

    guard = SpendGuard(SpendBudget(run_tokens=10**6), PRICES)
    with pytest.raises(LlmUnavailable):
        asyncio.run(client(tmp_path, FakeTransport(lambda m: TransientError("503")), guard).generate(request("a"),
                                                                                                      Label))
    assert guard.reserved.tokens == 0 and guard.spent.tokens == 0 and guard.exhausted is None


def test_usd_caps_need_priced_models_and_charge_the_reported_model(tmp_path: Path) -> None:
    guard = SpendGuard(SpendBudget(run_usd=1.0), PriceList("p1", {}))
    with pytest.raises(UnknownModelPrice):
        guard.reserve("m", 10, 10)
    guard = SpendGuard(SpendBudget(run_usd=1.0), PRICES)
    hold = guard.reserve("m", 1000, 1000)
    assert guard.reserved.usd == pytest.approx(0.003)
    guard.settle(hold, "m-served-name", "m", 500_000, 0)  # unknown reported name: priced as the endpoint's model
    assert guard.spent.usd == pytest.approx(0.5) and guard.reserved.usd == pytest.approx(0.0)
    assert guard.remaining()["run USD"] == pytest.approx(0.5)


def test_share_limits_a_guard_to_part_of_what_remains() -> None:
    committed = CommittedSpend(day=None, run=Spend(tokens=400))
    guard = SpendGuard(SpendBudget(run_tokens=1400), PRICES, committed, share=0.5)  # 400 + 1000 * 0.5 = 900
    guard.reserve("m", 400, 100)
    with pytest.raises(BudgetExhausted, match="share 0.50"):
        guard.reserve("m", 0, 1)
    with pytest.raises(ConfigError):
        SpendGuard(SpendBudget(), PRICES, share=0)


def _ledger(rows: list[tuple[str, int, int, bool]], run_id: str) -> bytes:
    return parquet_bytes(pa.Table.from_pylist([LedgerRow(
        run_id=run_id, role="generator", model=model, item_id="i", request_id="q", prompt_version="v",
        prompt_tokens=prompt, completion_tokens=completion, latency_ms=1.0, cache_hit=hit, status="ok", attempts=1,
    ).model_dump() for model, prompt, completion, hit in rows], schema=LEDGER_SCHEMA))


def test_committed_spend_reads_this_run_and_the_runs_started_that_day(memory_store) -> None:  # type: ignore[no-untyped-def]
    base = "llm/ledger/stage=synthesize/run_id="
    other = "synthesize_20261203T230000Z_00000000"
    memory_store.objects |= {
        f"{base}{RUN}/part-00000.parquet": _ledger([("m", 100, 50, False), ("m", 1000, 1000, True)], RUN),
        f"{base}{RUN}/part-00001.parquet": _ledger([("m", 10, 5, False)], RUN),
        f"{base}{RUN}/_SUCCESS.00000": b"",
        f"{base}{other}/part-00000.parquet": _ledger([("m", 1_000_000, 0, False), ("x", 7, 3, False)], other),
        f"{base}synthesize_20261202T120000Z_11111111/part-00000.parquet": _ledger([("m", 5, 5, False)], "y"),
        f"{base}_bootstrap/part-00000.parquet": _ledger([], "_bootstrap"),
        f"llm/ledger/stage=annotate/run_id={RUN}/part-00000.parquet": _ledger([("m", 9, 9, False)], RUN),
    }
    spend = committed_spend(memory_store, "synthesize", RUN, PRICES)
    assert spend.day == "2026-12-03" and spend.runs_that_day == sorted([RUN, other])
    assert (spend.run.tokens, spend.run.usd) == (165, pytest.approx((110 + 55 * 2) / 1e6))
    assert spend.day_total.tokens == 165 + 1_000_010 and spend.day_total.unpriced_tokens == 10
    assert spend.day_total.usd == pytest.approx((110 + 55 * 2) / 1e6 + 1.0)
    again = committed_spend(memory_store, "synthesize", RUN, PRICES, exclude_keys={f"{base}{RUN}/part-00001.parquet"})
    assert again.run.tokens == 150

    guard = SpendGuard.from_lake(memory_store, "synthesize", RUN, SpendBudget(day_tokens=1_000_100), PRICES)
    with pytest.raises(BudgetExhausted):
        guard.reserve("m", 1, 1)


def test_run_days_come_from_run_ids() -> None:
    assert run_started_day(RUN) == "2026-12-03"
    assert run_started_day("annotate_2026-11-25") == "2026-11-25"
    assert run_started_day("s1") is None


def test_budgets_come_from_settings_and_params_override_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOOSTQA_BUDGET__SYNTHESIZE_RUN_USD", "5")
    monkeypatch.setenv("BOOSTQA_BUDGET__SYNTHESIZE_DAY_TOKENS", "1000000")
    settings = BoostqaSettings().budget
    budget = SpendBudget.for_stage("synthesize", settings)
    assert budget == SpendBudget(run_usd=5.0, day_tokens=1_000_000)
    assert SpendBudget.for_stage("annotate", settings) == SpendBudget()
    merged = budget.merged({"run_usd": "", "day_tokens": "off", "run_tokens": "2e5", "day_usd": None})
    assert merged == SpendBudget(run_usd=5.0, run_tokens=200_000)
    assert json.loads(merged.model_dump_json())["run_tokens"] == 200_000
    with pytest.raises(ConfigError, match="not a number"):
        budget.merged({"run_usd": "lots"})
