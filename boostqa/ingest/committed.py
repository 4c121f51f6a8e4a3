"""The raw seed zone as its readers must see it: only the parts a partition's manifest names, each as it was written.

An ingest writes a partition's parts, then its ``_manifest.json`` last (and deletes the old manifest first), so a
partition without a manifest is an ingest that stopped half way, and a part no manifest names is not part of any
committed partition. Readers (annotate's work list) take the named parts only, and check each against the sha256
its manifest recorded.
"""

from __future__ import annotations

import hashlib
import io
import logging

import pyarrow as pa
import pyarrow.parquet as pq

from boostqa.errors import LakeError
from boostqa.lake import layout
from boostqa.lake.store import ObjectStore
from boostqa.schemas import IngestManifest, PartInfo

log = logging.getLogger(__name__)


def committed_seed_parts(store: ObjectStore) -> list[PartInfo]:
    """Every part the seed partitions' manifests name; parts no manifest names are logged and left out."""
    keys = store.list_keys(f"{layout.RAW_SEEDS}/")
    named: list[PartInfo] = []
    for key in (k for k in keys if k.endswith(layout.MANIFEST_NAME)):
        named.extend(IngestManifest.model_validate_json(store.get_bytes(key)).parts)
    stray = sorted({k for k in keys if k.endswith(".parquet")} - {p.key for p in named})
    if stray:
        log.warning("%d seed parts are in no partition's manifest (an ingest stopped before committing, or its rerun "
                    "is under way): not read, e.g. %s", len(stray), stray[:3])
    return named


def read_committed_seeds(store: ObjectStore, columns: list[str]) -> pa.Table | None:
    """The given columns of every committed seed part; None when there is none.

    Raises:
        LakeError: a part differs from the sha256 its manifest recorded (it was replaced outside an ingest).
    """
    tables = []
    for part in committed_seed_parts(store):
        data = store.get_bytes(part.key)
        if hashlib.sha256(data).hexdigest() != part.sha256:
            raise LakeError(f"{store.config.uri(part.key)} differs from the sha256 its partition's manifest recorded: "
                            "rerun that source's ingest for the date (seed_ingest) to rewrite the partition")
        table = pq.read_table(io.BytesIO(data), columns=columns)
        if table.num_rows:
            tables.append(table)
    return pa.concat_tables(tables, promote_options="default") if tables else None
