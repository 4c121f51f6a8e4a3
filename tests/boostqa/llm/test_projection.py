"""Pre-flight: tokens per job measured (warehouse, lake) or a prior, the projection, the refusal and its record."""

from __future__ import annotations

import io
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from boostqa.lake.parquet import parquet_bytes
from boostqa.lake.tables import LEDGER_SCHEMA
from boostqa.llm.budget import CommittedSpend, Spend, SpendBudget
from boostqa.llm.history import (
    ANY_ROLE,
    UsagePerJob,
    measure_usage,
    prior_usage,
    usage_from_lake,
    usage_from_warehouse,
)
from boostqa.llm.prices import Price, PriceList, UnknownModelPrice
from boostqa.llm.projection import (
    BUDGET_SCHEMA,
    BudgetExceeded,
    check_projection,
    max_jobs_within,
    preflight,
    project_spend,
)
from boostqa.llm.types import LedgerRow
from boostqa.settings import BudgetSettings

PRICES = PriceList("p1", {"r1": Price(1.0, 4.0), "v3": Price(0.5, 1.0), "small": Price(0.0, 0.0)})
ROLES = {"generator": "r1", "annotator": "small", "refiner": "v3"}
RUN = "synthesize_20261203T085512Z_1a2b3c4d"


def usage(**per_role: tuple[float, float]) -> UsagePerJob:
    return UsagePerJob(per_role=per_role, source="history", detail="test, 2 runs, 20 jobs")


def test_each_role_is_priced_at_its_model_and_a_prior_at_the_dearest() -> None:
    history = project_spend(10, usage(generator=(100, 1000), refiner=(200, 100)), PRICES, ROLES, stage="s", run_id=RUN)
    assert history.projected_tokens == 14_000 and history.tokens_per_job == 1400
    assert history.projected_usd == pytest.approx((1000 * 1 + 10_000 * 4 + 2000 * 0.5 + 1000 * 1) / 1e6)
    prior = project_spend(10, prior_usage("synthesize", BudgetSettings()), PRICES, ROLES, stage="s", run_id=RUN)
    assert prior.usage_source == "prior" and prior.projected_tokens == 10 * (2000 + 1500)
    assert prior.projected_usd == pytest.approx(PRICES.cost("r1", 20_000, 15_000))
    unpriced = project_spend(1, usage(generator=(1, 1)), PRICES, {"generator": "gpt-x"}, stage="s", run_id=RUN)
    assert unpriced.projected_usd is None and unpriced.unpriced_models == ["gpt-x"]
    check_projection(unpriced, SpendBudget(run_tokens=10))  # tokens only: pricing is not needed
    with pytest.raises(UnknownModelPrice, match="gpt-x"):
        check_projection(unpriced, SpendBudget(run_usd=10))


def test_over_budget_is_refused_with_the_numbers() -> None:
    committed = CommittedSpend(day="2026-12-03", day_total=Spend(tokens=50_000, usd=0.25))
    projection = project_spend(100, usage(generator=(300, 700)), PRICES, ROLES, stage="synthesize", run_id=RUN,
                               committed=committed)
    check_projection(projection, SpendBudget(run_tokens=100_000, day_tokens=150_000))  # exactly fits
    budget = SpendBudget(run_tokens=200_000, day_tokens=120_000, day_usd=10.0)
    with pytest.raises(BudgetExceeded) as refused:
        check_projection(projection, budget)
    message = str(refused.value)
    for number in ("100 jobs", "1,000 tokens/job", "history: test, 2 runs, 20 jobs", "100,000 tokens",
                   f"${projection.projected_usd:,.4f}", "day 2026-12-03 tokens", "budget 120,000 tokens",
                   "already spent 50,000 tokens", "remaining 70,000 tokens", "At most 70 jobs fit",
                   "before any LLM call"):
        assert number in message, number
    assert max_jobs_within(projection, budget) == 70
    assert max_jobs_within(projection, SpendBudget()) is None


def _ledger_part(run: str, rows: list[tuple[str, str, int, int]]) -> bytes:
    return parquet_bytes(pa.Table.from_pylist([LedgerRow(
        run_id=run, role=role, model="m", item_id=item, request_id="q", prompt_version="v", prompt_tokens=prompt,
        completion_tokens=completion, latency_ms=0.0, cache_hit=False, status="ok", attempts=1,
    ).model_dump() for role, item, prompt, completion in rows], schema=LEDGER_SCHEMA))


