"""The QC stage on a fixture with planted problems: each caught with the right reason, look-alikes kept."""

from __future__ import annotations

import pyarrow as pa
import pytest

from boostqa.benchmarks.loader import load_items
from boostqa.errors import ConfigError
from boostqa.lake import layout
from boostqa.lake.commits import commit_shard
from boostqa.lake.parquet import parquet_bytes
from boostqa.lake.tables import QA_SCHEMA
from boostqa.qc.records import QcConfig
from boostqa.qc.run import rebuild_index, run_qc
from boostqa.qc.stage import QualityControl
from tests.boostqa.qc.planted import RUN_ID, Planted, planted_items
from tests.conftest import MemoryStore, lake_rows


def _put_items(store: MemoryStore, rows: list[dict[str, object]], run_id: str = RUN_ID) -> None:
    full = [{name: row.get(name) for name in QA_SCHEMA.names} | {"run_id": run_id} for row in rows]
    store.put_bytes(layout.qa_prefix(run_id) + layout.part_name(0), parquet_bytes(pa.Table.from_pylist(
        full, schema=QA_SCHEMA)))
    commit_shard(store, layout.qa_prefix(run_id), 0)


def _table(name: str, run_id: str) -> str:
    return f"{layout.qc_table_prefix(name)}run_id={run_id}/"


def _decisions(store: MemoryStore, run_id: str = RUN_ID) -> tuple[set[str], dict[str, dict[str, object]]]:
    kept = {r["item_id"] for r in lake_rows(store, _table("kept", run_id))}
    removals = lake_rows(store, _table("removals", run_id))
    return kept, {str(r["item_id"]): r for r in removals if r["rank"] == 1}


def _planted() -> tuple[list[Planted], list[object]]:
    benchmarks = load_items(splits="all")
    return planted_items(benchmarks), benchmarks


def test_every_planted_problem_is_caught_with_its_reason_and_look_alikes_survive(memory_store: MemoryStore) -> None:
    planted, benchmarks = _planted()
    _put_items(memory_store, [p.row for p in planted])

    result = run_qc(memory_store, RUN_ID, QcConfig(), benchmark_items=benchmarks)  # type: ignore[arg-type]
    kept, first = _decisions(memory_store)

    bad = [p for p in planted if p.expected_reason]
    assert {p.row["item_id"]: first[p.row["item_id"]]["reason"] for p in bad if p.row["item_id"] in first} == {
        p.row["item_id"]: p.expected_reason for p in bad}
    for p in bad:
        decision = first[p.row["item_id"]]
        if p.duplicate_of:
            assert decision["duplicate_of"] == p.duplicate_of
        if p.benchmark_item_id:
            assert decision["benchmark_item_id"] == p.benchmark_item_id
    look_alikes = [p.row["item_id"] for p in planted if p.expected_reason is None]
    assert len(look_alikes) >= 100
    survived = sum(item_id in kept for item_id in look_alikes)
    assert survived / len(look_alikes) >= 0.99, [i for i in look_alikes if i not in kept]
    # Every item is kept or has exactly one first reason.
    assert kept.isdisjoint(first) and kept | set(first) == {p.row["item_id"] for p in planted}
    assert result.items == len(planted) and result.kept == len(kept)
    assert sum(result.reasons.values()) == len(bad)


def test_filters_report_every_reason_with_the_first_ranked_one(memory_store: MemoryStore) -> None:
    row = planted_items([])[-1].row | {"item_id": "two-faults", "refined_answer": "<think>" + " loop" * 40}
    _put_items(memory_store, [row])
    run_qc(memory_store, RUN_ID, QcConfig(), benchmark_items=[])
    removals = sorted(lake_rows(memory_store, _table("removals", RUN_ID)), key=lambda r: r["rank"])
    assert [(r["reason"], r["rank"]) for r in removals] == [("reasoning_leftover", 1), ("repeated_ngrams", 2)]


def test_a_later_run_is_deduplicated_against_the_index_of_earlier_runs(memory_store: MemoryStore) -> None:
    planted, _ = _planted()
    first_rows = [p.row for p in planted if p.expected_reason is None][:30]
    _put_items(memory_store, first_rows, run_id="run_a")
    assert run_qc(memory_store, "run_a", benchmark_items=[]).kept == 30

    again = [r | {"item_id": "b-" + str(r["item_id"])} for r in first_rows[:5]]
    fresh = [p.row | {"item_id": "b-fresh-" + str(p.row["item_id"])}
             for p in planted if p.expected_reason is None][30:35]
    _put_items(memory_store, again + fresh, run_id="run_b")
    result = run_qc(memory_store, "run_b", benchmark_items=[])

    kept, first = _decisions(memory_store, "run_b")
    assert kept == {str(r["item_id"]) for r in fresh}
    assert {k: v["duplicate_of"] for k, v in first.items()} == {
        str(r["item_id"]): str(r["item_id"]).removeprefix("b-") for r in again}
    assert result.reasons == {"exact_duplicate": 5}


