"""QC's map and key-bucket phases: screen a chunk of the run, settle exact duplicates, propose LSH candidate pairs.

Each phase is a plain function of arrow tables, run as a Ray task (``boostqa.qc.pipeline``) or in the calling
process: the same code and the same bytes either way.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from boostqa.lake.read import read_object
from boostqa.lake.store import LakeConfig, ObjectStore
from boostqa.lake.tables import REMOVAL_SCHEMA
from boostqa.qc.buckets import (
    BUCKETS,
    DEDUP_REMOVALS,
    EXACT_BAND,
    KEYS,
    PAIRS,
    SURVIVORS,
    concat,
    exact_key_code,
    item_buckets,
    key_buckets,
    split,
)
from boostqa.qc.dedup import exact_key
from boostqa.qc.index import matching_index_keys
from boostqa.qc.stage import QualityControl, item_columns, items_of
from boostqa.qc.text import item_text, tokens

Lake = ObjectStore | LakeConfig  # a task on Ray gets the config and opens its own client


_STORES: dict[str, ObjectStore] = {}


def as_store(lake: Lake) -> ObjectStore:
    """The store to read with: the caller's, or one opened once per process (worker) for a config."""
    if not isinstance(lake, LakeConfig):
        return lake
    key = lake.model_dump_json() + lake.secret_key.get_secret_value()
    return _STORES.setdefault(key, ObjectStore(lake))


def shingle_list(sets: Sequence[np.ndarray]) -> pa.Array:
    """Shingle sets as one arrow list column (no per-element Python objects)."""
    counts = np.fromiter((len(s) for s in sets), dtype=np.int64, count=len(sets))
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    values = np.concatenate(list(sets)).astype(np.uint64) if sets else np.zeros(0, np.uint64)
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(values, pa.uint64()))


def screen_chunk(quality: QualityControl, lake: Lake, run_id: str, part_keys: Sequence[str]) -> list[pa.Table]:
    """Filters and decontamination of some of the run's parts; shingles, exact keys and LSH keys of the survivors.

    Returns ``3 * BUCKETS`` tables: the removals by item bucket, the survivors (``SURVIVORS``) by item bucket, and
    their key rows (``KEYS``: one per LSH band of a non-empty shingle set, and one for the exact key) by key bucket.
    """
    store = as_store(lake)
    items = sorted((item for key in part_keys for item in items_of(run_id, read_object(store, key,
                                                                                         item_columns(run_id)))),
                   key=lambda i: i.item_id)
    screened = quality.screen(run_id, items)
    removed = [r.model_dump() for r in [*screened.filtered, *screened.contaminated]]
    removals = pa.Table.from_pylist(removed, schema=REMOVAL_SCHEMA)
    survivors = screened.survivors
    ids = [i.item_id for i in survivors]
    exact = [exact_key(tokens(i.question)) for i in survivors]
    difficulty = np.array([i.verified_difficulty for i in survivors], dtype=np.int32)
    shingled = quality.hasher.shingle([tokens(item_text(i.question, i.options)) for i in survivors])
    survivor_table = pa.table({"item_id": pa.array(ids, pa.string()), "difficulty": difficulty,
                               "exact_key": pa.array(exact, pa.string()),
                               "shingles": shingle_list([shingled.of(p) for p in range(len(survivors))])},
                              schema=SURVIVORS)
    nonempty = np.flatnonzero(shingled.ends > shingled.starts)
    bands = quality.config.minhash.bands
    band_keys = quality.hasher.band_keys(quality.hasher.signatures(shingled)[nonempty]) if len(nonempty) else (
        np.zeros((0, bands), np.uint64))
    owner = np.concatenate([np.repeat(nonempty, bands), np.arange(len(survivors))]).astype(np.int64)
    band = np.concatenate([np.tile(np.arange(bands), len(nonempty)), np.full(len(survivors), EXACT_BAND)])
    key = np.concatenate([band_keys.ravel(), exact_key_code(exact)]).astype(np.uint64)
    exact_column = pa.array([None] * (len(nonempty) * bands) + exact, pa.string())
    key_table = pa.table({"band": pa.array(band, pa.int16()), "key": key, "exact_key": exact_column,
                          "item_id": pa.array(ids, pa.string()).take(pa.array(owner)),
                          # "" is this run: a run id on each of ~33 rows per item would cost more than the keys
                          "run_id": pa.array([""] * len(owner), pa.string()),
                          "difficulty": pa.array(difficulty[owner], pa.int32())}, schema=KEYS)
    return [*split(removals, item_buckets(removals.column("item_id").to_pylist())),
            *split(survivor_table, item_buckets(ids)),
            *split(key_table, key_buckets(key))]


def _ranked(table: pa.Table, run_id: str, first: Sequence[str]) -> pa.Table:
    """``table`` sorted by the ``first`` columns, then in keep order (earlier runs first; see ``rank_order``)."""
    current = pc.or_(pc.equal(table.column("run_id"), ""), pc.equal(table.column("run_id"), run_id))
    neg = pc.negate(table.column("difficulty").cast(pa.int64()))
    keys = [(c, "ascending") for c in first] + [("_current", "ascending"), ("run_id", "ascending"),
                                                ("_neg", "ascending"), ("item_id", "ascending")]
    return table.append_column("_current", current).append_column("_neg", neg).sort_by(keys).drop_columns(
        ["_current", "_neg"])


