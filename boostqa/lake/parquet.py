"""Deterministic parquet parts: the same rows always give the same bytes, so reruns produce identical objects."""

from __future__ import annotations

import hashlib
import io
import logging

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
