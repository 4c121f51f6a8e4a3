"""The eval marts and the closed loop on the real lake and dbt: per-benchmark and per-bucket comparisons with the
baseline, the headline, and a bucket the model is weak in receiving more quota in the next generation plan."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from boostqa.eval.score import mean_stderr
from boostqa.lake import layout
from boostqa.lake.bootstrap import ensure_schema_parts
from boostqa.lake.parquet import parquet_bytes
from boostqa.lake.store import ObjectStore
from boostqa.lake.tables import ITEM_RESULT_SCHEMA, SCORE_SCHEMA, SEED_SCHEMA
from boostqa.lake.versions import write_pointer
from boostqa.settings import BoostqaSettings
from boostqa.synthesize.replan import replan_decision
from boostqa.warehouse import dbt_env, query, run_dbt
from boostqa_dev.stack.seaweedfs import lake_config
from tests.conftest import reset_lake_prefixes

pytestmark = pytest.mark.integration
WEAK = ("physics", 3)  # the bucket the mid-trained model gets wrong
STRONG = ("mathematics", 2)


def _write(store: ObjectStore, model_id: str, benchmark: str, correct_by_bucket: dict[tuple[str, int], list[bool]],
           when: datetime) -> None:
    rows = []
    for (discipline, difficulty), answers in correct_by_bucket.items():
        for i, correct in enumerate(answers):
            rows.append({"model_id": model_id, "eval_run_id": "it", "evaluated_at": when, "benchmark": benchmark,
                         "item_id": f"{benchmark}:test:{discipline}:{i}", "config": discipline,
                         "discipline_id": discipline, "difficulty": difficulty, "language": "en",
                         "task_type": "multiple_choice", "num_fewshot": 0, "correct": correct,
                         "correct_norm": correct, "predicted": "A" if correct else "B", "gold": "A",
                         "choice_logprobs": [0.0, -1.0], "output": None})
    store.put_bytes(layout.eval_part("items", model_id, benchmark),
                    parquet_bytes(pa.Table.from_pylist(rows, schema=ITEM_RESULT_SCHEMA)))
    acc = sum(r["correct"] for r in rows) / len(rows)
    stderr = mean_stderr([float(r["correct"]) for r in rows])
    scores = [{"model_id": model_id, "eval_run_id": "it", "evaluated_at": when, "benchmark": benchmark,
               "metric": metric, "value": value, "items": len(rows), "num_fewshot": 0, "model_path": "/m"}
              for metric, value in (("acc", acc), ("acc_norm", acc), ("acc_stderr", stderr))]
    store.put_bytes(layout.eval_part("scores", model_id, benchmark),
                    parquet_bytes(pa.Table.from_pylist(scores, schema=SCORE_SCHEMA)))


def _plan(stack: BoostqaSettings, warehouse: Path, target: Path, plan_id: str) -> dict[tuple[str, int], int]:
    run_dbt(["build", "--select", "+fct_generation_plan", "+fct_eval_headline", "+fct_eval_comparison",
             "+fct_eval_bucket_comparison", "+fct_eval_bucket_accuracy", "export_deficiency_probe",
             "--indirect-selection", "cautious", "--target-path", str(target)],
            dbt_env(lake_config(stack), warehouse) | {"BOOSTQA_PLAN_ID": plan_id})
    rows = query(warehouse, "select discipline_id, target_difficulty, sum(quota) as quota "
                            "from marts.fct_generation_plan group by all")
    return {(r["discipline_id"], r["target_difficulty"]): int(r["quota"]) for r in rows}


def test_a_weak_bucket_gets_more_quota_in_the_next_plan(stack: BoostqaSettings, tmp_path: Path) -> None:
    store = ObjectStore(lake_config(stack))
    reset_lake_prefixes(store, ["eval/"])
    ensure_schema_parts(store)
    # the plan reads the seed corpus: an empty seeds part stands in for it when no ingest ran in this lake
    seeds_key = f"{layout.raw_seed_prefix('eval_it', date(2026, 11, 26))}{layout.part_name(0)}"
    store.put_bytes(seeds_key, parquet_bytes(SEED_SCHEMA.empty_table()))
    pointer = store.get_bytes_or_none(layout.latest_pointer("plans"))  # the session's lake: put back afterwards
    try:
        _check_closed_loop(stack, store, tmp_path)
    finally:
        store.delete_keys([seeds_key, *store.list_keys(f"{layout.PLANS}/plan_id=eval_loop_")])
        if pointer is None:
            store.delete_keys([layout.latest_pointer("plans")])
        else:
            store.put_bytes(layout.latest_pointer("plans"), pointer)


def _check_closed_loop(stack: BoostqaSettings, store: ObjectStore, tmp_path: Path) -> None:
    warehouse = tmp_path / "wh.duckdb"
    before = _plan(stack, warehouse, tmp_path / "t1", "eval_loop_1")
    write_pointer(store, "plans", "eval_loop_1")
    assert query(warehouse, "select count(*) as n from marts.fct_deficiency_probe") == [{"n": 0}]

    earlier, later = datetime(2026, 11, 26, 8, tzinfo=UTC), datetime(2026, 11, 26, 9, tzinfo=UTC)
    for benchmark in ("mmlu", "cmmlu"):
        _write(store, "baseline", benchmark, {WEAK: [True] * 6 + [False] * 4, STRONG: [True] * 5 + [False] * 5},
               earlier)
        _write(store, "midtrain_it", benchmark, {WEAK: [True] * 1 + [False] * 9, STRONG: [True] * 9 + [False]},
               later)
    after = _plan(stack, warehouse, tmp_path / "t2", "eval_loop_2")
    # the evaluation alone triggers the next build; its probe moved (the weak bucket), so its plan is published
    moved = replan_decision(store, "eval_loop_2", evaluations_only=True, min_change=0.02)
    assert moved.publish and moved.probe_change is not None and moved.probe_change > 0.5, moved
    write_pointer(store, "plans", "eval_loop_2")

    probe = {(r["discipline_id"], r["difficulty"]): r for r in query(
        warehouse, "select * from marts.fct_deficiency_probe")}
    assert {r["model_id"] for r in probe.values()} == {"midtrain_it"}  # the most recently evaluated model
    assert probe[WEAK]["accuracy"] == pytest.approx(0.1) and probe[WEAK]["deficiency"] > 0.5
    assert probe[STRONG]["deficiency"] == 0
    assert after[WEAK] > before[WEAK]  # the closed loop: the weak bucket's quota grows

    (headline,) = query(warehouse, "select * from marts.fct_eval_headline where not is_baseline")
    assert headline["headline"] == pytest.approx(0.5) and headline["baseline_headline"] == pytest.approx(0.55)
    assert headline["headline_delta_points"] == pytest.approx(-5.0)
    assert headline["headline_relative_pct"] == pytest.approx(-5 / 0.55)
    # -5 points from 20 items per benchmark (five items lost, four gained): the interval holds 0, within noise
    assert headline["headline_ci_low_points"] < -5.0 < headline["headline_ci_high_points"]
    assert headline["headline_ci_low_points"] < 0 < headline["headline_ci_high_points"]
    assert headline["headline_within_noise"] and headline["average_12_within_noise"]
    assert headline["headline_stderr"] == pytest.approx(mean_stderr([1.0] * 10 + [0.0] * 10) / 2 ** 0.5)
    buckets = {(r["discipline_id"], r["difficulty"]): r for r in query(
        warehouse, "select * from marts.fct_eval_bucket_comparison")}
    assert buckets[WEAK]["delta_points"] == pytest.approx(-50.0)
    assert buckets[STRONG]["delta_points"] == pytest.approx(40.0)
    # half the weak bucket's 20 items lost: beyond noise, the interval all below 0 and around the change
    assert buckets[WEAK]["delta_ci_low_points"] < -50.0 < buckets[WEAK]["delta_ci_high_points"] < 0
    assert not buckets[WEAK]["within_noise"] and not buckets[STRONG]["within_noise"]
    assert buckets[STRONG]["delta_ci_low_points"] > 0
    comparison = query(warehouse, "select * from marts.fct_eval_comparison order by benchmark")
    assert [(c["benchmark"], c["comparable"]) for c in comparison] == [("cmmlu", True), ("mmlu", True)]
    assert all(c["shared_items"] == 20 and c["within_noise"] for c in comparison)
    assert all(c["model_stderr"] == pytest.approx(mean_stderr([1.0] * 10 + [0.0] * 10)) for c in comparison)
    # the same results give the same interval: rebuilding draws the same resamples
    intervals = [(c["delta_ci_low_points"], c["delta_ci_high_points"]) for c in comparison]
    _plan(stack, warehouse, tmp_path / "t3", "eval_loop_3")
    again = query(warehouse, "select * from marts.fct_eval_comparison order by benchmark")
    assert [(c["delta_ci_low_points"], c["delta_ci_high_points"]) for c in again] == intervals
    # a build with no new evaluation since: the same probe, so its plan is not published and the loop stops
    same = replan_decision(store, "eval_loop_3", evaluations_only=True, min_change=0.02)
    assert not same.publish and same.probe_change == 0.0 and same.previous_plan_id == "eval_loop_2", same
