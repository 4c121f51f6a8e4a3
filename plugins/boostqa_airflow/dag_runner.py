"""A long-lived ``airflow dags test`` for the embedded stack: one process runs DAG run after DAG run.

The demo and a test session thus pay Airflow's start-up (imports, the in-process execution API, about 25 s) once instead
of per run.

Protocol (``boostqa_dev.stack.dag_runs.DagRunner`` is the client): one JSON request per line on stdin, ``{"dag_id",
"logical_date", "conf", "env", "log_file"}``; one JSON reply per line on the original stdout, ``{"state"}`` or
``{"state": "error", "error"}``. Each run's output (Airflow's and the tasks') goes to its ``log_file``. The runner
parses the DAG and calls ``dag.test()`` exactly as ``airflow dags test`` does; it exits when stdin closes.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any


@contextlib.contextmanager
def _output_to(path: str, fallback: int) -> Iterator[None]:
    """Send fds 1 and 2 (and every logger writing to them) to ``path`` for the block, then back to ``fallback``."""
    sys.stdout.flush()
    sys.stderr.flush()
    with open(path, "ab") as handle:  # noqa: PTH123 - a raw fd to dup
        os.dup2(handle.fileno(), 1)
        os.dup2(handle.fileno(), 2)
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(fallback, 1)
        os.dup2(fallback, 2)


def _release_warehouse() -> None:
    """Drop dbt-duckdb's process-wide DuckDB handle: the warehouse file must be free for other processes between runs.

    A fresh ``airflow dags test`` released it by exiting.
    """
    connections = sys.modules.get("dbt.adapters.duckdb.connections")
    if connections is not None:
        connections.DuckDBConnectionManager.close_all_connections()
    gc.collect()


def _run(request: dict[str, Any], base_env: dict[str, str]) -> str:
    """One DAG run as ``airflow dags test`` makes it; returns the run's final state."""
    from airflow.sdk import timezone
    from airflow.utils.cli import get_bagged_dag
    from airflow.utils.providers_configuration_loader import providers_configuration_loaded

    os.environ.clear()
    os.environ.update(base_env | request["env"])
    # Code that asks whether it runs under `airflow dags test` (boostqa_airflow.alerting) reads the command line.
    sys.argv = ["airflow", "dags", "test", request["dag_id"], request["logical_date"]]
    settings = sys.modules.get("boostqa.settings")
    if settings is not None:
        settings.get_settings.cache_clear()  # BOOSTQA_* may differ from the previous request's

    # `airflow dags test --dagfile-path`: parse only the DAG's own file when it is named after the DAG (ours are)
    own_file = Path(os.environ.get("AIRFLOW__CORE__DAGS_FOLDER", "")) / f"{request['dag_id']}.py"

    @providers_configuration_loaded
    def test() -> str:
        dag = get_bagged_dag(bundle_names=None, dag_id=request["dag_id"],
                             dagfile_path=str(own_file) if own_file.is_file() else None)
        run = dag.test(logical_date=timezone.parse(request["logical_date"]), run_conf=request["conf"])
        return str(run.state) if run is not None else "failed"

    try:
        return test()
    finally:
        _release_warehouse()


def main() -> None:
    """Serve requests until stdin closes."""
    replies = os.fdopen(os.dup(1), "w", buffering=1)
    idle_log = os.dup(2)  # between runs, stray output goes where the runner's stderr went
    os.dup2(idle_log, 1)
    base_env = dict(os.environ)
    sys.argv = ["airflow", "dags", "test"]
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        with _output_to(request["log_file"], idle_log):
            try:
                reply = {"state": _run(request, base_env)}
            except (Exception, SystemExit) as error:  # any failure is this run's, never the runner's
                traceback.print_exc()
                reply = {"state": "error", "error": f"{type(error).__name__}: {error}"}
        replies.write(json.dumps(reply) + "\n")


if __name__ == "__main__":
    main()