def test_tokens_per_job_are_measured_on_the_latest_runs_in_the_lake(memory_store) -> None:  # type: ignore[no-untyped-def]
    base = "llm/ledger/stage=synthesize/run_id="
    memory_store.objects |= {
        f"{base}synthesize_20261201T000000Z_00000000/part-00000.parquet": _ledger_part("a", [
            ("generator", "j1", 100, 200), ("generator", "j2", 100, 200), ("refiner", "j1", 50, 50)]),
        f"{base}synthesize_20261202T000000Z_00000000/part-00000.parquet": _ledger_part("b", [
            ("generator", "j3", 400, 400), ("annotator", "j3", 10, 10)]),
        f"{base}synthesize_20261130T000000Z_00000000/part-00000.parquet": _ledger_part("old", [
            ("generator", "j0", 10**6, 10**6)]),
        f"{base}{RUN}/part-00000.parquet": _ledger_part(RUN, [("generator", "x", 10**6, 10**6)]),
        f"{base}_bootstrap/part-00000.parquet": _ledger_part("_bootstrap", []),
    }
    measured = usage_from_lake(memory_store, "synthesize", runs=2, exclude_run=RUN)
    assert measured is not None and measured.source == "history" and len(measured.runs) == 2
    assert measured.per_role == {"generator": (200.0, 800 / 3), "refiner": (50 / 3, 50 / 3),
                                 "annotator": (10 / 3, 10 / 3)}
    assert "lake ledger, 2 runs, 3 jobs" in measured.detail

    prior = prior_usage("synthesize", BudgetSettings())
    assert measure_usage("synthesize", prior, memory_store, Path("/nonexistent.duckdb"), runs=2, exclude_run=RUN
                         ).detail == measured.detail
    assert measure_usage("annotate", prior, memory_store) is prior
    assert prior.per_role == {ANY_ROLE: (2000.0, 1500.0)}


def test_tokens_per_job_come_from_fct_llm_usage_when_the_warehouse_has_them(tmp_path: Path) -> None:
    import duckdb

    from boostqa.warehouse import publish_snapshot

    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.fct_llm_usage (stage varchar, run_id varchar, role varchar, model varchar, "
                    "items bigint, all_prompt_tokens bigint, all_completion_tokens bigint)")
        con.execute("""insert into marts.fct_llm_usage values
            ('synthesize', 'r1', 'generator', 'm', 10, 1000, 3000), ('synthesize', 'r1', 'refiner', 'n', 6, 600, 60),
            ('synthesize', 'r2', 'generator', 'm', 30, 5000, 9000), ('annotate', 'a1', 'annotator', 'm', 99, 1, 1),
            ('synthesize', '_bootstrap', 'generator', 'm', 0, 0, 0)""")
    assert usage_from_warehouse(path, "synthesize") is None  # nothing published yet: readers never open dbt's file
    publish_snapshot(path)
    measured = usage_from_warehouse(path, "synthesize")
    assert measured is not None and measured.runs == ["r1", "r2"]
    assert "fct_llm_usage, 2 runs, 40 jobs" in measured.detail
    assert measured.per_role == {"generator": (150.0, 300.0), "refiner": (15.0, 1.5)}
    assert usage_from_warehouse(path, "synthesize", runs=1).runs == ["r2"]  # type: ignore[union-attr]
    assert usage_from_warehouse(tmp_path / "missing.duckdb", "synthesize") is None
    # An outdated warehouse (no such columns) is skipped for the lake, then the prior.
    with duckdb.connect(str(path)) as con:
        con.execute("drop table marts.fct_llm_usage")
        con.execute("create table marts.fct_llm_usage (stage varchar)")
    publish_snapshot(path)
    prior = prior_usage("synthesize", BudgetSettings())
    assert measure_usage("synthesize", prior, warehouse_path=path) is prior


def test_preflight_writes_the_budget_record_and_refuses_over_budget(memory_store) -> None:  # type: ignore[no-untyped-def]
    usage_ = usage(generator=(500, 500))
    projection = preflight(memory_store, "synthesize", RUN, 10, SpendBudget(run_tokens=10_000), PRICES, ROLES, usage_)
    key = f"llm/budgets/stage=synthesize/run_id={RUN}/part-00000.parquet"
    table = pq.read_table(io.BytesIO(memory_store.objects[key]))
    assert table.schema.equals(BUDGET_SCHEMA)
    [row] = table.to_pylist()
    assert (row["is_accepted"], row["jobs"], row["projected_tokens"], row["run_budget_tokens"]) == (True, 10, 10_000,
                                                                                                     10_000)
    assert str(row["run_day"]) == "2026-12-03" and row["usage_source"] == "history" and row["reason"] is None
    assert projection.committed.day == "2026-12-03"

    with pytest.raises(BudgetExceeded, match="11 jobs"):
        preflight(memory_store, "synthesize", RUN, 11, SpendBudget(run_tokens=10_000), PRICES, ROLES, usage_)
    [row] = pq.read_table(io.BytesIO(memory_store.objects[key])).to_pylist()
    assert row["is_accepted"] is False and "refused before any LLM call" in row["reason"]


def test_preflight_stage_takes_caps_from_settings_and_params(memory_store, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from boostqa.llm.projection import preflight_stage
    from boostqa.settings import get_settings

    monkeypatch.setenv("BOOSTQA_BUDGET__SYNTHESIZE_RUN_TOKENS", "35000")
    get_settings.cache_clear()
    try:
        roles = {"generator": "deepseek-r1", "annotator": "smollm2-135m-instruct", "refiner": "deepseek-v3"}
        budget, projection = preflight_stage(memory_store, "synthesize", RUN, 10, roles,
                                             warehouse_path=tmp_path / "none.duckdb")
        assert budget.run_tokens == 35_000 and projection.usage_source == "prior"
        assert projection.projected_usd == pytest.approx((20_000 * 0.55 + 15_000 * 2.19) / 1e6)  # the dearest
        with pytest.raises(BudgetExceeded, match=r"\$0\.0100"):
            preflight_stage(memory_store, "synthesize", RUN, 10, roles, {"run_usd": "0.01", "run_tokens": "off"},
                            warehouse_path=tmp_path / "none.duckdb")
    finally:
        get_settings.cache_clear()
