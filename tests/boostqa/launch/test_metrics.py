"""Publishing a run's metrics: typed columns, one part per run replaced on a retry, bad files refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from boostqa.errors import LakeError
from boostqa.lake import layout
from boostqa.launch.metrics import publish_training_metrics
from tests.conftest import MemoryStore, lake_rows
from training.status import write_metrics


def _rows(steps: range, loss: float = 2.0) -> list[dict[str, object]]:
    return [{"step": s, "loss": loss - 0.1 * s, "lr": 1e-4, "tokens": 512, "seconds": 0.25, "tokens_per_s": 2048.0,
             "sample_indexes": [2 * s, 2 * s + 1]} for s in steps]


def test_metrics_are_published_with_the_run_and_counts_of_samples(tmp_path: Path, memory_store: MemoryStore) -> None:
    write_metrics(tmp_path, _rows(range(3)))
    assert publish_training_metrics(memory_store, tmp_path, "r1", "cpu_smoke", "v1") == 3
    rows = lake_rows(memory_store, "training/metrics/")
    assert [(r["run_id"], r["config"], r["mixture_version"], r["step"], r["samples"]) for r in rows] == [
        ("r1", "cpu_smoke", "v1", s, 2) for s in range(3)]
    assert rows[2]["loss"] == pytest.approx(1.8)


def test_a_retry_replaces_the_run_part_instead_of_adding_rows(tmp_path: Path, memory_store: MemoryStore) -> None:
    write_metrics(tmp_path, _rows(range(2)))
    publish_training_metrics(memory_store, tmp_path, "r1", "cpu_smoke", "v1")
    write_metrics(tmp_path, _rows(range(4)))  # the run resumed and finished
    publish_training_metrics(memory_store, tmp_path, "r1", "cpu_smoke", "v1")
    assert memory_store.list_keys("training/") == [layout.training_metrics_part("r1")]
    assert [r["step"] for r in lake_rows(memory_store, "training/")] == [0, 1, 2, 3]


def test_a_missing_or_repeating_metrics_file_is_refused(tmp_path: Path, memory_store: MemoryStore) -> None:
    with pytest.raises(LakeError, match="no metrics.parquet"):
        publish_training_metrics(memory_store, tmp_path, "r1", "cpu_smoke", "v1")
    write_metrics(tmp_path, _rows(range(2)) + _rows(range(1, 2)))
    with pytest.raises(LakeError, match="repeats steps"):
        publish_training_metrics(memory_store, tmp_path, "r1", "cpu_smoke", "v1")
    assert memory_store.list_keys("training/") == []
