"""Read parquet parts back from the lake (small, column-pruned reads for row-level stages)."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.parquet as pq

from boostqa.lake.store import ObjectStore


def read_object(store: ObjectStore, key: str, columns: list[str] | None = None,
                schema: pa.Schema | None = None) -> pa.Table:
    """One parquet object of the lake (all columns, or ``columns``; read as ``schema`` when given)."""
    return pq.read_table(io.BytesIO(store.get_bytes(key)), columns=columns, schema=schema)


def read_keys(store: ObjectStore, keys: list[str], columns: list[str]) -> pa.Table | None:
    """Concatenate the given columns of the parquet objects at ``keys``; None when none has a row."""
    tables = [t for t in (read_object(store, key, columns) for key in keys) if t.num_rows]
    return pa.concat_tables(tables, promote_options="default") if tables else None


def read_prefix(store: ObjectStore, prefix: str, columns: list[str]) -> pa.Table | None:
    """Concatenate the given columns of every ``*.parquet`` under ``prefix``; None when there is none."""
    return read_keys(store, [key for key in store.list_keys(prefix) if key.endswith(".parquet")], columns)


def dbt_export(data: bytes, columns: list[str] | None = None) -> pa.Table:
    """A table dbt exported to the lake (``materialized='external'``), read back as the rows the model has.

    dbt-duckdb writes an empty result as one row of nulls (so the file keeps its columns; its own readers filter that
    row out). That row alone is dropped here: a plan with no jobs is empty, not one job of nulls.
    """
    table = pq.read_table(io.BytesIO(data))
    if table.num_rows == 1 and all(column.null_count == 1 for column in table.columns):  # the whole row, every column
        table = table.slice(0, 0)
    return table.select(columns) if columns is not None else table

