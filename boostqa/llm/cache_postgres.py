"""The shared response cache: two PostgreSQL tables every worker reaches, behind the same contract as SQLite's."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import SecretStr
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from boostqa.errors import ConfigError
from boostqa.llm.cache_backend import Claim
from boostqa.llm.types import TransportResult

if TYPE_CHECKING:
    import psycopg
    from psycopg import sql

log = logging.getLogger(__name__)
T = TypeVar("T")
DEFAULT_SCHEMA = "boostqa_llm_cache"
# Any other transaction-level DDL of the same tables waits on this lock: concurrent `create table if not exists`
# can otherwise fail with a unique violation in the catalog when two workers start on an empty database.
DDL_LOCK = "select pg_advisory_xact_lock(hashtext('boostqa_llm_cache ddl'))"
# Documented in docs/llm.md ("The shared cache on PostgreSQL"); {schema} is an identifier quoted by psycopg.
DDL = (
    "create schema if not exists {schema}",
    """create table if not exists {schema}.responses (
        key text primary key,                           -- sha256 of the call (boostqa.llm.types.cache_key)
        result jsonb not null,                          -- the server's TransportResult
        created_at timestamptz not null default now()
    )""",
    """create table if not exists {schema}.claims (
        key text primary key,                           -- a call in flight
        owner text not null,                            -- <host>:<pid>/<token> of the worker calling the model
        claimed_at timestamptz not null default now(),
        expires_at timestamptz not null                 -- renewed every lease/3 while the owner lives
    )""",
)
CLAIM = """
    with previous as (select owner from {schema}.claims where key = %(key)s)
    insert into {schema}.claims as c (key, owner, claimed_at, expires_at)
    values (%(key)s, %(owner)s, now(), now() + %(lease)s * interval '1 second')
    on conflict (key) do update
        set owner = excluded.owner, claimed_at = excluded.claimed_at, expires_at = excluded.expires_at
        where c.expires_at < now()
    returning c.owner, c.expires_at, (select owner from previous)
