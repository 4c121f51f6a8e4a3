"""End to end on the real embedded stack: seed_ingest and warehouse_build through Airflow, SeaweedFS, dbt/DuckDB."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from boostqa.lake.store import ObjectStore
from boostqa.schemas import IngestManifest
from boostqa.settings import BoostqaSettings
from boostqa.warehouse import dbt_env, query, run_dbt
from boostqa_dev.demo import run_dag
from boostqa_dev.stack import manager
from boostqa_dev.stack.seaweedfs import lake_config

pytestmark = pytest.mark.integration
DAY = date(2026, 11, 20)
EXPECTED_VALID = {"stem_exam_en": 120, "cn_exam_zh": 100, "open_stem_qa": 100, "community_dump": 2}
EXPECTED_REASONS = {
    "duplicate_content": 1, "duplicate_source_row_id": 1, "invalid_options": 1, "invalid_utf8": 1,
    "invalid_value": 2, "missing_answer": 1, "missing_question": 2, "text_too_long": 1, "unknown_columns": 1,
    "unparseable_row": 1, "wrong_type": 3,
}


def _snapshot(settings: BoostqaSettings) -> dict[str, str]:
    store = ObjectStore(lake_config(settings))
    keys = store.list_keys("raw/") + store.list_keys("quarantine/")
    return {key: hashlib.sha256(store.get_bytes(key)).hexdigest() for key in keys}


def _marts(settings: BoostqaSettings) -> tuple[dict[str, int], dict[str, int]]:
    valid = query(settings.warehouse_path, f"""
        select source_name, sum(seed_rows)::int as n from marts.fct_seed_ingest_counts
        where ingest_date = date '{DAY}' group by 1""")
    reasons = query(settings.warehouse_path, f"""
        select reason, sum(quarantined_rows)::int as n from marts.fct_quarantine_reasons
        where ingest_date = date '{DAY}' group by 1""")
    return {r["source_name"]: r["n"] for r in valid}, {r["reason"]: r["n"] for r in reasons}


@pytest.fixture(scope="module")
def built(stack: BoostqaSettings) -> BoostqaSettings:
    """The stack after one run of both DAGs for DAY."""
    run_dag(stack, "seed_ingest", DAY)
    run_dag(stack, "warehouse_build", DAY)
    return stack


def test_ingest_and_warehouse_through_airflow_are_correct_and_rerun_safe(built: BoostqaSettings) -> None:
    stack = built
    valid, reasons = _marts(stack)
    assert valid == EXPECTED_VALID
    assert reasons == EXPECTED_REASONS
    first = _snapshot(stack)
    # The session's lake is shared with other modules' runs: look at this date's partitions only.
    manifests = [k for k in first if k.endswith("_manifest.json") and f"ingest_date={DAY}/" in k]
    assert len(manifests) == 4

    store = ObjectStore(lake_config(stack))
    for key in manifests:
        manifest = IngestManifest.model_validate_json(store.get_bytes(key))
        for part in manifest.parts + manifest.quarantine_parts:
            assert first[part.key] == part.sha256

    run_dag(stack, "seed_ingest", DAY)
    run_dag(stack, "warehouse_build", DAY)
    assert _snapshot(stack) == first, "a rerun of the same logical date must produce the same objects"
    assert _marts(stack) == (valid, reasons)

    status = query(stack.warehouse_path, "select annotation_status, seeds from marts.fct_annotation_status")
    assert sum(r["seeds"] for r in status) == 322
    lake = ObjectStore(lake_config(stack))
    plan_id = json.loads(lake.get_bytes("plans/latest.json"))["version"]
    assert plan_id.startswith("plan_")  # each warehouse build exports its own plan
    plan = lake.get_bytes(f"plans/plan_id={plan_id}/generation_plan.parquet")
    quotas = pq.read_table(io.BytesIO(plan)).column("quota").to_pylist()
    assert quotas and min(quotas) > 0 and sum(quotas) <= 500

    coverage = query(stack.warehouse_path, """
        select count(distinct discipline_id) as d, count(distinct difficulty_hint) as b,
               count(distinct language) as l from marts.fct_seed_coverage where discipline_id <> 'unmapped'""")[0]
    assert coverage["d"] >= 12 and coverage["b"] == 5 and coverage["l"] == 2


def test_status_reports_every_part_healthy(stack: BoostqaSettings) -> None:
    parts = {p.name: p for p in manager.status(stack)}
    assert parts["s3 (seaweedfs)"].healthy, parts["s3 (seaweedfs)"].detail
    assert parts["airflow home"].healthy


def test_docs_show_lineage_from_the_s3_sources_and_describe_every_column(
    built: BoostqaSettings, tmp_path: Path
) -> None:
    run_dbt(["docs", "generate", "--target-path", str(tmp_path)], dbt_env(lake_config(built), built.warehouse_path))
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    catalog = json.loads((tmp_path / "catalog.json").read_text())
    children = manifest["child_map"]
    assert "model.boostqa.stg_seeds__questions" in children["source.boostqa.seeds.questions"]
    assert "model.boostqa.stg_seeds__quarantined_rows" in children["source.boostqa.seeds.quarantined_rows"]
    assert (tmp_path / "index.html").exists()
    undocumented = []
    for unique_id, node in catalog["nodes"].items():
        documented = manifest["nodes"][unique_id]
        assert documented["description"].strip(), f"{unique_id} has no description"
        described = {name.lower() for name, col in documented["columns"].items() if col["description"].strip()}
        undocumented += [f"{unique_id}.{c}" for c in node["columns"] if c.lower() not in described]
    assert undocumented == []
