"""What the model saw: the trainer records every sequence each step read (real DeepSpeed on CPU, one rank, a tiny
model: seconds per run), a resumed run continues that record, and a checkpoint refuses another mixture."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from boostqa_dev.checkout import PROJECT_ROOT
from tests.training.test_data import _mixture
from training import checkpoints
from training.data import PackedMixture
from training.samples import (
    SAMPLES_NAME,
    MixtureMismatchError,
    SamplesRecord,
    check_resume_mixture,
    mixture_identity,
    read_samples,
)
from training.status import read_metrics, read_status

TORCHRUN = PROJECT_ROOT / ".venv-train" / "bin" / "torchrun"
BATCH = 2  # cpu_smoke: micro batch 2, one rank, no accumulation
needs_trainer = pytest.mark.skipif(not TORCHRUN.exists(), reason=".venv-train is not installed (make install)")


def _train(manifest: Path, output: Path, max_steps: int) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DS_ACCELERATOR": "cpu", "OMP_NUM_THREADS": "1",
           "TORCH_EXTENSIONS_DIR": str(PROJECT_ROOT / ".state" / "torch_extensions")}
    args = [str(TORCHRUN), "--standalone", "--nproc_per_node", "1", "-m", "training.train", "--config", "cpu_smoke"]
    for override in (f"data.manifest={manifest}", f"output_dir={output}", f"max_steps={max_steps}",
                     "checkpoint_every=2", f"micro_batch_size={BATCH}", "export_hf=false"):
        args += ["--override", override]
    return subprocess.run(args, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=600,  # noqa: S603
                          check=False)


def _expected(manifest: Path, steps: range) -> list[dict[str, object]]:
    """What an uninterrupted run reads: the seeded order, step by step (sequences_per_shard is 8 in _mixture)."""
    mixture = PackedMixture(manifest)
    rows = []
    for step in steps:
        for position, index in enumerate(mixture.samples_for_step(step, BATCH, seed=1234).tolist()):
            rows.append({"step": step, "batch_position": position, "epoch": (step * BATCH + position) // len(mixture),
                         "sequence_index": index, "packed_shard": index // 8, "packed_sequence": index % 8})
    return rows


def _record(output: Path) -> list[dict[str, object]]:
    columns = ["step", "batch_position", "epoch", "sequence_index", "packed_shard", "packed_sequence"]
    return read_samples(output).select(columns).to_pylist()


@pytest.fixture(scope="module")
def mixtures(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("mixtures")  # v1: 9 sequences of 16 in two packed shards, so 4 steps wrap
    return _mixture(root / "v1", documents=12, seq_len=16, version="v1"), _mixture(root / "v2", documents=14,
                                                                                     seq_len=16, version="v2")


@pytest.fixture(scope="module")
def four_steps(mixtures: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("runs") / "four_steps"
    result = _train(mixtures[0], output, max_steps=4)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return output


def _copy(run: Path, tmp_path: Path) -> Path:
    target = tmp_path / "run"
    shutil.copytree(run, target)
    return target


@needs_trainer
def test_the_trainer_records_each_sequence_every_step_read(four_steps: Path, mixtures: tuple[Path, Path]) -> None:
    manifest = mixtures[0]
    table = read_samples(four_steps)
    assert _record(four_steps) == _expected(manifest, range(4))
    assert {r["epoch"] for r in _record(four_steps)} == {0}  # 8 of 9 sequences read
    assert {r["packed_shard"] for r in _expected(manifest, range(5))} == {0, 1}
    sha = hashlib.sha256(manifest.read_bytes()).hexdigest()
    assert set(table.column("mixture_version").to_pylist()) == {"v1"}
    assert set(table.column("manifest_sha256").to_pylist()) == {sha}
    assert set(table.column("seq_len").to_pylist()) == {16} and set(table.column("run_id").to_pylist()) == {None}
    assert sorted(set(table.column("step").to_pylist())) == [m["step"] for m in read_metrics(four_steps)]
    for metrics in read_metrics(four_steps):  # the same reads metrics.parquet lists
        assert metrics["sample_indexes"] == [r["sequence_index"] for r in _record(four_steps)
                                             if r["step"] == metrics["step"]]
    checkpoint = json.loads((four_steps / "step_4" / "mixture.json").read_text())
    assert checkpoint == {"mixture_version": "v1", "manifest_sha256": sha}
    status = read_status(four_steps)
    assert status and (status["mixture_version"], status["manifest_sha256"]) == ("v1", sha)


@needs_trainer
def test_a_resumed_run_keeps_its_record_and_continues_the_data_order(four_steps: Path, mixtures: tuple[Path, Path],
                                                                     tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    output = _copy(four_steps, tmp_path)
    recorded = pq.read_table(output / SAMPLES_NAME)  # mark the recorded rows: a resume must keep, not rewrite them
    marked = recorded.set_column(0, "run_id", pa.array(["recorded"] * recorded.num_rows, pa.string()))
    pq.write_table(marked, output / SAMPLES_NAME)

    result = _train(mixtures[0], output, max_steps=7)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert f"resumed from {output} at step 4" in result.stdout + result.stderr
    assert _record(output) == _expected(mixtures[0], range(7))  # = the uninterrupted run's record
    assert {r["epoch"] for r in _record(output)} == {0, 1}
    run_ids = read_samples(output).column("run_id").to_pylist()
    assert run_ids == ["recorded"] * 4 * BATCH + [None] * 3 * BATCH
    assert [m["step"] for m in read_metrics(output)] == list(range(7))


@needs_trainer
def test_a_checkpoint_refuses_to_resume_on_another_mixture(four_steps: Path, mixtures: tuple[Path, Path],
                                                           tmp_path: Path) -> None:
    output = _copy(four_steps, tmp_path)
    before = _record(output)
    for attempt in ("checkpoint folder", "client state"):
        result = _train(mixtures[1], output, max_steps=6)
        assert result.returncode != 0, attempt
        status = read_status(output)
        assert status and status["state"] == "failed", attempt
        error = status["error"]
        assert error.startswith("MixtureMismatchError: cannot resume") and "mixture 'v1'" in error, attempt
        assert "mixture 'v2'" in error and "new output_dir" in error, attempt
        assert _record(output) == before and (output / "step_4").is_dir()
        (output / "step_4" / "mixture.json").unlink(missing_ok=True)  # next: only the client state says
        checkpoints.seal(output, "step_4")  # as a checkpoint saved before mixture.json existed would be sealed


def test_the_mismatch_error_names_both_versions_and_the_way_out(tmp_path: Path) -> None:
    recorded = {"mixture_version": "v1", "manifest_sha256": "a" * 64}
    given = {"mixture_version": "v2", "manifest_sha256": "b" * 64}
    check_resume_mixture(tmp_path, "step_4", given, tmp_path / "manifest.json")  # nothing recorded: not checked
    check_resume_mixture(tmp_path, "step_4", recorded, tmp_path / "manifest.json", recorded=recorded)
    with pytest.raises(MixtureMismatchError, match=r"mixture 'v1' \(manifest sha256 a{64}\).*mixture 'v2'.*"
                       r"new output_dir"):
        check_resume_mixture(tmp_path, "step_4", given, tmp_path / "manifest.json", recorded=recorded)


def test_a_record_missing_steps_is_rebuilt_from_the_data_order(tmp_path: Path) -> None:
    manifest = _mixture(tmp_path / "mix", documents=12, seq_len=16, version="v1")
    data = PackedMixture(manifest)
    first = SamplesRecord(data, BATCH, seed=1234)
    for step in (0, 1, 3):  # step 2 never reached the file
        first.add(step, data.samples_for_step(step, BATCH, 1234))
    first.write(tmp_path)
    resumed = SamplesRecord(data, BATCH, seed=1234)
    assert resumed.resume(tmp_path, start_step=3) == 1  # steps 0 and 1 kept, 2 rebuilt, 3 dropped (not trained)
    resumed.add(3, data.samples_for_step(3, BATCH, 1234))
    resumed.write(tmp_path)
    assert _record(tmp_path) == _expected(manifest, range(4))
    assert mixture_identity(data)["manifest_sha256"] == hashlib.sha256(manifest.read_bytes()).hexdigest()
    assert np.array_equal(data.locate(np.array([0, 8]))[0], [0, 1])
