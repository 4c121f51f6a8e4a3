"""Empty, typed parts for every lake table dbt reads, so its globs match before a stage has ever run."""

from __future__ import annotations

import logging

import pyarrow as pa
import pyarrow.parquet as pq

from boostqa.annotate.runner import ANNOTATION_SCHEMA, LLM_QUARANTINE_SCHEMA
from boostqa.eval.score import ITEM_RESULT_SCHEMA, SCORE_SCHEMA
from boostqa.export.general import GENERAL_SCHEMA
from boostqa.export.mixture import LINEAGE_SCHEMA
from boostqa.lake import layout
from boostqa.lake.parquet import parquet_bytes
from boostqa.lake.store import ObjectStore
from boostqa.launch.metrics import TRAINING_METRICS_SCHEMA, TRAINING_SAMPLES_SCHEMA
from boostqa.llm.ledger import LEDGER_SCHEMA
from boostqa.llm.projection import BUDGET_SCHEMA
from boostqa.qc.stage import KEPT_SCHEMA, REMOVAL_SCHEMA
from boostqa.synthesize.stage import QA_SCHEMA, REJECT_SCHEMA
from boostqa.synthesize.stage import STAGE as SYNTHESIZE

log = logging.getLogger(__name__)
BOOTSTRAP_RUN = layout.BOOTSTRAP_RUN

# prefix (up to the run partition) -> schema of the parts under it
TABLES: dict[str, pa.Schema] = {
    f"{layout.ANNOTATIONS}/": ANNOTATION_SCHEMA,
    f"{layout.QUARANTINE}/annotate/": LLM_QUARANTINE_SCHEMA,
    f"{layout.LEDGER}/stage=annotate/": LEDGER_SCHEMA,
    f"{layout.LLM_BUDGETS}/stage=synthesize/": BUDGET_SCHEMA,
    f"{layout.QA}/": QA_SCHEMA,
    f"{layout.QUARANTINE}/{SYNTHESIZE}/": REJECT_SCHEMA,
    layout.qc_table_prefix("kept"): KEPT_SCHEMA,
    layout.qc_table_prefix("removals"): REMOVAL_SCHEMA,
    "raw/general/": GENERAL_SCHEMA,
    "mixtures/lineage/": LINEAGE_SCHEMA,
    f"{layout.TRAINING_METRICS}/": TRAINING_METRICS_SCHEMA,
    f"{layout.TRAINING_SAMPLES}/": TRAINING_SAMPLES_SCHEMA,
}


# Tables partitioned by model and benchmark: the bootstrap part sits at the same depth as real parts.
NESTED_TABLES: dict[str, pa.Schema] = {
    f"{layout.EVAL}/items/model_id={BOOTSTRAP_RUN}/benchmark={BOOTSTRAP_RUN}/": ITEM_RESULT_SCHEMA,
    f"{layout.EVAL}/scores/model_id={BOOTSTRAP_RUN}/benchmark={BOOTSTRAP_RUN}/": SCORE_SCHEMA,
}


def bootstrap_folders() -> dict[str, pa.Schema]:
    """Folder of each table's empty part -> its schema."""
    return {f"{prefix}run_id={BOOTSTRAP_RUN}/": schema for prefix, schema in TABLES.items()} | NESTED_TABLES


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
