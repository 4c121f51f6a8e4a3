"""QC of one synthesis run end to end: skip when done, run the pipeline, write the marker last; index rebuilds."""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence

import pyarrow.parquet as pq
from pydantic import BaseModel

from boostqa.benchmarks.loader import BenchmarkItem
from boostqa.lake import layout
from boostqa.lake.commits import qc_run_of
from boostqa.lake.store import ObjectStore
from boostqa.qc.pipeline import LocalTasks, Tasks, deduplicate_run
from boostqa.qc.records import QcConfig
from boostqa.qc.stage import QualityControl, for_run, item_keys

log = logging.getLogger(__name__)


class QcResult(BaseModel):
    """Small, XCom-friendly summary of one run's QC."""

    run_id: str
    skipped: bool
    items: int
    kept: int
    removed: int
    reasons: dict[str, int]


def run_parts(store: ObjectStore, run_id: str) -> list[tuple[str, int]]:
    """The run's item parts with their row counts, from the parquet footers (a ranged read each on S3, no data)."""
    keys = item_keys(store, run_id)
    if not isinstance(store, ObjectStore):  # unit tests' in-memory store: the bytes are at hand
        footers = [pq.ParquetFile(io.BytesIO(store.get_bytes(k))).metadata for k in keys]  # type: ignore[unreachable]
        return [(k, f.num_rows) for k, f in zip(keys, footers, strict=True)]
    from boostqa.lake.arrow_fs import arrow_filesystem, arrow_paths

    fs = arrow_filesystem(store.config)
    counts = []
    for path in arrow_paths(store.config, keys):
        with fs.open_input_file(path) as handle:
            counts.append(pq.ParquetFile(handle).metadata.num_rows)
    return list(zip(keys, counts, strict=True))


def run_qc(store: ObjectStore, run_id: str, config: QcConfig | None = None,
           benchmark_items: Sequence[BenchmarkItem] | None = None, force: bool = False, tasks: Tasks | None = None,
           parts: Sequence[tuple[str, int]] | None = None) -> QcResult:
    """QC one synthesis run unless its marker exists (``force`` redoes it); the marker is written last.

    ``tasks`` runs the phases (default: in this process); ``parts`` are the run's parts when the caller listed them.
    """
    if store.get_bytes_or_none(layout.qc_marker(run_id)) is not None and not force:
        log.info("qc %s is complete: skipped", run_id)
        return QcResult(run_id=run_id, skipped=True, items=0, kept=0, removed=0, reasons={})
    runner: Tasks = tasks or LocalTasks()
    return _run_one(store, run_id, for_run(run_id, config or QcConfig(), benchmark_items, store.config), runner, parts)


def _run_one(store: ObjectStore, run_id: str, quality: QualityControl, tasks: Tasks,
             parts: Sequence[tuple[str, int]] | None = None) -> QcResult:
    marker = layout.qc_marker(run_id)
    store.delete_keys([marker])
    if parts is None:
        parts = [(k, 0) for k in item_keys(store, run_id)]
    counts = deduplicate_run(store, run_id, quality, parts, tasks)
    store.put_bytes(marker, b"")
    items, kept, reasons = counts["items"], counts["kept"], counts["reasons"]
    log.info("qc %s: %d items -> %d kept, %d removed %s", run_id, items, kept, items - kept, reasons)
    return QcResult(run_id=run_id, skipped=False, items=items, kept=kept, removed=items - kept, reasons=reasons)


def rebuild_index(store: ObjectStore, config: QcConfig | None = None,
                  benchmark_items: Sequence[BenchmarkItem] | None = None, tasks: Tasks | None = None
                  ) -> list[QcResult]:
    """Redo QC of every QC'd run in run order on an emptied index.

    For use after changing shingle or LSH settings or an index format change: each run is deduplicated against the
    runs before it, as when they first ran.
    """
    touched: set[str] = set()
    for table in ("done", "kept", "index"):  # a run QC touched, finished or not
        prefix = layout.qc_table_prefix(table)
        touched |= {qc_run_of(k, prefix) for k in store.list_keys(prefix)}
    runs = sorted(touched - {layout.BOOTSTRAP_RUN})
    store.delete_keys([k for table in ("index", "index_keys") for k in store.list_keys(layout.qc_table_prefix(table))])
    log.info("rebuilding the dedup index from %d runs: %s", len(runs), runs)
    runner: Tasks = tasks or LocalTasks()
    return [_run_one(store, run, for_run(run, config or QcConfig(), benchmark_items, store.config), runner)
            for run in runs]
