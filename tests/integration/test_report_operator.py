"""The report task reads the published snapshot of the warehouse, so it works while its own process holds dbt's
read-write DuckDB connection (cosmos runs dbt in-process under `airflow dags test`); the report lands locally and
in S3."""

from __future__ import annotations

from pathlib import Path
from unittest.mock import patch

import duckdb
import pytest

from boostqa.lake.store import ObjectStore
from boostqa.settings import BoostqaSettings
from boostqa.warehouse import publish_snapshot
from boostqa_airflow.operators.report import ReportOperator
from boostqa_dev.stack.seaweedfs import lake_config
from tests.conftest import isolated_settings

pytestmark = pytest.mark.integration


def test_the_report_renders_beside_a_held_warehouse_connection(stack: BoostqaSettings, tmp_path: Path) -> None:
    settings = isolated_settings(tmp_path)
    settings.warehouse_path.parent.mkdir(parents=True)
    with duckdb.connect(str(settings.warehouse_path)) as held:  # read-write, like dbt's adapter
        held.execute("create schema marts")
        held.execute("create table marts.fct_training_steps as select 'r1' as run_id, range as step, "
                     "2.0 - 0.1 * range as loss, 2.0 as loss_trailing_mean from range(5)")
        publish_snapshot(settings.warehouse_path)  # the dbt group's last task, while dbt's connection stays open
        with patch("boostqa_airflow.operators.report.get_settings", return_value=settings), \
                patch("boostqa_airflow.operators.report.LakeHook") as hook:
            hook.return_value.get_conn.return_value = ObjectStore(lake_config(stack))
            out = ReportOperator(task_id="report").execute({"run_id": "manual__2026-11-26T00:00:00+00:00"})
    report_id = "manual__2026-11-26T00_00_00_00_00"
    assert out["path"] == str(tmp_path / "reports" / report_id / "index.html")
    html = Path(out["path"]).read_text()
    assert "BoostQA report" in html and "no training run yet" not in html  # it read the published snapshot
    assert ObjectStore(lake_config(stack)).get_bytes(f"reports/{report_id}/index.html").decode() == html
