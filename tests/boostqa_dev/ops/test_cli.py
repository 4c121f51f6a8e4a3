from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from boostqa.benchmarks.loader import load_items
from boostqa.settings import BoostqaSettings
from boostqa.warehouse import publish_snapshot
from boostqa_airflow.constants import POOLS
from boostqa_dev.cli import app

runner = CliRunner()


def test_ops_pools_prints_an_airflow_import_document(tmp_path: Path) -> None:
    out = tmp_path / "pools.json"
    result = runner.invoke(app, ["ops", "pools", "--slots", "boostqa_llm_refiner=12", "--output", str(out)])
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    assert set(doc) == set(POOLS) and doc["boostqa_llm_refiner"]["slots"] == 12
    refused = runner.invoke(app, ["ops", "pools", "--slots", "boostqa_dbt=2"])
    assert refused.exit_code == 1 and "single writer" in refused.output


def test_ops_sql_reads_a_snapshot_while_a_writer_holds_the_warehouse(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    settings = BoostqaSettings(state_dir=tmp_path)
    settings.warehouse_path.parent.mkdir(parents=True)
    monkeypatch.setattr("boostqa.settings.get_settings", lambda: settings)
    writer = duckdb.connect(str(settings.warehouse_path))  # like dbt in the middle of a build
    writer.execute("create schema marts; create table marts.fct_eval_headline as select 'm1' as model_id, 41.5 as x")
    writer.execute("checkpoint")
    publish_snapshot(settings.warehouse_path)  # the build's last task; the writer still holds the warehouse
    writer.execute("insert into marts.fct_eval_headline values ('m2', 7.0)")  # a build under way: not published
    try:
        result = runner.invoke(app, ["ops", "sql", "select model_id, x from marts.fct_eval_headline"])
        assert result.exit_code == 0, result.output
        assert "m1" in result.output and "41.5" in result.output and "m2" not in result.output
        typo = runner.invoke(app, ["ops", "sql", "select nope from marts.fct_eval_headline"])
        assert typo.exit_code == 1 and "nope" in typo.output
    finally:
        writer.close()


def test_ops_writes_and_checks_a_benchmark_mirror(tmp_path: Path) -> None:
    written = runner.invoke(app, ["ops", "mirror-editions", str(tmp_path / "hub"), "--layout", "converted"])
    assert written.exit_code == 0, written.output
    assert (tmp_path / "hub/openai/gsm8k/main/train/0000.parquet").is_file()
    checked = runner.invoke(app, ["ops", "check-mirror", str(tmp_path / "hub")])
    assert checked.exit_code == 0, checked.output
    assert f"{len(load_items(splits='all'))} benchmark items" in checked.output
    assert "openai/gsm8k" in checked.output
    for path in (tmp_path / "hub/cais/mmlu/anatomy").rglob("*.parquet"):
        path.unlink()
    refused = runner.invoke(app, ["ops", "check-mirror", str(tmp_path / "hub")])
    assert refused.exit_code == 1 and "cais/mmlu config 'anatomy'" in refused.output
