"""Source freshness on the real lake and dbt: warehouse_build's check runs ``dbt source freshness`` in-process over
SeaweedFS; a seed partition ingested today and a QC run started now are fresh, and the same results judged eight days
later fail the seeds table (its error_after is 7 days)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from boostqa.freshness import judge
from boostqa.lake import layout
from boostqa.lake.bootstrap import ensure_schema_parts
from boostqa.lake.parquet import parquet_bytes
from boostqa.lake.store import ObjectStore
from boostqa.lake.tables import KEPT_SCHEMA, SEED_SCHEMA
from boostqa.runs import make_run_id
from boostqa.settings import BoostqaSettings
from boostqa_airflow.constants import WAREHOUSE_CONN_ID
from boostqa_dev.stack.airflow_home import connections
from boostqa_dev.stack.seaweedfs import lake_config

pytestmark = pytest.mark.integration


def _seed(day: datetime) -> dict[str, object]:
    return {"seed_id": "f" * 64, "source": "freshness_it", "source_row_id": "r0", "row_number": 0, "question": "q?",
            "options": None, "answer": "a", "subject_hint": "physics", "difficulty_hint": 2, "language": "en",
            "license": "cc-by-4.0", "ingest_date": day.date(), "run_id": f"ingest_{day.date()}",
            "schema_version": "seed.v1"}


def test_a_fresh_lake_passes_and_a_week_later_the_seeds_are_stale(
        stack: BoostqaSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from boostqa_airflow.dbt import source_freshness
    from boostqa_airflow.operators.freshness import SourceFreshnessOperator

    for name, value in connections(stack).items():  # the hooks' connections, with a private warehouse file
        monkeypatch.setenv(name, value)
    monkeypatch.setenv(f"AIRFLOW_CONN_{WAREHOUSE_CONN_ID.upper()}",
                       f'{{"conn_type": "duckdb", "host": "{tmp_path / "wh.duckdb"}"}}')
    store = ObjectStore(lake_config(stack))
    ensure_schema_parts(store)
    now = datetime.now(UTC).replace(microsecond=0)
    qc_run = make_run_id("synthesize", now, "freshness_it")
    keys = [f"{layout.raw_seed_prefix('freshness_it', now.date())}{layout.part_name(0)}",
            f"{layout.qc_table_prefix('kept')}run_id={qc_run}/{layout.part_name(0)}"]
    store.put_bytes(keys[0], parquet_bytes(pa.Table.from_pylist([_seed(now)], schema=SEED_SCHEMA)))
    store.put_bytes(keys[1], parquet_bytes(pa.Table.from_pylist(
        [{"item_id": "it", "run_id": qc_run, "exact_key": "k"}], schema=KEPT_SCHEMA)))
    try:
        sources = source_freshness()  # the real dbt, through dbtRunner, over the real lake
        result = SourceFreshnessOperator(task_id="check_source_freshness").execute(
            {"logical_date": now, "dag_run": None})
    finally:
        store.delete_keys(keys)  # the session's lake is shared: other modules count its seeds

    fresh = judge(sources, now)
    loaded = {s.source: s.max_loaded_at for s in fresh.sources}
    assert loaded["seeds.questions"] == datetime(now.year, now.month, now.day, tzinfo=UTC)  # today's partition
    assert loaded["qc.kept"] == now  # the QC run's start, read from its id
    assert fresh.with_status("error", "runtime error") == []
    assert {"seeds.questions", "qc.kept"} <= set(result["pass"]) and result["error"] == []

    stale = judge(sources, now + timedelta(days=8))
    assert [s.source for s in stale.with_status("error")] == ["seeds.questions"]
    assert "qc.kept" in [s.source for s in stale.with_status("warn")]  # 8 days > its 7-day warn_after
