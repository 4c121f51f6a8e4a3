from __future__ import annotations

import json

import pytest

from boostqa_airflow.dbt import WarehouseProfileMapping
from boostqa_airflow.hooks.lake import LakeHook
from boostqa_airflow.hooks.warehouse import WarehouseHook

S3_CONN = {"conn_type": "aws", "login": "AKIA-test", "password": "s3cr3t-value",
           "extra": {"endpoint_url": "http://127.0.0.1:9", "bucket": "lake-test", "region_name": "eu-west-1"}}


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_BOOSTQA_S3", json.dumps(S3_CONN))
    monkeypatch.setenv("AIRFLOW_CONN_BOOSTQA_WAREHOUSE", json.dumps({"conn_type": "duckdb", "host": "/data/wh.duckdb"}))


@pytest.mark.usefixtures("connections")
def test_lake_hook_turns_the_connection_into_a_lake_config() -> None:
    config = LakeHook().get_config()
    assert config.endpoint_url == "http://127.0.0.1:9"
    assert config.bucket == "lake-test"
    assert config.region == "eu-west-1"
    assert config.access_key == "AKIA-test"
    assert config.secret_key.get_secret_value() == "s3cr3t-value"
    assert "s3cr3t" not in repr(config)


@pytest.mark.usefixtures("connections")
def test_warehouse_hook_returns_the_duckdb_path() -> None:
    assert str(WarehouseHook().get_path()) == "/data/wh.duckdb"


@pytest.mark.usefixtures("connections")
def test_dbt_profile_holds_env_references_and_the_values_come_from_connections() -> None:
    mapping = WarehouseProfileMapping()
    rendered = json.dumps(mapping.profile)
    assert "s3cr3t-value" not in rendered
    assert "env_var('BOOSTQA_S3_SECRET_KEY')" in rendered
    env = mapping.env_vars
    assert env["BOOSTQA_S3_SECRET_KEY"] == "s3cr3t-value"
    assert env["BOOSTQA_S3_ENDPOINT"] == "http://127.0.0.1:9"
    assert env["BOOSTQA_LAKE_BUCKET"] == "lake-test"
    assert env["BOOSTQA_WAREHOUSE_PATH"] == "/data/wh.duckdb"
    assert env["BOOSTQA_DUCKDB_EXTENSION_DIR"].endswith("extensions")
