"""Publish a training run's per-step metrics (the trainer's ``metrics.parquet``) to the lake for dbt."""

from __future__ import annotations

import logging
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from boostqa.errors import LakeError
from boostqa.lake import layout
from boostqa.lake.parquet import parquet_bytes
from boostqa.lake.store import ObjectStore

log = logging.getLogger(__name__)
METRICS_FILE = "metrics.parquet"  # training/status.py writes it beside status.json
TRAINING_METRICS_SCHEMA = pa.schema([
    ("run_id", pa.string()), ("config", pa.string()), ("mixture_version", pa.string()), ("step", pa.int64()),
    ("loss", pa.float64()), ("lr", pa.float64()), ("tokens", pa.int64()), ("seconds", pa.float64()),
    ("tokens_per_s", pa.float64()), ("samples", pa.int64()),
])


def publish_training_metrics(store: ObjectStore, output_dir: Path, run_id: str, config: str,
                             mixture_version: str) -> int:
    """Write the run's metrics as ``training/metrics/run_id=<run>/part-00000.parquet`` (replacing any earlier
    publication of the same run, so a retried task never duplicates steps); returns the steps published.

    ``output_dir`` is the run's folder as the worker sees it: local on the embedded stack, the shared training
    volume in production.
    """
    path = output_dir / METRICS_FILE
    if not path.exists():
        raise LakeError(f"no {METRICS_FILE} in {output_dir}: the run wrote no metrics (did it start?)")
    raw = pq.read_table(path)
    rows = raw.num_rows
    steps = raw.column("step")
    if rows and pc.count_distinct(steps).as_py() != rows:  # a resume rewrites metrics without repeats
        raise LakeError(f"{path} repeats steps: refusing to publish it")
    constant = {"run_id": run_id, "config": config, "mixture_version": mixture_version}
    columns = {name: pa.array([value] * rows, pa.string()) for name, value in constant.items()}
    columns |= {name: raw.column(name).cast(TRAINING_METRICS_SCHEMA.field(name).type)
                for name in ("step", "loss", "lr", "tokens", "seconds", "tokens_per_s")}
    columns["samples"] = pc.list_value_length(raw.column("sample_indexes")).cast(pa.int64())
    table = pa.table(columns, schema=TRAINING_METRICS_SCHEMA).sort_by("step")
    store.put_bytes(layout.training_metrics_part(run_id), parquet_bytes(table))
    log.info("published %d training steps of %s to %s", rows, run_id, layout.training_metrics_part(run_id))
    return rows
