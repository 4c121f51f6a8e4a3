"""The DuckDB warehouse as dbt sees it: the environment its profile reads, and read-only access to marts.

dbt is the warehouse file's only writer. Readers (the summary, the report, ``ops sql``, the spend guard's history)
never open that file: they read the snapshot the writer publishes after each build (:func:`publish_snapshot`, a
consistent copy swapped in by rename), so they never meet dbt's lock or a half-written file.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from boostqa.errors import ConfigError
from boostqa.lake.store import LakeConfig
from boostqa.settings import get_settings, require_path


def dbt_project_dir() -> Path:
    """The dbt project folder (``BOOSTQA_DBT_PROJECT_DIR``).

    Raises:
        ConfigError: it is not set.
    """
    return require_path(get_settings().dbt_project_dir, "BOOSTQA_DBT_PROJECT_DIR")


def duckdb_extension_dir() -> str:
    """Folder holding the httpfs extension shipped by the ``duckdb-ext-httpfs`` wheel.

    DuckDB cannot download extensions on these machines, so its ``extension_directory`` points here.

    Raises:
        ConfigError: the wheel is not installed.
    """
    spec = importlib.util.find_spec("duckdb_ext")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("duckdb-ext-httpfs is not installed: run `make install`")
    return str(Path(next(iter(spec.submodule_search_locations))) / "extensions")


def dbt_env(lake: LakeConfig, warehouse_path: Path) -> dict[str, str]:
    """Environment variables read by ``dbt_project/profiles.yml`` (and by the cosmos profile mapping)."""
    return {
        "BOOSTQA_WAREHOUSE_PATH": str(warehouse_path),
        "BOOSTQA_DUCKDB_EXTENSION_DIR": duckdb_extension_dir(),
        "BOOSTQA_S3_ENDPOINT": lake.endpoint_url or f"https://s3.{lake.region}.amazonaws.com",
        "BOOSTQA_S3_ACCESS_KEY": lake.access_key,
        "BOOSTQA_S3_SECRET_KEY": lake.secret_key.get_secret_value(),
        "BOOSTQA_S3_REGION": lake.region,
        "BOOSTQA_LAKE_BUCKET": lake.bucket,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "DO_NOT_TRACK": "1",
    }


def run_dbt(args: list[str], env: dict[str, str], project_dir: Path | None = None) -> None:
    """Run the ``dbt`` CLI of this environment against the project, outside Airflow (CLI, tests).

    The project defaults to ``dbt_project_dir()``.

    Raises:
        ConfigError: dbt exited non-zero (its output was streamed above), or no project is configured.
    """
    project_dir = project_dir or dbt_project_dir()
    dbt = Path(sys.executable).parent / "dbt"
    argv = [str(dbt), *args, "--project-dir", str(project_dir), "--profiles-dir", str(project_dir)]
    result = subprocess.run(argv, env={**os.environ, **env}, check=False)  # noqa: S603
    if result.returncode != 0:
        raise ConfigError(f"`dbt {' '.join(args)}` failed (exit {result.returncode}); see the output above")
    if args and args[0] in WRITING_COMMANDS and "BOOSTQA_WAREHOUSE_PATH" in env:
        publish_snapshot(Path(env["BOOSTQA_WAREHOUSE_PATH"]))  # this process was the writer: readers see its build


WRITING_COMMANDS = frozenset({"build", "run", "seed", "snapshot"})


def snapshot_path(warehouse_path: Path) -> Path:
    """Where the writer publishes the readers' copy of ``warehouse_path`` (``<name>.snapshot.duckdb`` beside it)."""
    return warehouse_path.with_name(f"{warehouse_path.stem}.snapshot{warehouse_path.suffix}")


