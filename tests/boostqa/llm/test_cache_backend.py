from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
from pydantic import SecretStr

from boostqa.errors import ConfigError
from boostqa.llm.cache import ResponseCache
from boostqa.llm.cache_backend import CacheBackend
from boostqa.llm.cache_postgres import PostgresResponseCache
from boostqa.llm.types import TransportResult
from tests.boostqa.llm.cache_backends import BackendSpec
from tests.postgres_server import BINDIR_ENV, PostgresServer, PostgresUnavailable, find_bindir

FIRST = TransportResult(text='{"label": "a"}', model="m", request_id="req-1", prompt_tokens=3, completion_tokens=2,
                        reasoning="because")
SECOND = TransportResult(text='{"label": "b"}', model="m", request_id="req-2")


def test_a_stored_result_round_trips_and_persists_for_another_connection(cache: CacheBackend,
                                                                         backend_spec: BackendSpec) -> None:
    assert cache.get("k1") is None and len(cache) == 0
    cache.put("k1", FIRST)
    assert cache.get("k1") == FIRST and len(cache) == 1
    other = backend_spec.open()  # another worker on the same file or database
    try:
        assert other.get("k1") == FIRST
    finally:
        other.close()


def test_the_first_write_wins(cache: CacheBackend) -> None:
    cache.put("k1", FIRST)
    cache.put("k1", SECOND)
    assert cache.get("k1") == FIRST and len(cache) == 1


def test_get_many_returns_the_stored_results_among_many_keys(cache: CacheBackend) -> None:
    for n in range(0, 1200, 2):  # more keys than SQLite's chunk of 500
        cache.put(f"k{n}", FIRST)
    found = cache.get_many([f"k{n}" for n in range(1200)])
    assert set(found) == {f"k{n}" for n in range(0, 1200, 2)} and found["k600"] == FIRST
    assert cache.get_many([]) == {}


def test_a_claim_is_held_by_its_owner_alone_until_released(cache: CacheBackend) -> None:
    mine = cache.claim("k1", "host-a:1/aaaa", lease_s=30)
    assert mine is not None and (mine.owner, mine.taken_over_from) == ("host-a:1/aaaa", None)
    theirs = cache.claim("k1", "host-b:2/bbbb", lease_s=30)
    assert theirs is not None and theirs.owner == "host-a:1/aaaa"  # not taken: the holder is reported
    assert cache.renew("k1", "host-a:1/aaaa", lease_s=30) and not cache.renew("k1", "host-b:2/bbbb", lease_s=30)
    cache.release("k1", "host-b:2/bbbb")  # not its claim: nothing happens
    assert (held := cache.holder("k1")) is not None and held.owner == "host-a:1/aaaa"
    cache.release("k1", "host-a:1/aaaa")
    assert cache.holder("k1") is None
    again = cache.claim("k1", "host-b:2/bbbb", lease_s=30)
    assert again is not None and again.owner == "host-b:2/bbbb"


def test_an_expired_claim_is_taken_over_and_its_old_owner_cannot_renew_it(cache: CacheBackend) -> None:
    cache.claim("k1", "crashed:1/dead", lease_s=0.2)
    time.sleep(0.4)
    claim = cache.claim("k1", "alive:2/beef", lease_s=30)
    assert claim is not None and (claim.owner, claim.taken_over_from) == ("alive:2/beef", "crashed:1/dead")
    assert not cache.renew("k1", "crashed:1/dead", lease_s=30)
    assert claim.expires_at.timestamp() > time.time() + 20


def test_storing_the_result_drops_the_claim(cache: CacheBackend) -> None:
    cache.claim("k1", "host-a:1/aaaa", lease_s=30)
    cache.put("k1", FIRST)
    assert cache.holder("k1") is None and cache.get("k1") == FIRST


def test_one_claimant_wins_among_threads_racing_for_a_key(backend_spec: BackendSpec) -> None:
    caches = [backend_spec.open() for _ in range(4)]  # four connections, as four workers have
    start = threading.Barrier(len(caches))
    winners: list[str] = []

    def race(index: int) -> None:
        start.wait()
        claim = caches[index].claim("k1", f"w{index}", lease_s=30)
        if claim is not None and claim.owner == f"w{index}":
            winners.append(claim.owner)

    threads = [threading.Thread(target=race, args=(i,)) for i in range(len(caches))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for opened in caches:
        opened.close()
    assert len(winners) == 1


def test_a_cache_file_from_before_claims_opens_and_replays(tmp_path: Path) -> None:
    path = tmp_path / "response_cache.sqlite"
    old = sqlite3.connect(path)
    old.execute("create table responses (key text primary key, result text not null)")
    old.execute("insert into responses values (?, ?)", ("k1", FIRST.model_dump_json()))
    old.commit()
    old.close()
    cache = ResponseCache(path)
    assert cache.get("k1") == FIRST and cache.claim("k2", "a", 30) is not None


def test_postgres_tables_are_created_once_even_by_workers_starting_together(postgres_server: PostgresServer) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def open_one() -> None:
        start.wait()
        try:
            PostgresResponseCache(SecretStr(postgres_server.conninfo()), schema="cache_ddl_race").close()
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    tables = postgres_server.execute("select table_name from information_schema.tables "
                                     "where table_schema = 'cache_ddl_race' order by 1")
    assert tables == [("claims",), ("responses",)]


def test_a_postgres_user_without_create_rights_uses_tables_an_administrator_created(
        postgres_server: PostgresServer) -> None:
    postgres_server.create_database("cache_least_privilege")
    PostgresResponseCache(SecretStr(postgres_server.conninfo("cache_least_privilege"))).close()  # the admin's DDL
    for statement in ("create role cache_worker login password 'worker-pw'",
                      "revoke create on database cache_least_privilege from public",
                      "grant usage on schema boostqa_llm_cache to cache_worker",
                      "grant select, insert, update, delete on all tables in schema boostqa_llm_cache to cache_worker"):
        postgres_server.execute(statement, dbname="cache_least_privilege")
    worker = PostgresResponseCache(SecretStr(f"host=127.0.0.1 port={postgres_server.port} user=cache_worker "
                                             "password=worker-pw dbname=cache_least_privilege"))
    worker.put("k1", FIRST)
    assert worker.get("k1") == FIRST and worker.claim("k2", "w", 30) is not None
    worker.close()


def test_postgres_reconnects_when_the_server_drops_the_session(postgres_server: PostgresServer) -> None:
    cache = PostgresResponseCache(SecretStr(postgres_server.conninfo()), schema="cache_reconnect")
    cache.put("k1", FIRST)
    killed = postgres_server.execute("select pg_terminate_backend(pid) from pg_stat_activity "
                                     "where application_name = 'boostqa-llm-cache'")
    assert killed and all(row == (True,) for row in killed)
    assert cache.get("k1") == FIRST  # a new session, transparently
    cache.close()


def test_postgres_cache_hides_its_connection_string_and_refuses_odd_schema_names(
        postgres_server: PostgresServer) -> None:
    cache = PostgresResponseCache(SecretStr(postgres_server.conninfo()), schema="cache_repr")
    assert postgres_server.password not in repr(cache) and postgres_server.password not in repr(vars(cache))
    cache.close()
    with pytest.raises(ConfigError, match="schema"):
        PostgresResponseCache(SecretStr(postgres_server.conninfo()), schema='x"; drop table y; --')


def test_without_server_binaries_the_postgres_tests_fail_saying_how_to_install_them(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(BINDIR_ENV, str(tmp_path))  # a folder with no postgres in it
    with pytest.raises(PostgresUnavailable, match="apt-get install -y postgresql"):
        find_bindir()
