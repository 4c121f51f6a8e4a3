"""QC on the real lake and the QC marts in dbt: the planted fixture's funnel adds up and every removal is audited."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pyarrow as pa
import pytest

from boostqa.benchmarks.loader import load_items
from boostqa.lake import layout
from boostqa.lake.bootstrap import ensure_schema_parts
from boostqa.lake.commits import commit_shard
from boostqa.lake.parquet import parquet_bytes
from boostqa.lake.store import ObjectStore
from boostqa.lake.tables import QA_SCHEMA
from boostqa.qc.run import run_qc
from boostqa.settings import BoostqaSettings
from boostqa.warehouse import dbt_env, query, run_dbt, warehouse_snapshot
from boostqa_dev.stack.seaweedfs import lake_config
from tests.boostqa.qc.planted import RUN_ID, planted_items
from tests.conftest import reset_lake_prefixes

pytestmark = pytest.mark.integration
SELECT = ["taxonomy_disciplines", "path:models/staging/qa", "path:models/staging/qc", "int_qa_items_screened",
          "path:models/marts/qc"]


def test_qc_marts_account_for_every_planted_item(stack: BoostqaSettings, tmp_path: Path) -> None:
    store = ObjectStore(lake_config(stack))
    reset_lake_prefixes(store, ["qa/", "qc/"])
    planted = planted_items(load_items(splits="all"))
    rows = [{n: p.row.get(n) for n in QA_SCHEMA.names} for p in planted]
    store.put_bytes(layout.qa_prefix(RUN_ID) + layout.part_name(0),
                    parquet_bytes(pa.Table.from_pylist(rows, schema=QA_SCHEMA)))
    commit_shard(store, layout.qa_prefix(RUN_ID), 0)
    ensure_schema_parts(store)
    result = run_qc(store, RUN_ID, force=True)

    warehouse = tmp_path / "wh.duckdb"
    run_dbt(["build", "--select", *SELECT, "--indirect-selection", "cautious", "--target-path",
             str(tmp_path / "target")], dbt_env(lake_config(stack), warehouse))  # singular tests run too

    (funnel,) = query(warehouse, "select sum(synthesized) as synthesized, sum(kept) as kept, "
                      "sum(removed_by_filters) as filters, sum(removed_contaminated) as contaminated, "
                      "sum(removed_exact_duplicates) as exact, sum(removed_near_duplicates) as near "
                      f"from marts.fct_qc_funnel where synthesis_run_id = '{RUN_ID}'")
    expected = Counter(p.expected_reason for p in planted)
    assert result.kept == expected[None]
    assert funnel == {"synthesized": len(planted), "kept": expected[None],
                      "filters": len(planted) - sum(expected[r] for r in (None, "benchmark_contaminated",
                                                                           "exact_duplicate", "near_duplicate")),
                      "contaminated": expected["benchmark_contaminated"], "exact": expected["exact_duplicate"],
                      "near": expected["near_duplicate"]}
    pairs = query(warehouse, "select item_id, duplicate_of, duplicate_of_question is not null as audited "
                  f"from marts.fct_qc_duplicate_pairs where synthesis_run_id = '{RUN_ID}'")
    assert {(r["item_id"], r["duplicate_of"]) for r in pairs} == {
        (p.row["item_id"], p.duplicate_of) for p in planted if p.duplicate_of}
    assert all(r["audited"] for r in pairs)
    contaminated = query(warehouse, "select item_id, benchmark_item_id from marts.fct_qc_contamination_pairs "
                         f"where synthesis_run_id = '{RUN_ID}'")
    assert {(r["item_id"], r["benchmark_item_id"]) for r in contaminated} == {
        (p.row["item_id"], p.benchmark_item_id) for p in planted if p.benchmark_item_id}
    (passed,) = query(warehouse, f"select count(*) as n from marts.fct_qc_passed_items where synthesis_run_id = "
                      f"'{RUN_ID}'")
    assert passed["n"] == result.kept

    # An operator's query (`boostqa ops sql`) reads every schema from a snapshot copy: the staging and intermediate
    # views read the lake through httpfs, which the query connection loads like dbt's profile does.
    with warehouse_snapshot(warehouse) as snapshot:
        counts = {schema: query(snapshot, f"select count(*) as n from {relation}", lake_config(stack))[0]["n"]
                  for schema, relation in (("staging", "staging.stg_qa__items"),
                                           ("intermediate", "intermediate.int_qa_items_screened"),
                                           ("marts", "marts.fct_qc_passed_items"))}
    assert counts["staging"] == counts["intermediate"] == len(planted) and counts["marts"] == result.kept
    with pytest.raises(Exception, match="httpfs|s3://"):  # without the lake a view over it cannot be read
        query(warehouse, "select count(*) from staging.stg_qa__items")
