"""Deterministic parquet parts: the same rows always give the same bytes, so reruns produce identical objects."""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Iterable, Mapping
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from boostqa.lake.layout import MANIFEST_NAME, part_name
from boostqa.lake.store import ObjectStore
from boostqa.schemas import PartInfo

log = logging.getLogger(__name__)


def parquet_bytes(table: pa.Table) -> bytes:
    """Serialize a table to parquet with fixed settings (zstd, no wall-clock metadata)."""
    buffer = io.BytesIO()
    pq.write_table(table, buffer, compression="zstd", write_statistics=True)
    return buffer.getvalue()


def write_table(store: ObjectStore, key: str, table: pa.Table) -> None:
    """Write ``table`` as the one parquet object at ``key`` (replacing it)."""
    store.put_bytes(key, parquet_bytes(table))


def write_rows(store: ObjectStore, key: str, rows: Iterable[Mapping[str, Any]], schema: pa.Schema) -> None:
    """Write ``rows`` with a table's schema of the lake contract (``boostqa/lake/tables.py``) as the object at ``key``.

    No rows still writes a typed, empty part.
    """
    write_table(store, key, pa.Table.from_pylist(list(rows), schema=schema))


def replace_parts(store: ObjectStore, prefix: str, table: pa.Table, rows_per_part: int) -> list[PartInfo]:
    """Write ``table`` as parts under ``prefix`` and delete any older part there (replace, never append).

    An empty table still writes one empty part, so readers globbing the prefix always find the schema.
    """
    parts: list[PartInfo] = []
    offsets = range(0, max(table.num_rows, 1), rows_per_part)
    for index, offset in enumerate(offsets):
        chunk = table.slice(offset, rows_per_part)
        data = parquet_bytes(chunk)
        key = prefix + part_name(index)
        store.put_bytes(key, data)
        parts.append(PartInfo(key=key, rows=chunk.num_rows, bytes=len(data), sha256=hashlib.sha256(data).hexdigest()))
    written = {p.key for p in parts} | {prefix + MANIFEST_NAME}
    stale = [k for k in store.list_keys(prefix) if k not in written]
    if stale:
        log.info("removing %d stale objects under %s", len(stale), prefix)
        store.delete_keys(stale)
    return parts
