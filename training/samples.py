"""What the model saw: the packed sequences every optimizer step consumed, and the mixture a checkpoint belongs to."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from training.data import PackedMixture
from training.status import atomic_write, write_parquet

SAMPLES_NAME = "samples_seen.parquet"  # beside metrics.parquet; boostqa/launch/metrics.py publishes it
MIXTURE_NAME = "mixture.json"  # in every checkpoint folder: the mixture the checkpoint was trained on
SAMPLES_SCHEMA = pa.schema([
    ("run_id", pa.string()),  # null here: the run id is the orchestrator's, added when the record is published
    ("step", pa.int64()),  # optimizer step, 0-based
    ("batch_position", pa.int32()),  # position in the step's global batch (all ranks, all micro-batches)
    ("epoch", pa.int64()),  # pass over the mixture the read belongs to
    ("mixture_version", pa.string()),
    ("manifest_sha256", pa.string()),
    ("sequence_index", pa.int64()),  # global index of the sequence (PackedMixture.sequence)
    ("packed_shard", pa.int32()),  # the lineage's coordinates of that sequence: packed/shard-<n>.bin ...
    ("packed_sequence", pa.int64()),  # ... and the sequence within the shard
    ("seq_len", pa.int32()),  # tokens per packed sequence
])


class MixtureMismatchError(RuntimeError):
    """The output folder's checkpoint was trained on another mixture than the one this run was given."""


def mixture_identity(data: PackedMixture) -> dict[str, Any]:
    """The mixture version and the manifest's sha256 (the exact export) a checkpoint records."""
    return {"mixture_version": data.mixture_version, "manifest_sha256": data.manifest_sha256}


def write_checkpoint_mixture(output: Path, tag: str, identity: dict[str, Any]) -> None:
    """Rank 0, before ``save_checkpoint``: ``latest`` then never names a checkpoint whose mixture is unknown."""
    atomic_write(output / tag / MIXTURE_NAME, json.dumps(identity, indent=2, sort_keys=True).encode())


def check_resume_mixture(output: Path, tag: str, identity: dict[str, Any], manifest: Path,
                         recorded: dict[str, Any] | None = None) -> None:
    """Refuse to resume checkpoint ``tag`` on a mixture other than the one it was trained on.

    ``recorded`` is the checkpoint's client state; without it, the tag folder's ``mixture.json`` is read (before the
    model is built: another mixture may not even fit it). A checkpoint that recorded no mixture is not checked.

    Raises:
        MixtureMismatchError: names both versions and manifest hashes, and the way out.
    """
    if recorded is None:
        path = output / tag / MIXTURE_NAME
        recorded = json.loads(path.read_text()) if path.exists() else {}
    if not recorded.get("manifest_sha256") or recorded["manifest_sha256"] == identity["manifest_sha256"]:
        return
    raise MixtureMismatchError(
        f"cannot resume {output / tag}: it was trained on mixture {recorded.get('mixture_version')!r} (manifest "
        f"sha256 {recorded['manifest_sha256']}), but this run was given mixture {identity['mixture_version']!r} "
        f"(manifest {manifest}, sha256 {identity['manifest_sha256']}). A checkpoint only resumes on its own mixture: "
        f"to train on {identity['mixture_version']!r} start a new run with a new output_dir (a new midtrain run), or "
        f"resume this one with the manifest of mixture {recorded.get('mixture_version')!r}")


class SamplesRecord:
    """``samples_seen.parquet``: one row per packed sequence each optimizer step read, in step order.

    A resumed run keeps the rows of the steps before its checkpoint and appends the steps it trains, so its record
    equals the uninterrupted run's (the data order is fixed by seed and step).
    """

    def __init__(self, data: PackedMixture, global_batch: int, seed: int, run_id: str | None = None) -> None:
        self.data, self.global_batch, self.seed, self.run_id = data, global_batch, seed, run_id
        self._tables: list[pa.Table] = []

    def add(self, step: int, indexes: np.ndarray) -> None:
        """The sequences step ``step`` read (its global batch, in order)."""
        positions = step * self.global_batch + np.arange(len(indexes), dtype=np.int64)
        shards, sequences = self.data.locate(np.asarray(indexes, dtype=np.int64))
        rows = len(indexes)
        identity = mixture_identity(self.data)
        self._tables.append(pa.table({
            "run_id": pa.array([self.run_id] * rows, pa.string()),
            "step": np.full(rows, step, dtype=np.int64),
            "batch_position": np.arange(rows, dtype=np.int32),
            "epoch": positions // len(self.data),
            "mixture_version": pa.array([identity["mixture_version"]] * rows, pa.string()),
            "manifest_sha256": pa.array([identity["manifest_sha256"]] * rows, pa.string()),
            "sequence_index": np.asarray(indexes, dtype=np.int64),
            "packed_shard": shards.astype(np.int32),
            "packed_sequence": sequences.astype(np.int64),
            "seq_len": np.full(rows, self.data.seq_len, dtype=np.int32),
        }, schema=SAMPLES_SCHEMA))

    def resume(self, output: Path, start_step: int) -> int:
        """Keep the recorded steps before ``start_step``.

        A step missing from the file (a record written before this one existed) is rebuilt from the data order. Returns
        the steps rebuilt.
        """
        path = output / SAMPLES_NAME
        kept = pq.read_table(path).cast(SAMPLES_SCHEMA) if path.exists() else SAMPLES_SCHEMA.empty_table()
        kept = kept.filter(pc.less(kept.column("step"), start_step))
        self._tables = [kept]
        recorded = set(pc.unique(kept.column("step")).to_pylist())
        missing = [step for step in range(start_step) if step not in recorded]
        for step in missing:
            self.add(step, self.data.samples_for_step(step, self.global_batch, self.seed))
        return len(missing)

    def table(self) -> pa.Table:
        """Every row so far, ordered by step and batch position."""
        table = pa.concat_tables(self._tables) if self._tables else SAMPLES_SCHEMA.empty_table()
        return table.sort_by([("step", "ascending"), ("batch_position", "ascending")])

    def write(self, output: Path) -> None:
        """Replace ``samples_seen.parquet`` atomically (rank 0)."""
        table = self.table()
        write_parquet(output / SAMPLES_NAME, table)
        self._tables = [table]


def read_samples(output: Path) -> pa.Table:
    """The record of a run folder (empty before its first checkpoint)."""
    path = output / SAMPLES_NAME
    return pq.read_table(path) if path.exists() else SAMPLES_SCHEMA.empty_table()