def _shared(table: pa.Table) -> pa.Table:
    """The rows whose (band, key) some other row has: only they can pair (most keys are one item's alone)."""
    band = table.column("band").to_numpy()
    code = table.column("key").to_numpy() ^ (band.astype(np.uint64) << np.uint64(56))
    _, inverse, counts = np.unique(code, return_inverse=True, return_counts=True)
    return table.filter(pa.array(counts[inverse] > 1))


def _group_starts(*columns: np.ndarray) -> np.ndarray:
    """Where each run of equal values (over all ``columns``) starts in sorted rows."""
    n = len(columns[0])
    change = np.zeros(n, dtype=bool)
    change[:1] = True
    for column in columns:
        change[1:] |= column[1:] != column[:-1]
    return np.flatnonzero(change)


def settle_exact(lake: Lake, run_id: str, index_parts: Sequence[str], fingerprint: str, max_group_pairs: int,
                 *run_keys: pa.Table) -> list[pa.Table]:
    """One key bucket: exact duplicates of the run (against the index and each other) and the index's matching rows.

    Returns the exact removals (``DEDUP_REMOVALS``) and the index band rows that share a (band, key) with the run,
    only the first ``max_group_pairs`` per key in keep order (later index members pair with no run item).
    """
    keys = concat(run_keys, KEYS)
    band = keys.column("band").to_numpy()
    run_exact = {k for k in keys.column("exact_key").to_pylist() if k is not None}
    index_rows = matching_index_keys(as_store(lake), index_parts, fingerprint, band[band >= 0],
                                     keys.column("key").to_numpy()[band >= 0], run_exact)
    index_band = index_rows.column("band").to_numpy()
    exact = _ranked(_shared(pa.concat_tables([index_rows.filter(pa.array(index_band < 0)),
                                              keys.filter(pa.array(band < 0))])), run_id, ["exact_key"])
    removals: list[dict[str, object]] = []
    starts = _group_starts(np.asarray(exact.column("exact_key").to_pylist(), dtype=object))
    sizes = np.diff(np.append(starts, exact.num_rows))
    ids, runs = exact.column("item_id").to_pylist(), [r or run_id for r in exact.column("run_id").to_pylist()]
    for start, size in zip(starts[sizes > 1].tolist(), sizes[sizes > 1].tolist(), strict=True):
        first = ids[start]
        removals += [{"item_id": ids[i], "step": "exact_dedup", "duplicate_of": first, "similarity": 1.0,
                      "detail": f"same normalized question as {first}"}
                     for i in range(start + 1, start + size) if runs[i] == run_id]
    index_band_rows = _ranked(index_rows.filter(pa.array(index_band >= 0)), run_id, ["band", "key"])
    starts = _group_starts(index_band_rows.column("band").to_numpy(), index_band_rows.column("key").to_numpy())
    position = np.arange(index_band_rows.num_rows) - np.repeat(starts, np.diff(np.append(starts,
                                                                                      index_band_rows.num_rows)))
    return [pa.Table.from_pylist(removals, schema=DEDUP_REMOVALS),
            index_band_rows.filter(pa.array(position < max_group_pairs))]


def candidate_pairs(run_id: str, max_group_pairs: int, run_key_count: int, *tables: pa.Table) -> list[pa.Table]:
    """One key bucket: the LSH candidate pairs (a before b in keep order; b always of this run), by a's item bucket.

    ``tables`` are this bucket's run key rows (``run_key_count`` of them), its matching index band rows, then the
    exact removals of every bucket (those items take no further part). Within a group of equal (band, key), every
    member pairs with the first, and the first ``max_group_pairs`` members pair with each other.
    """
    run_keys = concat(tables[:run_key_count], KEYS)
    index_rows, exact_removed = tables[run_key_count], concat(tables[run_key_count + 1 :], DEDUP_REMOVALS)
    gone = pc.is_in(run_keys.column("item_id"), exact_removed.column("item_id")).to_numpy(zero_copy_only=False)
    run_rows = run_keys.filter(pa.array((run_keys.column("band").to_numpy() >= 0) & ~gone))
    rows = _ranked(_shared(pa.concat_tables([index_rows, run_rows])), run_id, ["band", "key"])
    starts = _group_starts(rows.column("band").to_numpy(), rows.column("key").to_numpy())
    sizes = np.diff(np.append(starts, rows.num_rows))
    ids, runs = rows.column("item_id").to_pylist(), [r or run_id for r in rows.column("run_id").to_pylist()]
    difficulty = rows.column("difficulty").to_pylist()
    found: set[tuple[int, int]] = set()
    for start, size in zip(starts[sizes > 1].tolist(), sizes[sizes > 1].tolist(), strict=True):
        found.update((start, m) for m in range(start + 1, start + size))
        if size > 2:
            top = range(start, start + min(size, max_group_pairs))
            found.update((a, b) for a in top for b in top if a < b)
    pairs = sorted({(ids[a], runs[a], difficulty[a], ids[b], difficulty[b]) for a, b in found if runs[b] == run_id})
    table = pa.Table.from_pylist([dict(zip(PAIRS.names, p, strict=True)) for p in pairs], schema=PAIRS)
    return split(table, item_buckets(table.column("a_id").to_pylist()))


__all__ = ["BUCKETS", "candidate_pairs", "screen_chunk", "settle_exact"]
