"""The bucketed QC pipeline decides exactly what single-process QC decides, run after run, wherever its phases run."""

from __future__ import annotations

import random

import numpy as np
import pyarrow as pa

from boostqa.benchmarks.loader import load_items
from boostqa.lake import layout
from boostqa.lake.commits import commit_shard
from boostqa.lake.parquet import parquet_bytes
from boostqa.lake.tables import QA_SCHEMA
from boostqa.qc.buckets import BUCKETS
from boostqa.qc.minhash import Shingled
from boostqa.qc.records import QcConfig, QcItem
from boostqa.qc.reference import DedupIndex, ReferenceQc
from boostqa.qc.run import run_qc
from boostqa.qc.stage import QualityControl
from tests.boostqa.qc.planted import RUN_ID, planted_items
from tests.conftest import MemoryStore, lake_rows

_COMPARED = ("item_id", "step", "reason", "rank", "duplicate_of", "similarity", "detail", "benchmark_item_id")


def _row(item_id: str, run_id: str, question: str, difficulty: int) -> dict[str, object]:
    return {"item_id": item_id, "run_id": run_id, "strategy": "multi_grade", "discipline_id": "mathematics",
            "target_difficulty": difficulty, "verified_difficulty": difficulty, "language": "en",
            "question": question, "options": None, "refined_answer": "42", "refined_option": None, "reasoning": None}


def _families(seed: int, runs: list[str], per_run: int) -> dict[str, list[dict[str, object]]]:
    """Random questions with planted near-duplicate families (one over 32 members), exact twins across runs."""
    rng = random.Random(seed)
    vocab = [f"w{n}" for n in range(3000)]
    roots: list[list[str]] = []
    out: dict[str, list[dict[str, object]]] = {}
    for r, run in enumerate(runs):
        rows = []
        for n in range(per_run):
            roll = rng.random()
            if roots and roll < 0.35:  # a near copy of an earlier question (this run's or an earlier run's)
                words = list(rng.choice(roots))
                for _ in range(rng.randint(1, 3)):
                    words[rng.randrange(len(words))] = rng.choice(vocab)
            elif roots and roll < 0.45:  # the same question, other case and spacing
                words = [w.upper() for w in rng.choice(roots)]
            else:
                words = [rng.choice(vocab) for _ in range(rng.randint(60, 90))]
                roots.append(words)
            rows.append(_row(f"{run}-{n:04d}", run, " ".join(words), rng.randint(1, 5)))
        if r == 0:  # one big family: more members than an LSH bucket pairs with each other
            base = roots[0]
            for n in range(40):
                words = list(base)
                words[rng.randrange(len(words))] = rng.choice(vocab)
                rows.append(_row(f"{run}-big-{n:02d}", run, " ".join(words), rng.randint(1, 5)))
        out[run] = rows
    return out


def _put(store: MemoryStore, run_id: str, rows: list[dict[str, object]], parts: int = 3) -> None:
    full = [{name: row.get(name) for name in QA_SCHEMA.names} for row in rows]
    for p in range(parts):
        chunk = full[p::parts]
        store.put_bytes(layout.qa_prefix(run_id) + layout.part_name(p),
                        parquet_bytes(pa.Table.from_pylist(chunk, schema=QA_SCHEMA)))
        commit_shard(store, layout.qa_prefix(run_id), p)


def _decisions(store: MemoryStore, run_id: str) -> tuple[set[str], list[tuple[object, ...]]]:
    kept = {str(r["item_id"]) for r in lake_rows(store, f"{layout.qc_table_prefix('kept')}run_id={run_id}/")}
    removals = lake_rows(store, f"{layout.qc_table_prefix('removals')}run_id={run_id}/")
    return kept, sorted(tuple(r[c] for c in _COMPARED) for r in removals)


def _reference(runs: dict[str, list[dict[str, object]]], quality: QualityControl
               ) -> dict[str, tuple[set[str], list[tuple[object, ...]]]]:
    """Single-process QC of each run in order, each against the kept items of the runs before it."""
    index = DedupIndex.empty()
    out = {}
    for run_id, rows in sorted(runs.items()):
        items = sorted((QcItem.model_validate(r) for r in rows), key=lambda i: i.item_id)
        outcome = ReferenceQc(quality).run(run_id, items, index)
        out[run_id] = ({i.item_id for i, _ in outcome.kept},
                       sorted(tuple(getattr(r, c) for c in _COMPARED) for r in outcome.removals))
        index = DedupIndex(index.item_ids + [i.item_id for i, _ in outcome.kept],
                           index.exact_keys + [k for _, k in outcome.kept],
                           Shingled.concat(index.shingled, Shingled.of_sets(outcome.kept_shingles)))
    return out


def test_three_runs_decide_exactly_as_single_process_qc(memory_store: MemoryStore) -> None:
    runs = _families(7, ["run_a", "run_b", "run_c"], 400)
    for run_id, rows in runs.items():
        _put(memory_store, run_id, rows)
    expected = _reference(runs, QualityControl(QcConfig(), []))
    for run_id in sorted(runs):
        run_qc(memory_store, run_id, benchmark_items=[])
        kept, removals = _decisions(memory_store, run_id)
        assert (kept, removals) == expected[run_id], run_id
    # The fixture means something: every kind of decision, against earlier runs and within one.
    all_removals = [r for run in runs for r in _decisions(memory_store, run)[1]]
    reasons = {r[2] for r in all_removals}
    assert reasons == {"exact_duplicate", "near_duplicate"}
    assert any(str(r[4]).startswith("run_a") for r in all_removals if str(r[0]).startswith("run_c"))
    assert sum(str(r[0]).startswith("run_a-big") for r in all_removals) >= 30


def test_the_planted_fixture_decides_exactly_as_single_process_qc(memory_store: MemoryStore) -> None:
    benchmarks = load_items(splits="all")
    rows = [p.row for p in planted_items(benchmarks)]
    _put(memory_store, RUN_ID, rows)
    run_qc(memory_store, RUN_ID, benchmark_items=benchmarks)
    expected = _reference({RUN_ID: rows}, QualityControl(QcConfig(), benchmarks))
    assert _decisions(memory_store, RUN_ID) == expected[RUN_ID]


def test_a_runs_index_is_spread_over_the_buckets(memory_store: MemoryStore) -> None:
    runs = _families(3, ["run_a"], 600)
    _put(memory_store, "run_a", runs["run_a"])
    run_qc(memory_store, "run_a", benchmark_items=[])
    index_parts = memory_store.list_keys(f"{layout.qc_table_prefix('index')}run_id=run_a/")
    key_parts = memory_store.list_keys(f"{layout.qc_table_prefix('index_keys')}run_id=run_a/")
    assert len(index_parts) == BUCKETS and len(key_parts) == BUCKETS
    rows = [len(lake_rows(memory_store, k)) for k in index_parts]
    assert max(rows) < 3 * np.mean(rows)  # spread, not one bucket holding the run

