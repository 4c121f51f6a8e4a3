"""QC's row-level steps as a Ray Data job: workers read the run's parts and screen them in parallel batches.

Filters, decontamination and the near-dedup shingle sets are per item, so batches are independent: each worker
holds one ``QualityControl`` (its benchmark n-gram index and MinHash parameters, put in Ray's object store once by
the driver and shared by every worker), and the driver merges the batches in the order a single process would have
produced them (``Screened.merge``). The deduplication that follows runs in the driver against the lake's index.
"""

from __future__ import annotations

import logging
from typing import Any, cast

import numpy as np
import pyarrow as pa

from boostqa.lake import layout
from boostqa.lake.arrow_fs import arrow_filesystem, arrow_paths, parquet_rows
from boostqa.lake.store import ObjectStore
from boostqa.qc.records import QcItem, Removal
from boostqa.qc.stage import QualityControl, Screened

log = logging.getLogger(__name__)
BATCH_ROWS = 2048  # items per screening batch: large enough to amortize a task, small enough to spread a run
_OUT = pa.schema([("kind", pa.string()), ("item_id", pa.string()), ("record", pa.string()),
                  ("shingles", pa.list_(pa.uint64())), ("node", pa.string())])


class ScreenBatches:
    """Ray Data's callable class: one per worker, built once with the driver's ``QualityControl``."""

    def __init__(self, quality: QualityControl | Any) -> None:
        import ray

        # The driver passes an object-store reference: every worker reads the one copy instead of a pickle each.
        self.quality: QualityControl = ray.get(quality) if isinstance(quality, ray.ObjectRef) else quality
        self.node = ray.get_runtime_context().get_node_id()

    def __call__(self, batch: pa.Table) -> pa.Table:
        """Screen one batch; one output row per survivor (with its shingle set) and per removal."""
        items = sorted((QcItem.model_validate(row) for row in batch.to_pylist()), key=lambda i: i.item_id)
        screened = self.quality.screen("batch", items)
        shingles = self.quality.shingles_of(screened.survivors)
        rows: list[dict[str, Any]] = [
            {"kind": "survivor", "item_id": i.item_id, "record": i.model_dump_json(), "shingles": s.tolist(),
             "node": self.node} for i, s in zip(screened.survivors, shingles, strict=True)]
        rows += [{"kind": r.step, "item_id": r.item_id, "record": r.model_dump_json(), "shingles": [],
                  "node": self.node} for r in [*screened.filtered, *screened.contaminated]]
        return pa.Table.from_pylist(rows, schema=_OUT)


def _part(batch: pa.Table) -> tuple[Screened, dict[str, np.ndarray]]:
    rows = batch.to_pylist()
    survivors = [QcItem.model_validate_json(r["record"]) for r in rows if r["kind"] == "survivor"]
    shingles = {r["item_id"]: np.asarray(r["shingles"], dtype=np.uint64) for r in rows if r["kind"] == "survivor"}
    removals = [Removal.model_validate_json(r["record"]) for r in rows if r["kind"] != "survivor"]
    return Screened(survivors=survivors, filtered=[r for r in removals if r.step == "filter"],
                    contaminated=[r for r in removals if r.step == "decontaminate"]), shingles


def run_items(store: ObjectStore, run_id: str) -> int:
    """How many items a run has, from its parts' parquet footers (a ranged read each, no data)."""
    return parquet_rows(store.config, [k for k in store.list_keys(layout.qa_prefix(run_id)) if k.endswith(".parquet")])


def screen_on_ray(store: ObjectStore, run_id: str, quality: QualityControl) -> tuple[Screened, dict[str, np.ndarray],
                                                                                        int]:
    """(screened run, survivors' shingle sets, item count) of one run, screened by the connected Ray cluster."""
    import ray

    keys = [k for k in store.list_keys(layout.qa_prefix(run_id)) if k.endswith(".parquet")]
    if not keys:
        return Screened([], [], []), {}, 0
    ray.init(ignore_reinit_error=True, log_to_driver=False)
    cpus = ray.cluster_resources().get("CPU", 1)  # type: ignore[no-untyped-call]  # ray ships no annotations here
    # Up to one screening actor per CPU of the cluster (every node's), no more than there are parts to read; Ray
    # Data starts one and adds more while blocks wait (a fixed pool could hold every CPU and starve the reads).
    workers = max(1, min(int(cpus), len(keys)))
    dataset = ray.data.read_parquet(arrow_paths(store.config, keys), filesystem=arrow_filesystem(store.config),
                                    columns=list(QcItem.model_fields))
    screened = dataset.map_batches(ScreenBatches, fn_constructor_args=(ray.put(quality),), batch_format="pyarrow",
                                   batch_size=BATCH_ROWS, concurrency=(1, workers), num_cpus=1)
    parts: list[Screened] = []
    shingles: dict[str, np.ndarray] = {}
    nodes: set[str] = set()
    for batch in screened.iter_batches(batch_format="pyarrow", batch_size=None):
        table = cast(pa.Table, batch)  # batch_format="pyarrow"
        part, part_shingles = _part(table)
        parts.append(part)
        shingles.update(part_shingles)
        nodes |= set(table.column("node").to_pylist())
    merged = Screened.merge(parts)
    items = len(merged.survivors) + len({r.item_id for r in [*merged.filtered, *merged.contaminated]})
    log.info("qc %s: %d items screened on Ray (%d parts, up to %d workers, on %d node(s)): %d survive", run_id, items,
             len(keys), workers, len(nodes), len(merged.survivors))
    return merged, shingles, items
