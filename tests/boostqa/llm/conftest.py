"""Fixtures of the response-cache tests: every contract and claim test runs on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from boostqa.llm.cache_backend import CacheBackend
from tests.boostqa.llm.cache_backends import BackendSpec


@pytest.fixture(params=["sqlite", "postgres"])
def backend_spec(request: pytest.FixtureRequest, tmp_path: Path) -> BackendSpec:
    """One backend per test: a new SQLite file, or a new schema on the session's PostgreSQL server."""
    if request.param == "sqlite":
        return BackendSpec("sqlite", str(tmp_path / "cache.sqlite"))
    server = request.getfixturevalue("postgres_server")  # started only when a PostgreSQL case runs
    return BackendSpec("postgres", server.conninfo(), schema=f"cache_{secrets.token_hex(4)}")


@pytest.fixture
def cache(backend_spec: BackendSpec) -> Iterator[CacheBackend]:
    opened = backend_spec.open()
    try:
        yield opened
    finally:
        opened.close()
