"""Empty, typed parts for every lake table dbt reads, so its globs match before a stage has ever run."""

from __future__ import annotations

import logging

import pyarrow as pa

from boostqa.annotate.runner import ANNOTATION_SCHEMA, LLM_QUARANTINE_SCHEMA
from boostqa.lake import layout
from boostqa.lake.parquet import parquet_bytes
from boostqa.lake.store import ObjectStore
from boostqa.llm.ledger import LEDGER_SCHEMA

log = logging.getLogger(__name__)
BOOTSTRAP_RUN = "_bootstrap"

# prefix (up to the run partition) -> schema of the parts under it
TABLES: dict[str, pa.Schema] = {
    f"{layout.ANNOTATIONS}/": ANNOTATION_SCHEMA,
    f"{layout.QUARANTINE}/annotate/": LLM_QUARANTINE_SCHEMA,
    f"{layout.LEDGER}/stage=annotate/": LEDGER_SCHEMA,
}


def ensure_schema_parts(store: ObjectStore) -> list[str]:
    """Write ``<prefix>run_id=_bootstrap/part-00000.parquet`` (zero rows) where missing; return the keys written."""
    written = []
    for prefix, schema in TABLES.items():
        key = f"{prefix}run_id={BOOTSTRAP_RUN}/{layout.part_name(0)}"
        if store.get_bytes_or_none(key) is None:
            store.put_bytes(key, parquet_bytes(schema.empty_table()))
            written.append(key)
    if written:
        log.info("bootstrapped %d empty lake tables: %s", len(written), written)
    return written