"""


class PostgresResponseCache:
    """key -> result in ``<schema>.responses``, calls in flight in ``<schema>.claims`` (a ``CacheBackend``).

    Creates the schema and tables when missing (idempotent). Claims expire by the server's clock, so the workers'
    clocks need not agree. One connection per cache in autocommit mode, shared by the engine's threads under a lock
    (each method is one statement or one short transaction); a dropped connection is reopened and the method, which
    is idempotent, retried (3 attempts).

    Args:
        conninfo: a libpq connection string (``host=... port=... user=... password=... dbname=...``); unless it
            says otherwise, connecting gives up after 10 s and the sessions are named ``boostqa-llm-cache``.
        schema: the PostgreSQL schema that holds the two tables.
    """

    def __init__(self, conninfo: SecretStr, schema: str = DEFAULT_SCHEMA) -> None:
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", schema):
            raise ConfigError(f"cache schema {schema!r}: use lower-case letters, digits and underscores")
        self.schema = schema
        self._conninfo = conninfo
        self._lock = threading.Lock()
        self._db: psycopg.Connection[Any] | None = None
        self._run(self._create_tables)

    def __repr__(self) -> str:
        return f"PostgresResponseCache(schema={self.schema!r})"  # never the conninfo: it holds the password

    def _sql(self, text: str) -> sql.Composed:
        from psycopg import sql

        return sql.SQL(text).format(schema=sql.Identifier(self.schema))

    def _connection(self) -> psycopg.Connection[Any]:
        import psycopg
        from psycopg.conninfo import conninfo_to_dict, make_conninfo

        if self._db is None or self._db.closed or self._db.broken:
            params = conninfo_to_dict(self._conninfo.get_secret_value())
            # Bounded, so an unreachable server fails the call (and the task retries) instead of hanging the worker;
            # named, so an operator finds the cache's sessions in pg_stat_activity.
            params.setdefault("connect_timeout", 10)
            params.setdefault("application_name", "boostqa-llm-cache")
            self._db = psycopg.connect(make_conninfo("", **params), autocommit=True)
        return self._db

    def _run(self, operation: Callable[[psycopg.Connection[Any]], T]) -> T:
        """``operation`` on the connection, reconnecting and retrying when the server dropped it."""
        import psycopg

        retrying = Retrying(retry=retry_if_exception_type(psycopg.OperationalError), stop=stop_after_attempt(3),
                            wait=wait_exponential(multiplier=0.2, max=2), reraise=True,
                            before_sleep=lambda state: log.warning("llm cache: PostgreSQL call failed (%s); retrying",
                                                                   state.outcome.exception() if state.outcome else ""))
        for attempt in retrying:
            with attempt, self._lock:
                return operation(self._connection())
        raise AssertionError("unreachable: tenacity reraises the last error")

    def _create_tables(self, db: psycopg.Connection[Any]) -> None:
        # Looked up first: `create schema if not exists` needs CREATE on the database even when the schema exists,
        # and a least-privilege user of tables an administrator created must still get in.
        tables = (f"{self.schema}.responses", f"{self.schema}.claims")
        exist = db.execute("select to_regclass(%s) is not null and to_regclass(%s) is not null", tables).fetchone()
        if exist is not None and exist[0]:
            return
        with db.transaction():
            db.execute(DDL_LOCK)
            for statement in DDL:
                db.execute(self._sql(statement))

    def get(self, key: str) -> TransportResult | None:
        """The cached result, or None."""
        query = self._sql("select result from {schema}.responses where key = %s")
        row = self._run(lambda db: db.execute(query, (key,)).fetchone())
        return TransportResult.model_validate(row[0]) if row else None

    def get_many(self, keys: Sequence[str]) -> dict[str, TransportResult]:
        """The cached results among ``keys``, in one query."""
        query = self._sql("select key, result from {schema}.responses where key = any(%s)")
        rows = self._run(lambda db: db.execute(query, (list(keys),)).fetchall())
        return {key: TransportResult.model_validate(result) for key, result in rows}

    def put(self, key: str, result: TransportResult) -> None:
        """Store a result (first write wins) and drop the key's claim, in one transaction."""
        from psycopg.types.json import Jsonb

        insert = self._sql("insert into {schema}.responses (key, result) values (%s, %s) on conflict (key) do nothing")
        delete = self._sql("delete from {schema}.claims where key = %s")

        def store(db: psycopg.Connection[Any]) -> None:
            with db.transaction():
                db.execute(insert, (key, Jsonb(result.model_dump(mode="json"))))
                db.execute(delete, (key,))

        self._run(store)

    def claim(self, key: str, owner: str, lease_s: float) -> Claim | None:
        """Claim ``key`` unless another owner's unexpired claim holds it (see ``CacheBackend.claim``)."""
        claim = self._sql(CLAIM)
        current = self._sql("select owner, expires_at from {schema}.claims where key = %s")

        def attempt(db: psycopg.Connection[Any]) -> Claim | None:
            row = db.execute(claim, {"key": key, "owner": owner, "lease": lease_s}).fetchone()
            if row is not None:  # inserted, or an expired claim taken over
                return Claim(owner=row[0], expires_at=row[1], taken_over_from=row[2])
            held = db.execute(current, (key,)).fetchone()
            return Claim(owner=held[0], expires_at=held[1]) if held else None

        return self._run(attempt)

    def renew(self, key: str, owner: str, lease_s: float) -> bool:
        """Extend ``owner``'s claim; False when it no longer holds the key."""
        query = self._sql("update {schema}.claims set expires_at = now() + %s * interval '1 second' "
                          "where key = %s and owner = %s")
        return self._run(lambda db: db.execute(query, (lease_s, key, owner)).rowcount) == 1

    def release(self, key: str, owner: str) -> None:
        """Drop ``owner``'s claim, if it still holds one."""
        query = self._sql("delete from {schema}.claims where key = %s and owner = %s")
        self._run(lambda db: db.execute(query, (key, owner)))

    def holder(self, key: str) -> Claim | None:
        """The key's current claim, expired or not."""
        query = self._sql("select owner, expires_at from {schema}.claims where key = %s")
        row = self._run(lambda db: db.execute(query, (key,)).fetchone())
        return Claim(owner=row[0], expires_at=row[1]) if row else None

    def __len__(self) -> int:
        query = self._sql("select count(*) from {schema}.responses")
        row = self._run(lambda db: db.execute(query).fetchone())
        return int(row[0]) if row else 0

    def close(self) -> None:
        """Close the connection (a later call opens a new one)."""
        with self._lock:
            if self._db is not None:
                self._db.close()
