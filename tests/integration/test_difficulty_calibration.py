"""Difficulty by solve rate on the real stack: the solver role samples answers from the embedded vLLM server for
benchmark items whose answers we know, the records go to the lake as a synthesis shard writes them, and dbt builds
fct_difficulty_calibration from them (its unit test runs in the same build); then qa_synthesis runs through Airflow
with verify_policy both (the generator answering from the recorded reply set, the solver on vLLM)."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import pytest

from boostqa.benchmarks.loader import load_items
from boostqa.lake import layout
from boostqa.lake.commits import commit_shard
from boostqa.lake.parquet import write_rows
from boostqa.lake.store import ObjectStore
from boostqa.lake.tables import SOLVE_SCHEMA
from boostqa.llm.cache import ResponseCache
from boostqa.llm.client import LlmClient
from boostqa.llm.transport import OpenAiTransport
from boostqa.llm.types import LlmEndpoint
from boostqa.settings import BoostqaSettings
from boostqa.synthesize.solve import SolveTask, empirical_band
from boostqa.warehouse import dbt_env, query, run_dbt
from boostqa_dev.demo import run_dag
from boostqa_dev.stack.seaweedfs import lake_config
from tests.conftest import lake_rows, new_run_id, reset_lake_prefixes, run_ids
from tests.integration.recorded_generator import recorded_generator

pytestmark = pytest.mark.integration
RUN = "synthesize_calibration_it"
DAY = date(2026, 11, 29)


def _items() -> list[dict[str, object]]:
    """Three ARC-Easy items (multiple choice, label 2) and two GSM8K items (open, label 2), with their answers."""
    arc = load_items(names=["arc_easy"])[:3]
    gsm = load_items(names=["gsm8k"])[:2]
    common = {"run_id": RUN, "target_difficulty": 2, "verified_difficulty": 2}
    return [common | {"item_id": i.item_id, "discipline_id": "earth_science", "question": i.question,
                      "options": list(i.choices or []), "refined_answer": i.answer,
                      "refined_option": "ABCD"[i.answer_index or 0]} for i in arc] + [
        common | {"item_id": i.item_id, "discipline_id": "mathematics", "question": i.question, "options": None,
                  "refined_answer": i.answer, "refined_option": None} for i in gsm]


def test_solve_rates_from_the_embedded_server_reach_the_calibration_mart(stack_with_llm: BoostqaSettings,
                                                                         tmp_path: Path) -> None:
    settings = stack_with_llm
    endpoint = LlmEndpoint(role="solver", base_url=settings.llm_base_url, model=settings.llm_server.served_model_name,
                           max_concurrency=4, max_attempts=4)
    client = LlmClient(endpoint, OpenAiTransport(), ResponseCache(tmp_path / "cache.sqlite"), run_id=RUN,
                       backoff_s=0.2)
    task = SolveTask(samples=3, max_tokens=160, plain_text=True)  # the 135M model needs bounded strings
    items = _items()
    requests, schemas = [], []
    for item in items:
        requests += task.build_requests(str(item["item_id"]), "en", str(item["question"]),
                                        item["options"])  # type: ignore[arg-type]
        schemas += [task.output_model(item["options"] is not None)] * task.samples
    outcomes = asyncio.run(client.run_batch(requests, schemas))
    records = [task.record(item, outcomes[n * task.samples:(n + 1) * task.samples]) for n, item in enumerate(items)]

    assert all(r.samples == 3 and r.solver_model == settings.llm_server.served_model_name for r in records)
    assert sum(r.graded for r in records) >= 10, [(r.item_id, r.graded) for r in records]  # structured outputs hold
    for record in records:
        if record.graded:
            assert record.solve_rate == record.solved / record.graded
            assert record.empirical_difficulty == empirical_band(record.solve_rate)
    assert {row.role for row in client.ledger.rows} == {"solver"} and len(client.ledger.rows) >= 15
    print("solve rates:", [(r.item_id, r.solved, r.graded) for r in records])

    store = ObjectStore(lake_config(settings))
    reset_lake_prefixes(store, [layout.solves_prefix(RUN), layout.qa_prefix(RUN)])
    try:
        write_rows(store, layout.solves_prefix(RUN) + layout.part_name(0), [r.model_dump() for r in records],
                   SOLVE_SCHEMA)
        commit_shard(store, layout.qa_prefix(RUN), 0)
        warehouse = tmp_path / "wh.duckdb"
        run_dbt(["build", "--select", "stg_qa__solves", "fct_difficulty_calibration", "--target-path",
                 str(tmp_path / "target")], dbt_env(lake_config(settings), warehouse))
        rows = query(warehouse, "select * from marts.fct_difficulty_calibration order by discipline_id")
        graded = [r for r in records if r.solve_rate is not None]
        by_discipline = {d: [r for r in graded if r.discipline_id == d] for d in ("earth_science", "mathematics")}
        expected = [(d, 2, len(rs), sum(r.solve_rate or 0.0 for r in rs) / len(rs))
                    for d, rs in sorted(by_discipline.items()) if rs]
        assert [(r["discipline_id"], r["labelled_difficulty"], r["items"]) for r in rows] == [e[:3] for e in expected]
        assert [r["mean_solve_rate"] for r in rows] == pytest.approx([e[3] for e in expected])
        assert all(r["fit_slope"] is None and 1 <= r["calibrated_difficulty"] <= 5 for r in rows)  # one label each
    finally:
        reset_lake_prefixes(store, [layout.solves_prefix(RUN), layout.qa_prefix(RUN)])


@pytest.mark.timeout(1200)  # one synthesis run through Airflow, up to one warehouse build
def test_qa_synthesis_with_a_solve_rate_policy_meters_the_solver_and_fills_the_mart(
        annotated_stack: BoostqaSettings, monkeypatch: pytest.MonkeyPatch) -> None:
    """The solver role through Airflow: its connection, its ledger turns, its lake part and the calibration mart."""
    settings = annotated_stack
    store = ObjectStore(lake_config(settings))
    conf = {"limit": 4, "shard_size": 4, "difficulty_tolerance": 4, "plain_text": True,
            "refine_policy": "keep_refined", "verify_policy": "both", "solve_samples": 2, "solver_max_tokens": 160}
    with recorded_generator(settings, monkeypatch, from_the_end=True):
        if store.get_bytes_or_none("plans/latest.json") is None:  # an earlier test's plan serves as well
            run_dag(settings, "warehouse_build", DAY)
        before = run_ids(store, "synthesis/")
        run_dag(settings, "qa_synthesis", DAY, conf=conf)
    run = new_run_id(store, "synthesis/", before)
    items = {r["item_id"] for r in lake_rows(store, f"qa/run_id={run}/")}
    solved_out = {r["item_id"] for r in lake_rows(store, f"quarantine/synthesize/run_id={run}/")
                  if r["step"] == "solve"}
    solves = lake_rows(store, layout.solves_prefix(run))
    assert {s["item_id"] for s in solves} == items | solved_out and solves, "every refined item has its solve rate"
    assert all(s["samples"] == 2 for s in solves)
    turns = [r for r in lake_rows(store, f"llm/ledger/stage=synthesize/run_id={run}/") if r["role"] == "solver"]
    assert len(turns) >= 2 * len(solves)  # two samples per item (and their re-asks): metered like every role
    staged = query(settings.warehouse_path, "select count(*) as n from staging.stg_qa__solves "
                   f"where synthesis_run_id = '{run}'", lake_config(settings))  # a view over the lake
    assert staged == [{"n": len(solves)}]
    calibrated = query(settings.warehouse_path, "select sum(items) as n from marts.fct_difficulty_calibration")
    assert calibrated[0]["n"] >= sum(1 for s in solves if s["solve_rate"] is not None)