def publish_snapshot(warehouse_path: Path) -> Path:
    """Publish a consistent copy of the warehouse for readers; call it as the writer, after a build.

    The file and its WAL are copied beside the snapshot, the copy is checkpointed on its own (the WAL folded in: the
    live file is never opened, so an idle dbt connection in this process, as cosmos keeps one, is no conflict), and
    renamed over the snapshot: a reader sees the old snapshot or the new one, never half of one, and one that has
    it open keeps reading the old copy. Under Airflow this runs in the one-slot dbt pool, after the group's build.
    """
    import duckdb

    if not warehouse_path.exists():
        raise ConfigError(f"warehouse {warehouse_path} does not exist yet: nothing to publish")
    target = snapshot_path(warehouse_path)
    with tempfile.TemporaryDirectory(prefix="boostqa-publish-", dir=target.parent) as folder:
        copy = Path(folder) / warehouse_path.name
        wal = warehouse_path.with_name(warehouse_path.name + ".wal")
        _copy_in_child(warehouse_path, copy)
        if wal.exists():
            _copy_in_child(wal, copy.with_name(copy.name + ".wal"))
        with duckdb.connect(str(copy)) as con:
            con.execute("checkpoint")
        os.replace(copy, target)
    return target


def _copy_in_child(source: Path, target: Path) -> None:
    """Copy a file in a child process.

    DuckDB locks its file with POSIX record locks, and a process loses every such lock on a file as soon as it closes
    any descriptor of it: copying the live warehouse here would silently drop the lock of a dbt connection this
    process holds (found by `make faults`, row "reads during a warehouse build").
    """
    code = "import shutil, sys; shutil.copyfile(sys.argv[1], sys.argv[2])"
    subprocess.run([sys.executable, "-c", code, str(source), str(target)], check=True)  # noqa: S603


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _attach_lake(con: Any, lake: LakeConfig) -> None:
    """What dbt's profile sets up: httpfs from the wheel and an S3 secret, so views over the lake can be read."""
    endpoint = lake.endpoint_url or f"https://s3.{lake.region}.amazonaws.com"
    host = endpoint.removeprefix("https://").removeprefix("http://")
    con.execute(f"set extension_directory = {_literal(duckdb_extension_dir())}")
    con.execute("set autoinstall_known_extensions = false")
    con.execute("load httpfs")
    # CREATE SECRET takes no bound parameters: the values are quoted as SQL literals
    con.execute(f"create temporary secret boostqa_lake (type s3, key_id {_literal(lake.access_key)}, "
                f"secret {_literal(lake.secret_key.get_secret_value())}, endpoint {_literal(host)}, "
                f"url_style 'path', use_ssl {str(endpoint.startswith('https://')).lower()}, "
                f"region {_literal(lake.region)})")


def query(warehouse_path: Path, sql: str, lake: LakeConfig | None = None) -> list[dict[str, Any]]:
    """Run a read-only query on the warehouse (never write: dbt is its only writer).

    With ``lake``, the staging views (which read the lake's parquet through httpfs) can be queried too; without it
    only tables (intermediate and marts) can.
    """
    import duckdb

    if not warehouse_path.exists():
        raise ConfigError(f"warehouse {warehouse_path} does not exist yet: run the warehouse_build DAG first")
    with duckdb.connect(str(warehouse_path), read_only=True) as con:
        if lake is not None:
            _attach_lake(con, lake)
        cursor = con.execute(sql)
        columns = [d[0] for d in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


@contextmanager
def warehouse_snapshot(warehouse: Path) -> Iterator[Path]:
    """The published snapshot of the warehouse to read from (never the file dbt writes).

    Yields the path of a private hard link to the current snapshot: it stays the same copy while the caller reads,
    whatever the writer publishes meanwhile.

    Raises:
        ConfigError: no build has published a snapshot yet (run the warehouse_build DAG).
    """
    published = snapshot_path(warehouse)
    if not published.exists():
        raise ConfigError(f"no warehouse snapshot at {published} yet: run the warehouse_build DAG (every dbt build "
                          "publishes one)")
    with tempfile.TemporaryDirectory(prefix="boostqa-warehouse-", dir=published.parent) as folder:
        pinned = Path(folder) / warehouse.name
        try:
            os.link(published, pinned)  # the same inode: a later publish renames a new file over the name only
        except OSError:  # a file system without hard links
            shutil.copyfile(published, pinned)
        yield pinned
