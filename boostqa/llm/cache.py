"""Content-addressed response cache in one SQLite file: a rerun of finished work makes zero calls."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from boostqa.llm.types import TransportResult


class ResponseCache:
    """key (see ``cache_key``) -> the server's raw result; parsing happens after, so parser changes never re-bill."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        # WAL + one connection per cache: safe for the engine's single event loop, durable across kills.
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("pragma journal_mode=wal")
        self._db.execute("create table if not exists responses (key text primary key, result text not null)")

    def get(self, key: str) -> TransportResult | None:
        """The cached result, or None."""
        with self._lock:
            row = self._db.execute("select result from responses where key = ?", (key,)).fetchone()
        return TransportResult.model_validate_json(row[0]) if row else None

    def put(self, key: str, result: TransportResult) -> None:
        """Store a result (first write wins; the same key always describes the same call)."""
        with self._lock:
            self._db.execute("insert or ignore into responses values (?, ?)", (key, result.model_dump_json()))

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("select count(*) from responses").fetchone()[0])

    def close(self) -> None:
        """Close the database."""
        self._db.close()
