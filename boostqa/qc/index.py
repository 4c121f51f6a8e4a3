"""The incremental dedup index in the lake: exact keys and shingle sets of every item earlier runs kept."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from boostqa.errors import ConfigError
from boostqa.lake import layout
from boostqa.lake.parquet import write_table
from boostqa.lake.read import read_object
from boostqa.lake.store import ObjectStore
from boostqa.lake.tables import INDEX_SCHEMA
from boostqa.qc.minhash import Shingled

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DedupIndex:
    """Items already in the corpus, in admission order (earlier runs first): they always win a cluster."""

    item_ids: list[str]
    exact_keys: list[str]
    shingled: Shingled

    def __len__(self) -> int:
        return len(self.item_ids)


INDEX_PREFIX = layout.qc_table_prefix("index")


def _run_of(key: str) -> str:
    return key.removeprefix(INDEX_PREFIX).split("/", 1)[0].removeprefix("run_id=")


def load_index(store: ObjectStore, fingerprint: str, exclude_run: str) -> DedupIndex:
    """Every run's index part except ``exclude_run`` (the run being checked, so a rerun is not its own duplicate).

    Raises:
        ConfigError: a part was built with other shingle settings; its shingles cannot be compared.
    """
    keys = sorted(k for k in store.list_keys(INDEX_PREFIX)
                  if k.endswith(".parquet") and _run_of(k) != exclude_run)
    tables = [read_object(store, k, schema=INDEX_SCHEMA) for k in keys]
    tables = [t for t in tables if t.num_rows]
    if not tables:
        return DedupIndex([], [], Shingled(np.zeros(0, np.uint64), np.zeros(0, np.int64), np.zeros(0, np.int64)))
    table = pa.concat_tables(tables)
    stale = sorted({run for run, made in zip(table.column("run_id").to_pylist(),
                                              table.column("index_fingerprint").to_pylist(), strict=True)
                    if made != fingerprint})
    if stale:
        raise ConfigError(f"the dedup index under {store.config.uri(INDEX_PREFIX)} has entries of runs {stale} made "
                          f"with other settings or an older format than this run's {fingerprint!r}: keep the "
                          f"shingle settings, or rebuild the index with `boostqa qc --rebuild-index` (redoes QC of "
                          f"every run in run order)")
    shingles = table.column("shingles").combine_chunks()
    offsets = shingles.offsets.to_numpy().astype(np.int64)
    index = DedupIndex(table.column("item_id").to_pylist(), table.column("exact_key").to_pylist(),
                       Shingled(shingles.values.to_numpy(), offsets[:-1], offsets[1:]))
    log.info("dedup index: %d items kept by %d earlier runs", len(index), len(tables))
    return index


def write_index_part(store: ObjectStore, run_id: str, item_ids: Sequence[str], exact_keys: Sequence[str],
                     shingle_sets: Sequence[np.ndarray], fingerprint: str) -> None:
    """Replace this run's index part with its kept items."""
    table = pa.table({
        "item_id": pa.array(item_ids, pa.string()),
        "run_id": pa.array([run_id] * len(item_ids), pa.string()),
        "exact_key": pa.array(exact_keys, pa.string()),
        "index_fingerprint": pa.array([fingerprint] * len(item_ids), pa.string()),
        "shingles": pa.array(list(shingle_sets), pa.list_(pa.uint64())),
    }, schema=INDEX_SCHEMA)
    write_table(store, layout.qc_part("index", run_id), table)
