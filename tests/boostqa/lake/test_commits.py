"""The commit protocol in Python readers: parts without their marker are never read, and QC never marks a run done
over a shard that is not committed."""

from __future__ import annotations

import pyarrow as pa
import pytest

from boostqa.errors import LakeError
from boostqa.lake import layout
from boostqa.lake.commits import (
    commit_shard,
    committed_shard_parts,
    read_committed_qc,
    read_committed_shards,
)
from boostqa.lake.parquet import parquet_bytes, write_rows
from boostqa.lake.tables import ANNOTATION_SCHEMA, KEPT_SCHEMA, LEDGER_SCHEMA, QA_SCHEMA
from boostqa.qc.run import run_qc
from boostqa.synthesize.stage import jobs_done_elsewhere
from tests.boostqa.qc.planted import planted_items
from tests.conftest import MemoryStore, lake_rows


def _part(store: MemoryStore, prefix: str, shard: int, schema: pa.Schema, rows: list[dict[str, object]]) -> str:
    key = prefix + layout.part_name(shard)
    write_rows(store, key, [dict.fromkeys(schema.names) | r for r in rows], schema)
    return key


def test_only_parts_whose_shard_marker_exists_are_read_in_one_run_and_across_runs(memory_store: MemoryStore) -> None:
    for run in ("annotate_a", "annotate_b"):
        for shard in (0, 1):
            _part(memory_store, layout.annotations_prefix(run), shard, ANNOTATION_SCHEMA,
                  [{"item_id": f"{run}-{shard}", "run_id": run}])
            _part(memory_store, layout.ledger_prefix("annotate", run), shard, LEDGER_SCHEMA,
                  [{"item_id": f"{run}-{shard}", "run_id": run}])
    commit_shard(memory_store, layout.annotations_prefix("annotate_a"), 1)
    commit_shard(memory_store, layout.annotations_prefix("annotate_b"), 0)

    one_run = committed_shard_parts(memory_store, layout.annotations_prefix("annotate_a"), layout.ANNOTATIONS)
    assert one_run == [layout.annotations_prefix("annotate_a") + layout.part_name(1)]
    every_run = read_committed_shards(memory_store, f"{layout.ANNOTATIONS}/", layout.ANNOTATIONS, ["item_id"])
    assert every_run is not None and sorted(every_run["item_id"].to_pylist()) == ["annotate_a-1", "annotate_b-0"]
    # the ledger's parts are committed by the annotate shard's marker, in another folder
    ledger = read_committed_shards(memory_store, layout.ledger_stage_prefix("annotate"), layout.ANNOTATIONS,
                                   ["item_id"])
    assert ledger is not None and sorted(ledger["item_id"].to_pylist()) == ["annotate_a-1", "annotate_b-0"]


def test_a_job_of_an_uncommitted_shard_is_not_done_elsewhere(memory_store: MemoryStore) -> None:
    _part(memory_store, layout.qa_prefix("synthesize_a"), 0, QA_SCHEMA, [{"item_id": "j0", "run_id": "synthesize_a"}])
    _part(memory_store, layout.qa_prefix("synthesize_a"), 1, QA_SCHEMA, [{"item_id": "j1", "run_id": "synthesize_a"}])
    commit_shard(memory_store, layout.qa_prefix("synthesize_a"), 0)
    assert jobs_done_elsewhere(memory_store, "synthesize_b") == {"j0"}  # j1's shard may still be redone


def test_qc_refuses_a_run_with_an_uncommitted_shard_and_writes_no_marker(memory_store: MemoryStore) -> None:
    rows = [{n: p.row.get(n) for n in QA_SCHEMA.names} | {"run_id": "synthesize_a"} for p in planted_items([])[:4]]
    for shard in (0, 1):
        memory_store.put_bytes(layout.qa_prefix("synthesize_a") + layout.part_name(shard),
                               parquet_bytes(pa.Table.from_pylist(rows[shard::2], schema=QA_SCHEMA)))
    commit_shard(memory_store, layout.qa_prefix("synthesize_a"), 0)
    with pytest.raises(LakeError, match="without their shard marker.*part-00001.*synthesize task"):
        run_qc(memory_store, "synthesize_a")
    assert memory_store.get_bytes_or_none(layout.qc_marker("synthesize_a")) is None
    commit_shard(memory_store, layout.qa_prefix("synthesize_a"), 1)
    assert run_qc(memory_store, "synthesize_a").items == 4


def test_a_run_whose_qc_stopped_before_its_marker_is_neither_read_nor_in_the_index(memory_store: MemoryStore) -> None:
    item = next(p.row for p in planted_items([]) if p.expected_reason is None)
    for run, item_id in (("synthesize_a", "a-1"), ("synthesize_b", "b-1")):
        memory_store.put_bytes(layout.qa_prefix(run) + layout.part_name(0), parquet_bytes(pa.Table.from_pylist(
            [{n: item.get(n) for n in QA_SCHEMA.names} | {"run_id": run, "item_id": item_id}], schema=QA_SCHEMA)))
        commit_shard(memory_store, layout.qa_prefix(run), 0)
    assert run_qc(memory_store, "synthesize_a").kept == 1
    memory_store.delete_keys([layout.qc_marker("synthesize_a")])  # as if its QC stopped before the marker
    assert read_committed_qc(memory_store, "kept", ["item_id"]) is None
    # b's copy of a's item is kept: a's index entries are not committed, so they remove nothing
    assert run_qc(memory_store, "synthesize_b").kept == 1
    kept = read_committed_qc(memory_store, "kept", ["item_id"])
    assert kept is not None and kept["item_id"].to_pylist() == ["b-1"]
    assert lake_rows(memory_store, f"{layout.qc_table_prefix('kept')}run_id=synthesize_a/")  # still in the lake


def test_an_uncommitted_qc_run_is_left_out_of_the_kept_table(memory_store: MemoryStore) -> None:
    write_rows(memory_store, layout.qc_bucket_part("kept", "r1", 0), [{"item_id": "x", "run_id": "r1"}], KEPT_SCHEMA)
    assert read_committed_qc(memory_store, "kept", ["item_id"]) is None
    memory_store.put_bytes(layout.qc_marker("r1"), b"")
    kept = read_committed_qc(memory_store, "kept", ["item_id"])
    assert kept is not None and kept.num_rows == 1
