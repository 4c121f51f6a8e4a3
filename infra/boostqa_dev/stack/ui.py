"""Optional UI services: ``airflow standalone`` (web UI + scheduler) and a static server for the dbt docs."""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path

from boostqa.settings import BoostqaSettings
from boostqa_dev.checkout import PROJECT_ROOT
from boostqa_dev.stack.airflow_home import airflow_env
from boostqa_dev.stack.ports import port_is_open, require_free, wait_until
from boostqa_dev.stack.process import ServiceProcess, read_pid, start

DBT_DOCS_DIR = PROJECT_ROOT / "dbt_project" / "target"


def airflow_service(settings: BoostqaSettings) -> ServiceProcess:
    """``airflow standalone``: api-server, scheduler, dag-processor and triggerer in one process group."""
    return ServiceProcess(
        name="airflow",
        argv=[sys.executable, "-m", "airflow", "standalone"],
        state_dir=settings.state_dir,
        # standalone starts its components as `airflow ...` subprocesses found on PATH.
        env={**airflow_env(settings), "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"},
    )


def dbt_docs_service(settings: BoostqaSettings, docs_dir: Path = DBT_DOCS_DIR) -> ServiceProcess:
    """A static file server over ``dbt docs generate`` output (the same files ``dbt docs serve`` serves)."""
    return ServiceProcess(
        name="dbt_docs",
        argv=[sys.executable, "-m", "http.server", str(settings.ports.dbt_docs), "--bind", settings.host,
              "--directory", str(docs_dir)],
        state_dir=settings.state_dir,
    )


def up(settings: BoostqaSettings, airflow: bool = True, docs: bool = True,
       docs_dir: Path = DBT_DOCS_DIR) -> list[str]:
    """Start the chosen UIs and wait until they answer; return status lines."""
    lines = []
    docs_dir.mkdir(parents=True, exist_ok=True)
    wanted = [
        (airflow_service(settings), "airflow_api", settings.ports.airflow_api, "Airflow UI", 180.0, airflow),
        (dbt_docs_service(settings, docs_dir), "dbt_docs", settings.ports.dbt_docs, "dbt docs", 30.0, docs),
    ]
    for spec, label, port, what, timeout, enabled in wanted:
        if not enabled:
            continue
        if read_pid(spec) is None:
            require_free(settings.host, {label: port})
        pid = start(spec)
        wait_until(functools.partial(port_is_open, settings.host, port), what, timeout, str(spec.log_file))
        lines.append(f"{what}: http://{settings.host}:{port} (pid {pid})")
    return lines
