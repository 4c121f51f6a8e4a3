"""Arrow schemas of the parquet files ingest writes; dbt's sources over the raw zone read exactly these columns."""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

from boostqa.lake.tables import QUARANTINE_SCHEMA, SEED_SCHEMA
from boostqa.schemas import QuarantineRecord, SeedRecord


def seeds_table(seeds: Sequence[SeedRecord]) -> pa.Table:
    """Seeds as an arrow table in row order."""
    return pa.Table.from_pylist([s.model_dump() for s in seeds], schema=SEED_SCHEMA)


def quarantine_table(rows: Sequence[QuarantineRecord]) -> pa.Table:
    """Quarantine records as an arrow table in row order."""
    return pa.Table.from_pylist([r.model_dump() for r in rows], schema=QUARANTINE_SCHEMA)
