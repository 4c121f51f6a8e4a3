"""The HTML report: renders with whatever marts exist, draws the figures it has data for, lands locally and in S3."""

from __future__ import annotations

from pathlib import Path

import duckdb

from boostqa.report.html import write_report
from tests.conftest import MemoryStore, isolated_settings


def test_an_empty_warehouse_gives_a_report_that_says_what_is_missing(tmp_path: Path,
                                                                     memory_store: MemoryStore) -> None:
    settings = isolated_settings(tmp_path)
    settings.warehouse_path.parent.mkdir(parents=True)
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.fct_training_steps as select 'r1' as run_id, range as step, "
                    "3.0 - 0.1 * range as loss, 3.0 as loss_trailing_mean from range(10)")
    path, uri = write_report(settings, memory_store, "r1")
    html = path.read_text()
    assert path == tmp_path / "reports" / "r1" / "index.html" and uri == "s3://test-bucket/reports/r1/index.html"
    assert memory_store.objects["reports/r1/index.html"].decode() == html
    assert "no evaluation yet: run the benchmark_eval DAG" in html and "no QC run yet" in html
    loss_section = html.split('id="training"')[1]
    assert "<svg" in loss_section and "no training run yet" not in loss_section
