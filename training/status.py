"""The run's status file and metrics, written atomically by rank 0: what the operator's trigger polls."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

STATUS_NAME = "status.json"
METRICS_NAME = "metrics.parquet"


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``path`` through a ``.partial`` sibling and a rename: readers see the old or the new file, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    os.replace(partial, path)


def write_status(output_dir: Path, state: str, **fields: Any) -> None:
    """``state`` is starting, running, succeeded or failed; fields add step, loss, checkpoint, error, ..."""
    body = {"state": state, "updated_at": time.time(), "pid": os.getpid(), **fields}
    atomic_write(output_dir / STATUS_NAME, json.dumps(body, indent=2).encode())


def read_status(output_dir: Path) -> dict[str, Any] | None:
    """The status file, or None before the run wrote one."""
    path = output_dir / STATUS_NAME
    return json.loads(path.read_text()) if path.exists() else None


def write_metrics(output_dir: Path, rows: list[dict[str, Any]]) -> None:
    """Every logged step so far (step, loss, lr, tokens/s, the sequences read) as parquet for dbt."""
    write_parquet(output_dir / METRICS_NAME, pa.Table.from_pylist(rows))


def write_parquet(path: Path, table: pa.Table) -> None:
    """A zstd parquet file, written atomically."""
    buffer = pa.BufferOutputStream()
    pq.write_table(table, buffer, compression="zstd")
    atomic_write(path, buffer.getvalue().to_pybytes())


def read_metrics(output_dir: Path) -> list[dict[str, Any]]:
    """Rows of the metrics file (empty before the first write)."""
    path = output_dir / METRICS_NAME
    return pq.read_table(path).to_pylist() if path.exists() else []
