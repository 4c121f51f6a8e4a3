"""``make demo``: bring the stack up, run the DAGs through Airflow, print the operator summary."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import date

from rich.console import Console

from boostqa.errors import StackError
from boostqa.report.summary import print_summary
from boostqa.settings import BoostqaSettings
from boostqa.stack import manager
from boostqa.stack.airflow_home import airflow_env
from boostqa.stack.seaweedfs import lake_config
from boostqa.warehouse import DBT_PROJECT_DIR, dbt_env, run_dbt

DEMO_DAGS = ("seed_ingest", "seed_annotate", "warehouse_build")


def run_dag(settings: BoostqaSettings, dag_id: str, logical_date: date, conf: dict[str, object] | None = None) -> float:
    """Run one DAG through ``airflow dags test``; its log goes to ``.state/logs``; return seconds taken.

    Raises:
        StackError: the DAG run did not succeed (the message names the log to read).
    """
    log_file = settings.state_dir / "logs" / f"dags_test-{dag_id}-{logical_date}.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with log_file.open("w") as handle:
        result = subprocess.run(  # noqa: S603
            [sys.executable, "-m", "airflow", "dags", "test", dag_id, logical_date.isoformat(),
             *(["--conf", json.dumps(conf)] if conf else [])],
            env={**os.environ, **airflow_env(settings)}, stdout=handle, stderr=subprocess.STDOUT, check=False,
        )
    # `dags test` can exit 0 for a failed run: trust the run's final state line as well.
    final = log_file.read_text(errors="replace").rsplit("DagRun Finished", 1)[-1]
    if result.returncode != 0 or f"dag_id={dag_id}" not in final or "state=success" not in final:
        raise StackError(f"DAG {dag_id} did not succeed for {logical_date}; read {log_file}")
    return time.monotonic() - started


def ensure_manifest(settings: BoostqaSettings) -> None:
    """Parse the dbt project when its manifest is missing (cosmos renders the DAG from it)."""
    if not (DBT_PROJECT_DIR / "target" / "manifest.json").exists():
        run_dbt(["parse", "--quiet"], dbt_env(lake_config(settings), settings.warehouse_path))


def run_demo(settings: BoostqaSettings, logical_date: date, console: Console, annotate_limit: int | None = 48) -> None:
    """Stack up -> seed_ingest -> seed_annotate (vLLM) -> warehouse_build (dbt via cosmos) -> summary.

    ``annotate_limit`` caps the seeds one demo run annotates (the 135M CPU model takes seconds per seed);
    None annotates every pending seed. Annotation is incremental, so later runs continue with the rest.
    """
    with console.status("starting the embedded stack"):
        parts = manager.up(settings)
    for part in parts:
        console.print(f"[green]ok[/] {part.name}: {part.detail}")
    ensure_manifest(settings)
    confs: dict[str, dict[str, object]] = {"seed_annotate": {"limit": annotate_limit, "shard_size": 16}}
    for dag_id in DEMO_DAGS:
        with console.status(f"running DAG {dag_id} for {logical_date} through Airflow"):
            seconds = run_dag(settings, dag_id, logical_date, conf=confs.get(dag_id))
        console.print(f"[green]ok[/] DAG {dag_id} succeeded in {seconds:.0f}s "
                      f"(log: {settings.state_dir / 'logs' / f'dags_test-{dag_id}-{logical_date}.log'})")
    print_summary(settings, console, logical_date)
