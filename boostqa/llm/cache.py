"""The embedded response cache: one SQLite file shared by the processes of one host (the default backend)."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from boostqa.llm.cache_backend import Claim
from boostqa.llm.types import TransportResult

# `responses` is the table of every existing cache file; `claims` is new beside it, so old files open unchanged.
SCHEMA = """
create table if not exists responses (key text primary key, result text not null);
create table if not exists claims (key text primary key, owner text not null, claimed_at real not null,
                                   expires_at real not null);
"""


class ResponseCache:
    """key (see ``cache_key``) -> the server's raw result, and the claims of calls in flight (a ``CacheBackend``).

    Parsing happens after the cache, so a parser change never re-bills. Every process that opens the same file shares
    results and claims: writes take SQLite's write lock first (``begin immediate``, waiting up to ``busy_timeout_s``
    for another process), so two processes can never both claim a key. Times are this host's clock (Unix seconds).
    One host only: SQLite's locks do not hold on network file systems; workers on several hosts share a
    ``PostgresResponseCache`` instead.
    """

    def __init__(self, path: Path, busy_timeout_s: float = 30.0) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        # One connection per cache, used by one thread at a time (the lock): the engine calls it from worker threads.
        self._db = sqlite3.connect(str(path), timeout=busy_timeout_s, check_same_thread=False, isolation_level=None)
        self._db.execute("pragma journal_mode=wal")
        # WAL + NORMAL: a commit survives a killed process (no fsync per commit, which claims would pay twice per
        # call); only an OS crash can lose the last commits, and a lost result costs one call again, never the file.
        self._db.execute("pragma synchronous=normal")
        with self._lock:
            self._db.executescript(SCHEMA)

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction that holds the file's write lock from its first statement."""
        with self._lock:
            # immediate: a read-then-write transaction in WAL mode would fail at once, not wait, if another process
            # wrote in between; taking the write lock first makes it wait (busy timeout) and then see the latest rows.
            self._db.execute("begin immediate")
            try:
                yield self._db
            except BaseException:
                self._db.execute("rollback")
                raise
            self._db.execute("commit")

    def get(self, key: str) -> TransportResult | None:
        """The cached result, or None."""
        with self._lock:
            row = self._db.execute("select result from responses where key = ?", (key,)).fetchone()
        return TransportResult.model_validate_json(row[0]) if row else None

    def get_many(self, keys: Sequence[str]) -> dict[str, TransportResult]:
        """The cached results among ``keys`` (one query per 500 keys)."""
        rows: list[tuple[str, str]] = []
        with self._lock:
            for start in range(0, len(keys), 500):
                chunk = list(keys[start:start + 500])
                marks = ",".join("?" * len(chunk))
                rows += self._db.execute(f"select key, result from responses where key in ({marks})", chunk).fetchall()
        return {key: TransportResult.model_validate_json(result) for key, result in rows}

    def put(self, key: str, result: TransportResult) -> None:
        """Store a result (first write wins; the same key always describes the same call) and drop its claim."""
        with self._write() as db:
            db.execute("insert or ignore into responses values (?, ?)", (key, result.model_dump_json()))
            db.execute("delete from claims where key = ?", (key,))

    def claim(self, key: str, owner: str, lease_s: float) -> Claim | None:
        """Claim ``key`` unless another owner's unexpired claim holds it (see ``CacheBackend.claim``)."""
        with self._write() as db:
            row = db.execute("select owner, expires_at from claims where key = ?", (key,)).fetchone()
            now = time.time()
            if row is not None and row[1] >= now:
                return _claim(row[0], row[1])
            db.execute("insert or replace into claims values (?, ?, ?, ?)", (key, owner, now, now + lease_s))
        return _claim(owner, now + lease_s, taken_over_from=row[0] if row else None)

    def renew(self, key: str, owner: str, lease_s: float) -> bool:
        """Extend ``owner``'s claim; False when it no longer holds the key."""
        with self._write() as db:
            cursor = db.execute("update claims set expires_at = ? where key = ? and owner = ?",
                                (time.time() + lease_s, key, owner))
        return cursor.rowcount == 1

    def release(self, key: str, owner: str) -> None:
        """Drop ``owner``'s claim, if it still holds one."""
        with self._write() as db:
            db.execute("delete from claims where key = ? and owner = ?", (key, owner))

    def holder(self, key: str) -> Claim | None:
        """The key's current claim, expired or not."""
        with self._lock:
            row = self._db.execute("select owner, expires_at from claims where key = ?", (key,)).fetchone()
        return _claim(row[0], row[1]) if row else None

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("select count(*) from responses").fetchone()[0])

    def close(self) -> None:
        """Close the database."""
        self._db.close()


def _claim(owner: str, expires_at: float, taken_over_from: str | None = None) -> Claim:
    return Claim(owner=owner, expires_at=datetime.fromtimestamp(expires_at, UTC), taken_over_from=taken_over_from)
