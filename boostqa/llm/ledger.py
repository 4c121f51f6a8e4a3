"""The token ledger: one row per model turn (called or cached), written as parquet for dbt."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.parquet as pq

from boostqa.lake.tables import LEDGER_SCHEMA
from boostqa.llm.types import LedgerRow


class Ledger:
    """Collects rows in memory during a shard; the caller writes them with the shard's output."""

    def __init__(self) -> None:
        self.rows: list[LedgerRow] = []

    def add(self, row: LedgerRow) -> None:
        """Record one model turn."""
        self.rows.append(row)

    def calls(self) -> int:
        """Turns that reached a server (not served from the cache)."""
        return sum(1 for r in self.rows if not r.cache_hit)

    def to_parquet(self) -> bytes:
        """The rows as parquet bytes."""
        table = pa.Table.from_pylist([r.model_dump() for r in self.rows], schema=LEDGER_SCHEMA)
        buffer = io.BytesIO()
        pq.write_table(table, buffer, compression="zstd")
        return buffer.getvalue()
