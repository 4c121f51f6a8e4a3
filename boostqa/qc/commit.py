"""QC's write phase: each bucket task writes its part of the run's decisions and index; the driver marks the run."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from boostqa.lake import layout
from boostqa.lake.parquet import parquet_bytes
from boostqa.lake.tables import KEPT_SCHEMA, REMOVAL_SCHEMA
from boostqa.qc.buckets import DEDUP_REMOVALS, KEYS, SURVIVORS, concat
from boostqa.qc.index import index_part_bytes, key_part_bytes
from boostqa.qc.phases import Lake, as_store

_REASON = {"exact_dedup": "exact_duplicate", "near_dedup": "near_duplicate"}


def _put(lake: Lake, key: str, data: bytes, rows: int, bucket: int) -> list[str]:
    """Write a part unless it is empty; bucket 0's is always written, so every run has each table's schema."""
    if rows or bucket == 0:
        as_store(lake).put_bytes(key, data)
        return [key]
    return []


def write_item_bucket(lake: Lake, run_id: str, bucket: int, fingerprint: str, survivor_count: int,
                      removal_count: int, *tables: pa.Table) -> dict[str, Any]:
    """Write one item bucket's removals, kept items and index part; returns its counts and the keys it wrote.

    ``tables``: the bucket's survivors (``survivor_count`` tables), screening removals (``removal_count``), then its
    dedup removals.
    """
    survivors = concat(tables[:survivor_count], SURVIVORS)
    screened_out = concat(tables[survivor_count : survivor_count + removal_count], REMOVAL_SCHEMA)
    dedup = concat(tables[survivor_count + removal_count :], DEDUP_REMOVALS)
    gone = pc.is_in(survivors.column("item_id"), dedup.column("item_id"))
    kept = survivors.filter(pc.invert(gone))
    kept = kept.append_column("_neg", pc.negate(kept.column("difficulty").cast(pa.int64()))).sort_by(
        [("_neg", "ascending"), ("item_id", "ascending")]).drop_columns(["_neg"])
    removals = screened_out.to_pylist() + [
        {"item_id": r["item_id"], "run_id": run_id, "step": r["step"], "reason": _REASON[r["step"]], "rank": 1,
         "detail": r["detail"], "duplicate_of": r["duplicate_of"], "similarity": r["similarity"],
         "benchmark": None, "benchmark_item_id": None} for r in dedup.to_pylist()]
    removals.sort(key=lambda r: (r["item_id"], r["rank"]))
    kept_rows = pa.table({"item_id": kept.column("item_id"), "run_id": pa.array([run_id] * kept.num_rows, pa.string()),
                          "exact_key": kept.column("exact_key")}, schema=KEPT_SCHEMA)
    written = [
        *_put(lake, layout.qc_bucket_part("removals", run_id, bucket),
              parquet_bytes(pa.Table.from_pylist(removals, schema=REMOVAL_SCHEMA)), len(removals), bucket),
        *_put(lake, layout.qc_bucket_part("kept", run_id, bucket), parquet_bytes(kept_rows), kept.num_rows, bucket),
        *_put(lake, layout.qc_bucket_part("index", run_id, bucket), index_part_bytes(run_id, kept, fingerprint),
              kept.num_rows, bucket),
    ]
    items = survivors.num_rows + len(set(screened_out.column("item_id").to_pylist()))
    reasons = Counter(r["reason"] for r in removals if r["rank"] == 1)
    return {"items": items, "kept": kept.num_rows, "reasons": dict(reasons), "written": written}


def write_key_bucket(lake: Lake, run_id: str, bucket: int, fingerprint: str, key_count: int,
                     *tables: pa.Table) -> dict[str, Any]:
    """Write the index key rows of one key bucket for the run's kept items; returns the keys it wrote.

    ``tables``: the bucket's run key rows (``key_count`` tables), then the dedup removals of every item bucket.
    """
    keys = concat(tables[:key_count], KEYS)
    removed = concat(tables[key_count:], DEDUP_REMOVALS)
    kept = keys.filter(pc.invert(pc.is_in(keys.column("item_id"), removed.column("item_id"))))
    kept = kept.sort_by([("band", "ascending"), ("key", "ascending"), ("item_id", "ascending")]).set_column(
        kept.schema.get_field_index("run_id"), "run_id", pa.array([run_id] * kept.num_rows, pa.string()))
    written = _put(lake, layout.qc_bucket_part("index_keys", run_id, bucket), key_part_bytes(kept, fingerprint),
                   kept.num_rows, bucket)
    return {"items": 0, "kept": 0, "reasons": {}, "written": written}
