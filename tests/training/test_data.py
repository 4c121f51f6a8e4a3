"""The packed mixture reader: sha256 checked first, deterministic order, steps never repeat a sequence."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from boostqa.export.packing import Packer
from training.data import CorruptShardError, PackedMixture


def _mixture(tmp_path: Path, documents: int = 50, seq_len: int = 16, version: str | None = None) -> Path:
    packer = Packer(tmp_path, seq_len=seq_len, eos_token_id=0, vocab_size=1000, sequences_per_shard=8)
    starts = [packer.add(list(range(1 + i % 7, 12 + i % 7))) for i in range(documents)]
    shards = packer.close()
    manifest = {"manifest_version": 1, "packed": {"seq_len": seq_len, "dtype": str(packer.dtype), "eos_token_id": 0,
                                                  "vocab_size": 1000, "shards": [s.__dict__ for s in shards]},
                "starts": starts} | ({"mixture_version": version} if version else {})
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest))
    return path


def test_packing_round_trips_documents_eos_separated(tmp_path: Path) -> None:
    mixture = PackedMixture(_mixture(tmp_path))
    stream = np.concatenate([mixture.sequence(i) for i in range(len(mixture))])
    first_doc = list(range(1, 12))
    assert list(stream[:12]) == [*first_doc, 0]
    starts = json.loads((tmp_path / "manifest.json").read_text())["starts"]
    shard, sequence, offset = starts[3]
    position = (shard * 8 + sequence) * 16 + offset
    assert list(stream[position : position + 11]) == list(range(4, 15))  # document 3 starts where recorded


def test_a_corrupted_shard_is_refused_by_hash(tmp_path: Path) -> None:
    manifest = _mixture(tmp_path)
    shard = tmp_path / "packed" / "shard-00001.bin"
    data = bytearray(shard.read_bytes())
    data[5] ^= 0xFF
    shard.write_bytes(bytes(data))
    with pytest.raises(CorruptShardError, match="shard-00001.bin has sha256 .* re-export the mixture"):
        PackedMixture(manifest)


def test_steps_read_each_sequence_once_per_epoch_in_a_seeded_order(tmp_path: Path) -> None:
    mixture = PackedMixture(_mixture(tmp_path))
    seen = np.concatenate([mixture.samples_for_step(s, 1, seed=7) for s in range(len(mixture))])
    assert sorted(seen.tolist()) == list(range(len(mixture)))  # one epoch: every sequence exactly once
    batches = np.concatenate([mixture.samples_for_step(s, 4, seed=7) for s in range(len(mixture) // 4)])
    assert len(set(batches.tolist())) == len(batches)
    again = PackedMixture(_mixture(tmp_path / "copy"))
    assert np.array_equal(again.samples_for_step(3, 4, seed=7), mixture.samples_for_step(3, 4, seed=7))
    assert not np.array_equal(mixture.samples_for_step(3, 4, seed=8), mixture.samples_for_step(3, 4, seed=7))