def test_rerun_skips_and_forced_rerun_gives_the_same_decisions(memory_store: MemoryStore) -> None:
    planted, benchmarks = _planted()
    _put_items(memory_store, [p.row for p in planted])
    run_qc(memory_store, RUN_ID, benchmark_items=benchmarks)  # type: ignore[arg-type]
    before = {k: v for k, v in memory_store.objects.items() if k.startswith(layout.QC)}

    assert run_qc(memory_store, RUN_ID, benchmark_items=benchmarks).skipped  # type: ignore[arg-type]
    redo = run_qc(memory_store, RUN_ID, benchmark_items=benchmarks, force=True)  # type: ignore[arg-type]

    assert not redo.skipped  # its own index part is not used against it: same decisions, same bytes
    assert {k: v for k, v in memory_store.objects.items() if k.startswith(layout.QC)} == before


def test_an_exact_duplicate_of_a_near_duplicate_points_at_the_cluster_keeper(memory_store: MemoryStore) -> None:
    planted, _ = _planted()
    original = next(p.row for p in planted if p.row["item_id"] == "la-trip-000")
    words = str(original["question"]).split(" ")
    words[-3] = "exactly"
    near = original | {"item_id": "b-near", "question": " ".join(words), "verified_difficulty": 2}
    twin = near | {"item_id": "c-twin", "question": str(near["question"]).upper()}
    _put_items(memory_store, [original, near, twin])
    run_qc(memory_store, RUN_ID, benchmark_items=[])
    kept, first = _decisions(memory_store)
    assert kept == {"la-trip-000"}
    assert {k: (v["reason"], v["duplicate_of"]) for k, v in first.items()} == {
        "b-near": ("near_duplicate", "la-trip-000"), "c-twin": ("exact_duplicate", "la-trip-000")}


def test_the_same_question_with_other_options_is_an_exact_duplicate(memory_store: MemoryStore) -> None:
    planted, _ = _planted()
    original = next(p.row for p in planted if p.row["item_id"] == "la-share-000")
    other_options = original | {"item_id": "la-share-zzz", "options": ["1", "2", "3", "4"]}
    _put_items(memory_store, [original, other_options])
    run_qc(memory_store, RUN_ID, benchmark_items=[])
    kept, first = _decisions(memory_store)
    assert kept == {"la-share-000"} and first["la-share-zzz"]["reason"] == "exact_duplicate"


def test_an_index_built_with_other_shingle_settings_is_refused_with_the_fix(memory_store: MemoryStore) -> None:
    planted, _ = _planted()
    rows = [p.row for p in planted if p.expected_reason is None][:3]
    _put_items(memory_store, rows, run_id="run_a")
    run_qc(memory_store, "run_a", benchmark_items=[])
    _put_items(memory_store, rows, run_id="run_b")
    other = QcConfig.model_validate({"minhash": {"shingle_size": 4}})
    with pytest.raises(ConfigError, match=r"run 'run_a'.*boostqa qc --rebuild-index"):
        run_qc(memory_store, "run_b", other, benchmark_items=[])
    assert memory_store.get_bytes_or_none(layout.qc_marker("run_b")) is None


def test_rebuilding_the_index_redoes_every_run_in_order(memory_store: MemoryStore) -> None:
    planted, _ = _planted()
    rows = [p.row for p in planted if p.expected_reason is None][:4]
    for run in ("run_a", "run_b"):
        _put_items(memory_store, rows, run_id=run)
        run_qc(memory_store, run, benchmark_items=[])
    other = QcConfig.model_validate({"minhash": {"shingle_size": 4}})
    results = rebuild_index(memory_store, other, benchmark_items=[])
    assert [(r.run_id, r.kept, r.reasons) for r in results] == [
        ("run_a", 4, {}), ("run_b", 0, {"exact_duplicate": 4})]
    rows_a = lake_rows(memory_store, _table("index", "run_a"))
    assert {r["index_fingerprint"] for r in rows_a} == {QualityControl(other, []).index_fingerprint}
    assert "k=4" in QualityControl(other, []).index_fingerprint
