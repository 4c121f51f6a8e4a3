"""Empty, typed parts for every lake table dbt reads, so its globs match before a stage has ever run."""

from __future__ import annotations

import logging

import pyarrow as pa
import pyarrow.parquet as pq

from boostqa.lake import layout
from boostqa.lake.parquet import parquet_bytes
from boostqa.lake.store import ObjectStore
from boostqa.lake.tables import LAKE_TABLES

log = logging.getLogger(__name__)
BOOTSTRAP_RUN = layout.BOOTSTRAP_RUN
_RUN_FOLDER = f"run_id={BOOTSTRAP_RUN}/"

# prefix (up to the run partition) -> schema of the parts under it, for the tables partitioned by run
TABLES: dict[str, pa.Schema] = {t.bootstrap_folder.removesuffix(_RUN_FOLDER): t.schema for t in LAKE_TABLES
                                if t.bootstrap_folder and t.bootstrap_folder.endswith(_RUN_FOLDER)}


def bootstrap_folders() -> dict[str, pa.Schema]:
    """Folder of each table's empty part -> its schema (from the lake contract, ``boostqa/lake/tables.py``)."""
    return {t.bootstrap_folder: t.schema for t in LAKE_TABLES if t.bootstrap_folder}


def _schema_of(data: bytes) -> pa.Schema:
    return pq.read_schema(pa.BufferReader(data))


def ensure_schema_parts(store: ObjectStore) -> list[str]:
    """Write ``<prefix>run_id=_bootstrap/part-00000.parquet`` (zero rows) where missing or outdated.

    The part always carries the current schema, so ``union_by_name`` sees a column added since older parts were
    written (those read as null). Returns the keys written.
    """
    written = []
    for folder, schema in bootstrap_folders().items():
        key = folder + layout.part_name(0)
        existing = store.get_bytes_or_none(key)
        if existing is None or not _schema_of(existing).equals(schema):
            store.put_bytes(key, parquet_bytes(schema.empty_table()))
            written.append(key)
    if written:
        log.info("bootstrapped %d empty lake tables: %s", len(written), written)
    return written
