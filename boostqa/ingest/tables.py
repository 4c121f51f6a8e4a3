"""Arrow schemas of the parquet files ingest writes; dbt's sources over the raw zone read exactly these columns."""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from boostqa.schemas import QuarantineRecord, SeedRecord

SEED_SCHEMA = pa.schema(
    [
        ("seed_id", pa.string()),
        ("source", pa.string()),
        ("source_row_id", pa.string()),
        ("row_number", pa.int64()),
        ("question", pa.string()),
        ("options", pa.list_(pa.string())),
        ("answer", pa.string()),
        ("subject_hint", pa.string()),
        ("difficulty_hint", pa.int8()),
        ("language", pa.string()),
        ("license", pa.string()),
        ("ingest_date", pa.date32()),
        ("run_id", pa.string()),
        ("schema_version", pa.string()),
    ]
)

QUARANTINE_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("stage", pa.string()),
        ("source", pa.string()),
        ("ingest_date", pa.date32()),
        ("row_number", pa.int64()),
        ("source_row_id", pa.string()),
        ("reason", pa.string()),
        ("detail", pa.string()),
        ("raw_record", pa.string()),
        ("schema_version", pa.string()),
    ]
)


def seeds_table(seeds: Sequence[SeedRecord]) -> pa.Table:
    """Seeds as an arrow table in row order."""
    return pa.Table.from_pylist([s.model_dump() for s in seeds], schema=SEED_SCHEMA)


def quarantine_table(rows: Sequence[QuarantineRecord]) -> pa.Table:
    """Quarantine records as an arrow table in row order."""
    return pa.Table.from_pylist([r.model_dump() for r in rows], schema=QUARANTINE_SCHEMA)
