"""The incremental dedup index in the lake, bucketed: what later runs are checked against, read one bucket at a time.

Per QC'd run, ``qc/index/run_id=<run>/part-<b>.parquet`` holds the kept items of item bucket ``b`` (exact key and
shingle set, in keep order) and ``qc/index_keys/run_id=<run>/part-<p>.parquet`` their LSH band keys and exact keys
that fall in key bucket ``p``. A new run's task for key bucket ``p`` reads only the key rows of bucket ``p`` and keeps
those whose key the run also has (a semi-join); shingle sets are fetched only for candidate pairs. No process reads
the whole index.
"""

from __future__ import annotations

import io
import logging
from collections import defaultdict
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from boostqa.errors import ConfigError
from boostqa.lake import layout
from boostqa.lake.commits import committed_qc_runs, qc_run_of
from boostqa.lake.parquet import parquet_bytes
from boostqa.lake.store import ObjectStore
from boostqa.lake.tables import INDEX_SCHEMA
from boostqa.qc.buckets import KEYS

log = logging.getLogger(__name__)
INDEX_PREFIX = layout.qc_table_prefix("index")
KEYS_PREFIX = layout.qc_table_prefix("index_keys")
FINGERPRINT_META = b"boostqa.index_fingerprint"
INDEX_ROW_GROUP = 4096  # rows per row group of an index part: fetching a few items' shingles reads a few groups


def _bucket_of(key: str) -> int:
    return int(key.rsplit("part-", 1)[1].split(".", 1)[0])


def index_key_parts(store: ObjectStore, exclude_run: str) -> dict[int, list[str]]:
    """The key parts of every earlier run, by key bucket (runs in admission order).

    Raises:
        ConfigError: a run has index entries in the format before buckets (no key parts): rebuild the index.
    """
    done = committed_qc_runs(store)  # a run whose QC stopped before its marker is not in the index
    key_parts = [k for k in store.list_keys(KEYS_PREFIX) if k.endswith(".parquet") and qc_run_of(k, KEYS_PREFIX)
                 != exclude_run and qc_run_of(k, KEYS_PREFIX) in done]
    with_keys = {qc_run_of(k, KEYS_PREFIX) for k in key_parts}
    indexed = {qc_run_of(k, INDEX_PREFIX) for k in store.list_keys(INDEX_PREFIX) if k.endswith(".parquet")} & done
    older = sorted(indexed - with_keys - {exclude_run})
    if older:
        raise ConfigError(f"the dedup index under {store.config.uri(INDEX_PREFIX)} has runs {older} in an older "
                          "format (no key buckets): rebuild the index with `boostqa qc --rebuild-index` (redoes QC "
                          "of every run in run order)")
    by_bucket: dict[int, list[str]] = defaultdict(list)
    for key in sorted(key_parts):
        by_bucket[_bucket_of(key)].append(key)
    return dict(by_bucket)


def matching_index_keys(store: ObjectStore, parts: Sequence[str], fingerprint: str, bands: np.ndarray,
                        keys: np.ndarray, exact_keys: set[str]) -> pa.Table:
    """The index key rows (of ``parts``, one key bucket) whose (band, key) the run has, or whose exact key it has.

    ``bands``/``keys`` are the run's band key rows of this bucket. Rows come in admission order (``parts`` in run
    order, each in keep order).

    Raises:
        ConfigError: a part was built with other settings; its keys cannot be compared.
    """
    wanted = np.unique(keys.astype(np.uint64) ^ (bands.astype(np.uint64) << np.uint64(56)))
    found: list[pa.Table] = []
    for key in parts:
        data = store.get_bytes(key)
        table = pq.read_table(io.BytesIO(data))
        made = (table.schema.metadata or {}).get(FINGERPRINT_META, b"").decode()
        if made != fingerprint:
            run = qc_run_of(key, KEYS_PREFIX)
            raise ConfigError(f"the dedup index of run {run!r} ({store.config.uri(key)}) was made with other "
                              f"settings or an older format ({made!r}) than this run's {fingerprint!r}: keep the "
                              "shingle and LSH "
                              "settings, or rebuild the index with `boostqa qc --rebuild-index` (redoes QC of every "
                              "run in run order)")
        band = table.column("band").to_numpy()
        code = table.column("key").to_numpy() ^ (band.astype(np.uint64) << np.uint64(56))
        hit = np.isin(code, wanted) & (band >= 0)
        exact = pc.is_in(table.column("exact_key"), pa.array(sorted(exact_keys), pa.string())).to_numpy(
            zero_copy_only=False) & (band < 0)
        keep = hit | exact
        if keep.any():
            found.append(table.filter(pa.array(keep)).cast(KEYS))
    return pa.concat_tables(found) if found else KEYS.empty_table()


def fetch_index_shingles(store: ObjectStore, run_id: str, bucket: int,
                         item_ids: Sequence[str]) -> dict[str, np.ndarray]:
    """The shingle sets of some items of one earlier run's index part (reading only the row groups that hold them)."""
    data = store.get_bytes(layout.qc_bucket_part("index", run_id, bucket))
    handle = pq.ParquetFile(io.BytesIO(data))
    ids = handle.read(columns=["item_id"]).column("item_id")
    rows = np.flatnonzero(pc.is_in(ids, pa.array(list(item_ids), pa.string())).to_numpy(zero_copy_only=False))
    sizes = [handle.metadata.row_group(g).num_rows for g in range(handle.metadata.num_row_groups)]
    starts = np.cumsum([0, *sizes])
    groups = sorted({int(np.searchsorted(starts, r, side="right") - 1) for r in rows})
    out: dict[str, np.ndarray] = {}
    for group in groups:
        table = handle.read_row_group(group, columns=["item_id", "shingles"])
        wanted = pc.is_in(table.column("item_id"), pa.array(list(item_ids), pa.string()))
        table = table.filter(wanted)
        shingles = table.column("shingles").combine_chunks()
        offsets = shingles.offsets.to_numpy()
        values = shingles.values.to_numpy()
        for i, item_id in enumerate(table.column("item_id").to_pylist()):
            out[item_id] = values[offsets[i] : offsets[i + 1]]
    return out


def index_part_bytes(run_id: str, kept: pa.Table, fingerprint: str) -> bytes:
    """One item bucket's index part: the kept ``SURVIVORS`` rows (in keep order) with their run and settings."""
    table = pa.table({
        "item_id": kept.column("item_id"),
        "run_id": pa.array([run_id] * kept.num_rows, pa.string()),
        "exact_key": kept.column("exact_key"),
        "index_fingerprint": pa.array([fingerprint] * kept.num_rows, pa.string()),
        "shingles": kept.column("shingles"),
    }, schema=INDEX_SCHEMA)
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd", write_statistics=True, row_group_size=INDEX_ROW_GROUP)
    return buffer.getvalue()


def key_part_bytes(keys: pa.Table, fingerprint: str) -> bytes:
    """One key bucket's part of a run's index keys (``KEYS`` rows), stamped with the settings that made them."""
    table = keys.cast(KEYS).replace_schema_metadata({FINGERPRINT_META: fingerprint.encode()})
    return parquet_bytes(table)

