"""Readers never touch the writer's file: they read the published snapshot, pinned while they read."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from boostqa.errors import ConfigError
from boostqa.warehouse import publish_snapshot, query, snapshot_path, warehouse_snapshot

HOLD_THE_WRITER_LOCK = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])  # a dbt build in another process: it holds the file's write lock
con.execute("insert into marts.t values (3)")
print("holding", flush=True)
time.sleep(60)
"""


def _build(path: Path, *values: int) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema if not exists marts")
        con.execute("create or replace table marts.t (v integer)")
        con.executemany("insert into marts.t values (?)", [(v,) for v in values])


def test_a_reader_reads_the_snapshot_while_a_writer_holds_the_warehouse(tmp_path: Path) -> None:
    warehouse = tmp_path / "boostqa.duckdb"
    with pytest.raises(ConfigError, match="no warehouse snapshot .* run the warehouse_build DAG"):
        with warehouse_snapshot(warehouse):
            pass
    _build(warehouse, 1, 2)
    published = publish_snapshot(warehouse)
    assert published == snapshot_path(warehouse) and published.name == "boostqa.snapshot.duckdb"

    writer = subprocess.Popen([sys.executable, "-c", HOLD_THE_WRITER_LOCK, str(warehouse)],  # noqa: S603
                              stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "holding"
        with pytest.raises(duckdb.IOException):  # what the summary and the report used to meet
            duckdb.connect(str(warehouse), read_only=True)
        with warehouse_snapshot(warehouse) as snapshot:
            assert query(snapshot, "select sum(v) as s from marts.t") == [{"s": 3}]
    finally:
        writer.kill()
        writer.wait()


def test_a_pinned_snapshot_stays_the_same_copy_while_the_writer_publishes(tmp_path: Path) -> None:
    warehouse = tmp_path / "boostqa.duckdb"
    _build(warehouse, 1)
    publish_snapshot(warehouse)
    with warehouse_snapshot(warehouse) as pinned:
        _build(warehouse, 10, 20)
        publish_snapshot(warehouse)
        assert query(pinned, "select sum(v) as s from marts.t") == [{"s": 1}]  # the copy this reader started on
        with warehouse_snapshot(warehouse) as fresh:
            assert query(fresh, "select sum(v) as s from marts.t") == [{"s": 30}]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["boostqa.duckdb", "boostqa.snapshot.duckdb"]


def test_publishing_beside_an_open_writer_connection_in_this_process_takes_its_wal(tmp_path: Path) -> None:
    """cosmos runs dbt in the task's process and may keep its connection: the publish never opens the live file."""
    warehouse = tmp_path / "boostqa.duckdb"
    _build(warehouse, 1)
    dbt = duckdb.connect(str(warehouse), config={"threads": 1})  # another configuration than a plain connect
    try:
        dbt.execute("insert into marts.t values (41)")  # in the WAL, not yet checkpointed
        publish_snapshot(warehouse)
        with warehouse_snapshot(warehouse) as snapshot:
            assert query(snapshot, "select sum(v) as s from marts.t") == [{"s": 42}]
        # The writer's lock survives the publish: copying the live file in this process would have dropped it (a
        # process loses its POSIX record locks on a file when it closes any descriptor of it).
        probe = (f"import duckdb\ntry:\n    duckdb.connect({str(warehouse)!r}, read_only=True)\n    print('open')\n"
                 "except duckdb.IOException:\n    print('locked')")
        assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                              check=True).stdout.strip() == "locked"
    finally:
        dbt.close()
