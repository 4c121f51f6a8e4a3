"""P9's export phase: the QC-kept items of the bench's run as a mixture selection, exported by the Ray Data job."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from boostqa.export.config import ExportRunConfig
from boostqa.export.mixture import SELECTION_NAME
from boostqa.jobs.spec import JobSpec, LakeLocation
from boostqa.lake import layout
from boostqa.lake.read import read_prefix
from boostqa.lake.store import ObjectStore
from boostqa.qc.run import run_parts

SELECTION_SCHEMA = pa.schema([
    ("sample_order", pa.int64()), ("sample_id", pa.string()), ("source", pa.string()), ("item_id", pa.string()),
    ("synthesis_run_id", pa.string()), ("strategy", pa.string()), ("discipline_id", pa.string()),
    ("difficulty", pa.int64()), ("language", pa.string()), ("question", pa.string()),
    ("options", pa.list_(pa.string())), ("refined_answer", pa.string()), ("refined_option", pa.string()),
    ("text", pa.string())])
QA_COLUMNS = ["item_id", "run_id", "strategy", "discipline_id", "verified_difficulty", "language", "question",
              "options", "refined_answer", "refined_option"]


def _selection_part(items: pa.Table, first_order: int) -> pa.Table:
    """Selection rows of one QA part's kept items, numbered from ``first_order`` (the part's order in the run)."""
    n = items.num_rows
    return pa.table({
        "sample_order": pa.array(range(first_order, first_order + n), pa.int64()),
        "sample_id": pc.binary_join_element_wise("boostqa", items["item_id"], ":"),
        "source": pa.array(["boostqa"] * n, pa.string()), "item_id": items["item_id"],
        "synthesis_run_id": items["run_id"], "strategy": items["strategy"], "discipline_id": items["discipline_id"],
        "difficulty": items["verified_difficulty"].cast(pa.int64()), "language": items["language"],
        "question": items["question"], "options": items["options"], "refined_answer": items["refined_answer"],
        "refined_option": items["refined_option"], "text": pa.nulls(n, pa.string())}, schema=SELECTION_SCHEMA)


def put_selection(store: ObjectStore, run_id: str, mixture_version: str) -> int:
    """Write ``mixtures/<version>/selection.parquet`` as dbt exports it: the run's QC-kept items in ``sample_order``
    (here the items' order in the run; the export's cost does not depend on the order), one row group per QA part
    (a shard task reads only the groups its range overlaps), streamed through a local file; returns the samples. No
    general documents: the phase measures the export of the run's BoostQA items."""
    # Kept = not removed. The removals are the small side (8 % of items in P9): one set of them, looked up per row,
    # instead of a hash table of every kept id rebuilt for each part (pc.is_in), which is quadratic in parts.
    removals = read_prefix(store, f"{layout.qc_table_prefix('removals')}run_id={run_id}/", ["item_id"])
    removed = set(removals.column("item_id").to_pylist()) if removals is not None else set()
    samples = 0
    with tempfile.TemporaryDirectory(prefix="qc-scale-selection-") as scratch:
        path = Path(scratch) / SELECTION_NAME
        with pq.ParquetWriter(path, SELECTION_SCHEMA) as writer:
            for key, _ in sorted(run_parts(store, run_id)):
                items = pq.read_table(pa.BufferReader(store.get_bytes(key)), columns=QA_COLUMNS)
                items = items.filter(pa.array([i not in removed for i in items.column("item_id").to_pylist()]))
                writer.write_table(_selection_part(items, samples + 1))  # a row group per part: tasks skip
                samples += items.num_rows
        key = layout.mixture_prefix(mixture_version) + SELECTION_NAME
        store.client.upload_file(str(path), store.config.bucket, key)  # multipart: the file may be gigabytes
    return samples


def export_spec(store: ObjectStore, mixture_version: str, tokenizer_dir: Path) -> JobSpec:
    """The export job of a version as ExportMixtureOperator builds it: default sizes, Ray Data at every size."""
    params = ExportRunConfig(tokenizer_dir=str(tokenizer_dir), distributed_min_samples=0)
    return JobSpec(stage="export", run_id=mixture_version, lake=LakeLocation.of(store.config),
                   params=params.model_dump(mode="json"))
