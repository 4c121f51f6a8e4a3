"""The packed mixture as the trainer reads it: sha256-verified, memory-mapped fixed-length token sequences."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MANIFEST_VERSION = 1


class CorruptShardError(RuntimeError):
    """A packed shard's bytes do not match the sha256 its manifest recorded."""


@dataclass(frozen=True)
class PackedShard:
    """One ``.bin`` file: ``sequences`` rows of ``seq_len`` tokens."""

    path: Path
    sequences: int
    sha256: str


def file_sha256(path: Path, chunk: int = 1 << 22) -> str:
    """sha256 of a file, streamed."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


class PackedMixture:
    """Every sequence of a mixture export, addressable by a global index; shards are checked before use."""

    def __init__(self, manifest_path: str | Path, verify: bool = True) -> None:
        self.manifest_path = Path(manifest_path)
        raw = self.manifest_path.read_bytes()
        manifest = json.loads(raw)
        if manifest.get("manifest_version") != MANIFEST_VERSION:
            raise ValueError(f"{self.manifest_path}: manifest_version {manifest.get('manifest_version')!r}, "
                             f"this trainer reads {MANIFEST_VERSION}")
        packed = manifest["packed"]
        self.manifest = manifest
        self.manifest_sha256 = hashlib.sha256(raw).hexdigest()  # names the exact export a run trained on
        self.mixture_version: str | None = manifest.get("mixture_version")
        self.seq_len: int = packed["seq_len"]
        self.dtype = np.dtype(packed["dtype"])
        self.eos_token_id: int = packed["eos_token_id"]
        self.vocab_size: int = packed["vocab_size"]
        root = self.manifest_path.parent
        self.shards = [PackedShard(root / s["path"], s["sequences"], s["sha256"]) for s in packed["shards"]]
        if verify:
            self.verify()
        self._arrays = [np.memmap(s.path, dtype=self.dtype, mode="r").reshape(s.sequences, self.seq_len)
                        for s in self.shards]
        self._starts = np.cumsum([0] + [s.sequences for s in self.shards])
        self._orders: dict[tuple[int, int], np.ndarray] = {}

    def verify(self) -> None:
        """Refuse the mixture if any shard's sha256 differs from the manifest's.

        Raises:
            CorruptShardError: names the shard, the expected and the actual hash.
        """
        for shard in self.shards:
            actual = file_sha256(shard.path)
            if actual != shard.sha256:
                raise CorruptShardError(f"packed shard {shard.path} has sha256 {actual}, the manifest "
                                        f"{self.manifest_path} says {shard.sha256}: re-export the mixture")

    def __len__(self) -> int:
        return int(self._starts[-1])

    def sequence(self, index: int) -> np.ndarray:
        """The ``index``-th sequence (``seq_len`` token ids)."""
        shard = int(np.searchsorted(self._starts, index, side="right")) - 1
        return np.asarray(self._arrays[shard][index - self._starts[shard]], dtype=np.int64)

    def locate(self, indexes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(packed shard, sequence within that shard) of global sequence indexes: the lineage's coordinates."""
        shards = np.searchsorted(self._starts, indexes, side="right") - 1
        return shards, np.asarray(indexes) - self._starts[shards]

    def order(self, seed: int, epoch: int) -> np.ndarray:
        """The sequence order of an epoch: a permutation fixed by (seed, epoch), so a resumed run reads the same."""
        key = (seed, epoch)
        if key not in self._orders:
            self._orders = {key: np.random.default_rng([seed, epoch]).permutation(len(self))}  # keep one epoch
        return self._orders[key]

    def samples_for_step(self, step: int, global_batch: int, seed: int) -> np.ndarray:
        """Sequence indexes of optimizer step ``step`` (0-based), wrapping into later epochs as needed."""
        first = step * global_batch
        out = []
        for position in range(first, first + global_batch):
            epoch, offset = divmod(position, len(self))
            out.append(int(self.order(seed, epoch)[offset]))
        return np.array(out, dtype=np.int64)
