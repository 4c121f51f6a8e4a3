"""The 403 row: a refused S3 identity fails the stage at once, and the right one then ingests every row.

The failure must come without retries and with a message naming the bucket, the key and the connection.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import date

from pydantic import SecretStr

from boostqa.errors import LakeDenied
from boostqa.ingest.committed import read_committed_seeds
from boostqa.ingest.config import get_source
from boostqa.ingest.runner import ingest_source
from boostqa.lake import layout
from boostqa.lake.read import read_prefix
from boostqa.lake.store import ObjectStore
from boostqa.settings import RESOURCES
from boostqa_dev.faults.rows import FaultRow

SOURCE = "open_stem_qa"
DAY = date(2026, 1, 4)
NO_RETRY_S = 10.0  # a refusal is not an outage: no backoff


def denied_row(store: ObjectStore) -> FaultRow:
    """Ingest the bundled source with a refused secret, then with the store's own (``store``: an empty bucket)."""
    source = get_source(RESOURCES / "seed_sources.yaml", SOURCE)
    refused = ObjectStore(store.config.model_copy(update={"secret_key": SecretStr("not-the-secret")}))
    started = time.monotonic()
    fail_fast, message = False, ""
    try:
        ingest_source(source, DAY, refused, decontaminator=None)
    except LakeDenied as exc:  # RunPermanent: operators fail the task at once (@fails_fast)
        fail_fast, message = True, str(exc)
    refusal_s = time.monotonic() - started
    result = ingest_source(source, DAY, store, decontaminator=None)
    seeds = read_committed_seeds(store, ["source_row_id"])
    ids = seeds["source_row_id"].to_pylist() if seeds is not None else []
    rejects = read_prefix(store, layout.quarantine_prefix("ingest", layout.ingest_run_id(DAY), SOURCE), ["reason"])
    reasons = Counter(rejects["reason"].to_pylist() if rejects is not None else [])
    lost = max(result.rows_read - len(ids) - reasons.total(), 0)
    return FaultRow(fault="S3 identity refused (HTTP 403)", injected=int(fail_fast), jobs=result.rows_read,
                    completed=len(set(ids)), quarantined=dict(reasons), lost=lost, duplicated=len(ids) - len(set(ids)),
                    fail_fast=fail_fast,
                    message=message[:300], expect_fail_fast=True, wall_s=round(time.monotonic() - started, 1),
                    checks={f"failed within {NO_RETRY_S:.0f} s (no retries)": refusal_s < NO_RETRY_S,
                            "message names bucket, key and connection": all(
                                s in message for s in (f"s3://{store.config.bucket}/", "boostqa_s3", "403")),
                            "the fixed run ingests every row": len(ids) == result.rows_valid > 0})
