"""Publish a training run's per-step metrics and samples record to the lake for dbt.

They are the trainer's ``metrics.parquet`` and ``samples_seen.parquet``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import cast

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from boostqa.errors import LakeError
from boostqa.lake import layout
from boostqa.lake.parquet import write_table
from boostqa.lake.store import ObjectStore
from boostqa.lake.tables import TRAINING_METRICS_SCHEMA, TRAINING_SAMPLES_SCHEMA

log = logging.getLogger(__name__)
METRICS_FILE = "metrics.parquet"  # training/status.py writes it beside status.json
SAMPLES_FILE = "samples_seen.parquet"  # training/samples.py: per step, the packed sequences it read


def publish_training_metrics(store: ObjectStore, output_dir: Path, run_id: str, config: str,
                             mixture_version: str) -> int:
    """Write the run's metrics as ``training/metrics/run_id=<run>/part-00000.parquet``, and its samples record.

    The metrics replace any earlier publication of the same run, so a retried task never duplicates steps; the samples
    record goes through :func:`publish_training_samples`. Returns the steps published.

    ``output_dir`` is the run's folder as the worker sees it: local on the embedded stack, the shared training
    volume in production.
    """
    path = output_dir / METRICS_FILE
    if not path.exists():
        raise LakeError(f"no {METRICS_FILE} in {output_dir}: the run wrote no metrics (did it start?)")
    raw = pq.read_table(path)
    rows: int = raw.num_rows
    steps = raw.column("step")
    if rows and pc.count_distinct(steps).as_py() != rows:  # a resume rewrites metrics without repeats
        raise LakeError(f"{path} repeats steps: refusing to publish it")
    constant = {"run_id": run_id, "config": config, "mixture_version": mixture_version}
    columns = {name: pa.array([value] * rows, pa.string()) for name, value in constant.items()}
    columns |= {name: raw.column(name).cast(TRAINING_METRICS_SCHEMA.field(name).type)
                for name in ("step", "loss", "lr", "tokens", "seconds", "tokens_per_s")}
    columns["samples"] = pc.list_value_length(raw.column("sample_indexes")).cast(pa.int64())
    table = pa.table(columns, schema=TRAINING_METRICS_SCHEMA).sort_by("step")
    samples = publish_training_samples(store, output_dir, run_id, mixture_version, steps=set(steps.to_pylist()))
    write_table(store, layout.training_metrics_part(run_id), table)
    log.info("published %d training steps of %s to %s (%d sequence reads)", rows, run_id,
             layout.training_metrics_part(run_id), samples)
    return rows


def publish_training_samples(store: ObjectStore, output_dir: Path, run_id: str, mixture_version: str,
                             steps: set[int] | None = None) -> int:
    """Write the run's samples record as ``training/samples/run_id=<run>/part-00000.parquet``.

    It replaces an earlier publication. Returns the sequence reads published, 0 for a run that wrote no record (a
    trainer before it).

    Raises:
        LakeError: the record repeats a read, lacks one of ``steps`` (the metrics'), or names another mixture
            version than ``mixture_version``.
    """
    path = output_dir / SAMPLES_FILE
    if not path.exists():
        log.warning("no %s in %s: %s has no samples record to publish", SAMPLES_FILE, output_dir, run_id)
        return 0
    raw = pq.read_table(path)
    keys = pc.add(pc.multiply(raw.column("step"), 1 << 20), raw.column("batch_position").cast(pa.int64()))
    if raw.num_rows and pc.count_distinct(keys).as_py() != raw.num_rows:
        raise LakeError(f"{path} repeats a (step, batch_position): refusing to publish it")
    missing = (steps or set()) - set(pc.unique(raw.column("step")).to_pylist())
    if missing:
        raise LakeError(f"{path} lacks steps {sorted(missing)[:10]} of {METRICS_FILE}: refusing to publish it")
    versions = set(raw.column("mixture_version").to_pylist()) - {None}
    if versions - {mixture_version}:
        raise LakeError(f"{path} was trained on mixture {sorted(versions)}, the run says {mixture_version!r}")
    columns = {name: raw.column(name).cast(TRAINING_SAMPLES_SCHEMA.field(name).type)
               for name in TRAINING_SAMPLES_SCHEMA.names if name not in ("run_id", "mixture_version")}
    columns["run_id"] = pa.array([run_id] * raw.num_rows, pa.string())
    columns["mixture_version"] = pa.array([mixture_version] * raw.num_rows, pa.string())
    table = pa.table({name: columns[name] for name in TRAINING_SAMPLES_SCHEMA.names}, schema=TRAINING_SAMPLES_SCHEMA)
    table = table.sort_by([("step", "ascending"), ("batch_position", "ascending")])
    write_table(store, layout.training_samples_part(run_id), table)
    return cast(int, raw.num_rows)
