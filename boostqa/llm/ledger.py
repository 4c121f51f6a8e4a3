"""The token ledger: one row per model turn (called or cached); stages write it with ``LEDGER_SCHEMA`` for dbt."""

from __future__ import annotations

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
