"""Reading dbt's exports back: an empty result is the one all-null row dbt-duckdb writes, and reads as no rows."""

from __future__ import annotations

import pyarrow as pa

from boostqa.lake.parquet import parquet_bytes
from boostqa.lake.read import dbt_export
from boostqa.synthesize.plans import plan_jobs
from tests.conftest import MemoryStore

SCHEMA = pa.schema([("job_id", pa.string()), ("job_order", pa.int64())])


def test_the_null_row_of_an_empty_export_is_not_a_row() -> None:
    empty = parquet_bytes(pa.Table.from_pylist([{"job_id": None, "job_order": None}], SCHEMA))
    assert dbt_export(empty).num_rows == 0 and dbt_export(empty).schema == SCHEMA
    one = parquet_bytes(pa.Table.from_pylist([{"job_id": "j1", "job_order": None}], SCHEMA))
    assert dbt_export(one).num_rows == 1  # a real row with a null in it stays
    nulls = parquet_bytes(pa.Table.from_pylist([{"job_id": None, "job_order": None}] * 2, SCHEMA))
    assert dbt_export(nulls).num_rows == 2  # only a lone all-null row is dbt's placeholder


def test_a_plan_dbt_exported_empty_has_no_jobs(memory_store: MemoryStore) -> None:
    memory_store.put_bytes("plans/plan_id=p0/synthesis_jobs.parquet",
                           parquet_bytes(pa.Table.from_pylist([{"job_id": None, "job_order": None}], SCHEMA)))
    assert plan_jobs(memory_store, "p0") == 0  # not one job of nulls: synthesis skips an empty plan
