from __future__ import annotations

import json
from pathlib import Path

from boostqa.settings import BoostqaSettings
from boostqa_airflow.constants import (
    DBT_POOL,
    LLM_CONN_IDS,
    LLM_EVAL_CONN_ID,
    POOLS,
    RAY_CONN_ID,
    S3_CONN_ID,
    WAREHOUSE_CONN_ID,
)
from boostqa_dev.stack.airflow_home import airflow_env, connections


def test_connections_cover_store_warehouse_ray_and_every_llm_role(tmp_path: Path) -> None:
    settings = BoostqaSettings(state_dir=tmp_path)
    conns = {k: json.loads(v) for k, v in connections(settings).items()}
    expected = {S3_CONN_ID, WAREHOUSE_CONN_ID, RAY_CONN_ID, LLM_EVAL_CONN_ID, *LLM_CONN_IDS.values()}
    assert set(conns) == {f"AIRFLOW_CONN_{c.upper()}" for c in expected}
    s3 = conns["AIRFLOW_CONN_BOOSTQA_S3"]
    assert s3["extra"]["endpoint_url"] == settings.s3_endpoint and s3["extra"]["bucket"] == "boostqa"
    assert conns["AIRFLOW_CONN_BOOSTQA_WAREHOUSE"]["host"] == str(settings.warehouse_path)
    for role in ("annotator", "generator", "refiner", "eval"):  # eval: the embedded server serves the base model
        assert conns[f"AIRFLOW_CONN_BOOSTQA_LLM_{role.upper()}"]["host"].endswith(f":{settings.ports.llm}/v1")
    ray = conns["AIRFLOW_CONN_BOOSTQA_RAY"]
    assert f"{ray['schema']}://{ray['host']}:{ray['port']}" == settings.ray_address


def test_airflow_env_is_isolated_under_the_state_folder(tmp_path: Path) -> None:
    env = airflow_env(BoostqaSettings(state_dir=tmp_path))
    assert env["AIRFLOW_HOME"] == str(tmp_path / "airflow")
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == f"sqlite:///{tmp_path / 'airflow' / 'airflow.db'}"
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
    assert len(env["AIRFLOW__API_AUTH__JWT_SECRET"]) >= 64
    assert env["AIRFLOW__API_AUTH__JWT_SECRET"] == airflow_env(BoostqaSettings(state_dir=tmp_path))[
        "AIRFLOW__API_AUTH__JWT_SECRET"]


def test_dbt_pool_has_one_slot() -> None:
    assert POOLS[DBT_POOL][0] == 1


def test_airflow_processes_get_the_path_settings_the_stack_was_started_with(tmp_path: Path) -> None:
    from boostqa.settings import TrainerSettings

    trainer = TrainerSettings(venv=tmp_path / "venv-train", code_dir=tmp_path / "code", slurm_template=None)
    env = airflow_env(BoostqaSettings(state_dir=tmp_path / "state", dbt_project_dir=tmp_path / "dbt", trainer=trainer))
    assert env["BOOSTQA_STATE_DIR"] == str(tmp_path / "state")
    assert env["BOOSTQA_DBT_PROJECT_DIR"] == str(tmp_path / "dbt")
    assert env["BOOSTQA_TRAINER__VENV"] == str(tmp_path / "venv-train")
    assert env["BOOSTQA_TRAINER__CODE_DIR"] == str(tmp_path / "code")
    assert "BOOSTQA_TRAINER__SLURM_TEMPLATE" not in env  # unset stays unset: the library reports it when used
