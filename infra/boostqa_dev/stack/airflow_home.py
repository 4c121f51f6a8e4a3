"""The embedded Airflow home: SQLite metadata DB, environment with ``AIRFLOW_CONN_*`` connections, pools."""

from __future__ import annotations

import json
import logging
import secrets
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

from boostqa.errors import StackError
from boostqa.settings import BoostqaSettings
from boostqa_airflow.constants import (
    LLM_CONN_IDS,
    LLM_EVAL_CONN_ID,
    POOLS,
    RAY_CONN_ID,
    S3_CONN_ID,
    WAREHOUSE_CONN_ID,
)
from boostqa_dev.checkout import PROJECT_ROOT
from boostqa_dev.ops.pools import pool_document

log = logging.getLogger(__name__)


def _jwt_secret(home: Path) -> str:
    # Airflow's generated JWT secret is too short for its own checks (docs/architecture.md); keep one per home.
    path = home / "jwt_secret"
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(64))
        path.chmod(0o600)
    return path.read_text().strip()


def connections(settings: BoostqaSettings) -> dict[str, str]:
    """``AIRFLOW_CONN_*`` variables (JSON form) for the store, the warehouse, the Ray cluster and the LLM roles."""
    lake = settings.lake
    conns: dict[str, dict[str, object]] = {
        S3_CONN_ID: {
            "conn_type": "aws",
            "login": lake.access_key,
            "password": lake.secret_key,
            "extra": {"endpoint_url": settings.s3_endpoint, "bucket": lake.bucket, "region_name": lake.region},
        },
        WAREHOUSE_CONN_ID: {"conn_type": "duckdb", "host": str(settings.warehouse_path)},
        RAY_CONN_ID: {"conn_type": "http", "host": settings.host, "port": settings.ports.ray_dashboard,
                      "schema": "http"},
    }
    for role, conn_id in LLM_CONN_IDS.items():
        conns[conn_id] = {
            "conn_type": "openai",
            "host": settings.llm_base_url,
            "password": "EMPTY",
            "extra": {"model": settings.llm_server.served_model_name, "role": role,
                      "max_concurrency": settings.llm_server.max_concurrency},
        }
    # The embedded server serves the base model, so the baseline's generative benchmarks can go there (server_models)
    conns[LLM_EVAL_CONN_ID] = {"conn_type": "openai", "host": settings.llm_base_url, "password": "EMPTY",
                               "extra": {"model": settings.llm_server.served_model_name}}
    return {f"AIRFLOW_CONN_{cid.upper()}": json.dumps(c, sort_keys=True) for cid, c in conns.items()}


def settings_env(settings: BoostqaSettings) -> dict[str, str]:
    """The path settings as ``BOOSTQA_*`` variables.

    So the stack's Airflow processes read the settings it was started with (a test's private state folder, the
    checkout's dbt project, venvs and templates).
    """
    trainer = settings.trainer
    paths = {
        "BOOSTQA_STATE_DIR": settings.state_dir,
        "BOOSTQA_DBT_PROJECT_DIR": settings.dbt_project_dir,
        "BOOSTQA_TRAINER__VENV": trainer.venv,
        "BOOSTQA_TRAINER__CODE_DIR": trainer.code_dir,
        "BOOSTQA_TRAINER__TORCH_EXTENSIONS_DIR": trainer.torch_extensions_dir,
        "BOOSTQA_TRAINER__KUBERNETES_TEMPLATE": trainer.kubernetes_template,
        "BOOSTQA_TRAINER__SLURM_TEMPLATE": trainer.slurm_template,
    }
    return {name: str(path) for name, path in paths.items() if path is not None}


def airflow_env(settings: BoostqaSettings) -> dict[str, str]:
    """Everything an Airflow process of the embedded stack needs in its environment."""
    home = settings.airflow_home
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
        # boostqa_airflow is an installed package; Airflow's plugin scan would import each of its files as a
        # top-level module (plugins/boostqa_airflow/dbt.py as `dbt`), so the scanned folder stays empty.
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(home / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__API_AUTH__JWT_SECRET": _jwt_secret(home),
        "AIRFLOW__API__PORT": str(settings.ports.airflow_api),
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        "AIRFLOW__COSMOS__CACHE_DIR": str(home / "cosmos_cache"),
        "DBT_LOG_PATH": str(settings.state_dir / "logs" / "dbt"),
        **settings_env(settings),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "DO_NOT_TRACK": "1",
        **connections(settings),
    }


def airflow_command(settings: BoostqaSettings, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run one ``airflow`` CLI command against the embedded home, streaming its output.

    Raises:
        StackError: the command failed and ``check`` is set.
    """
    import os

    argv = [sys.executable, "-m", "airflow", *args]
    result = subprocess.run(argv, env={**os.environ, **airflow_env(settings)}, text=True, check=False)  # noqa: S603
    if check and result.returncode != 0:
        raise StackError(f"`airflow {' '.join(args)}` failed with exit code {result.returncode}")
    return result


def prepare(settings: BoostqaSettings) -> str:
    """Migrate the SQLite DB and create the pools once per Airflow version (a no-op afterwards)."""
    home = settings.airflow_home
    (home / "plugins").mkdir(parents=True, exist_ok=True)
    marker = home / f".prepared-{version('apache-airflow')}"
    if not marker.exists():
        log.info("migrating the Airflow metadata DB in %s", home)
        airflow_command(settings, "db", "migrate")
        pools_file = home / "pools.json"
        pools_file.write_text(json.dumps(pool_document(), indent=2))
        airflow_command(settings, "pools", "import", str(pools_file))
        marker.write_text("ok\n")
    return f"AIRFLOW_HOME {home} (SQLite, migrated, {len(POOLS)} pools)"


def health(settings: BoostqaSettings) -> tuple[bool, str]:
    """(healthy, detail) of the Airflow home."""
    home = settings.airflow_home
    if not any(home.glob(".prepared-*")):
        return False, f"{home} is not prepared (run `boostqa stack up`)"
    return True, f"{home / 'airflow.db'} migrated"


def write_env_file(settings: BoostqaSettings) -> Path:
    """Write ``.state/env.sh`` so an operator can ``source`` it before running airflow or dbt by hand."""
    import shlex

    from boostqa.warehouse import dbt_env
    from boostqa_dev.stack.seaweedfs import lake_config

    env = {**airflow_env(settings), **dbt_env(lake_config(settings), settings.warehouse_path)}
    path = settings.state_dir / "env.sh"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"export {k}={shlex.quote(v)}\n" for k, v in sorted(env.items())))
    path.chmod(0o600)
    return path


def require_airflow() -> None:
    """Fail clearly where Airflow is not installed in this environment.

    Raises:
        StackError: the pipeline venv is missing.
    """
    try:
        version("apache-airflow")
    except Exception as exc:  # noqa: BLE001
        raise StackError("Airflow is not installed here: run `make install` and use .venv/bin/boostqa") from exc
