"""How QC's shuffle partitions data: fixed hash buckets of items and of LSH keys, and the rank that decides keepers."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import xxhash

# Buckets of the shuffle and of the index's files. Part of the index's layout (its fingerprint): the index of every
# run is stored in these buckets, so a new run reads only bucket p of the index in the task of bucket p.
BUCKETS = 32
EXACT_BAND = -1  # the key row of an item's exact key sits beside its LSH band rows, in band "-1"
_MIX = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing: band keys' low bits alone are not well spread

# The shapes tables take between phases (arrow, so Ray moves them without pickling Python objects).
SURVIVORS = pa.schema([("item_id", pa.string()), ("difficulty", pa.int32()), ("exact_key", pa.string()),
                       ("shingles", pa.list_(pa.uint64()))])
# run_id "" in a key row: the run being checked (its rows are many; the index's rows name their run).
KEYS = pa.schema([("band", pa.int16()), ("key", pa.uint64()), ("exact_key", pa.string()), ("item_id", pa.string()),
                  ("run_id", pa.string()), ("difficulty", pa.int32())])
PAIRS = pa.schema([("a_id", pa.string()), ("a_run", pa.string()), ("a_difficulty", pa.int32()),
                   ("b_id", pa.string()), ("b_difficulty", pa.int32())])
SHINGLED_PAIRS = PAIRS.append(pa.field("a_shingles", pa.list_(pa.uint64())))
SCORED_PAIRS = PAIRS.append(pa.field("similarity", pa.float64()))
DEDUP_REMOVALS = pa.schema([("item_id", pa.string()), ("step", pa.string()), ("duplicate_of", pa.string()),
                            ("similarity", pa.float64()), ("detail", pa.string())])


def item_buckets(item_ids: Sequence[str]) -> np.ndarray:
    """The bucket of each item id (stable across processes and runs)."""
    return np.fromiter((xxhash.xxh3_64_intdigest(i.encode("utf-8")) % BUCKETS for i in item_ids), dtype=np.int64,
                       count=len(item_ids))


def key_buckets(keys: np.ndarray) -> np.ndarray:
    """The bucket of each 64-bit key (LSH band keys and exact keys' leading bits)."""
    return ((keys.astype(np.uint64) * _MIX) >> np.uint64(58)).astype(np.int64) % BUCKETS


def exact_key_code(exact_keys: Sequence[str]) -> np.ndarray:
    """The leading 64 bits of each hex exact key: its key in the key tables (the full key settles equality)."""
    return np.fromiter((int(k[:16], 16) for k in exact_keys), dtype=np.uint64, count=len(exact_keys))


def split(table: pa.Table, buckets: np.ndarray) -> list[pa.Table]:
    """``table``'s rows in ``BUCKETS`` tables by ``buckets`` (one bucket per row), each in its original order."""
    order = np.argsort(buckets, kind="stable")
    bounds = np.searchsorted(buckets[order], np.arange(BUCKETS + 1))
    ordered = table.take(pa.array(order))
    return [ordered.slice(int(bounds[b]), int(bounds[b + 1] - bounds[b])) for b in range(BUCKETS)]


def concat(tables: Sequence[pa.Table], schema: pa.Schema) -> pa.Table:
    """One table of ``tables`` (an empty one of ``schema`` when there are none)."""
    tables = [t for t in tables if t.num_rows]
    return pa.concat_tables(tables).combine_chunks() if tables else schema.empty_table()


def rank_key(run_id: str, current_run: str, difficulty: int, item_id: str) -> tuple[bool, str, int, str]:
    """One member's place in keep order (smaller first).

    Earlier runs' items (the index) by run, then this run's; within a run the higher difficulty, then the smaller item
    id. This is the order in which a run's index part is written and in which a cluster's first member stays.
    """
    return (run_id == current_run, run_id, -difficulty, item_id)
