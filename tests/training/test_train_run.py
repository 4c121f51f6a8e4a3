"""Real DeepSpeed on CPU (2 ranks, ZeRO-2, gloo) through torchrun: loss falls, a killed run resumes from its
last checkpoint with the same data order, no repeated step and the same samples record, and the exported HF folder
reloads."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from boostqa.settings import PROJECT_ROOT
from tests.training.test_data import _mixture
from training.data import PackedMixture
from training.samples import read_samples
from training.status import read_metrics, read_status

pytestmark = pytest.mark.integration
TRAIN_PYTHON = PROJECT_ROOT / ".venv-train" / "bin"


def _launch(manifest: Path, output: Path, *overrides: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DS_ACCELERATOR": "cpu", "OMP_NUM_THREADS": "1",
           "TORCH_EXTENSIONS_DIR": str(PROJECT_ROOT / ".state" / "torch_extensions")}
    args = [str(TRAIN_PYTHON / "torchrun"), "--nproc_per_node", "2", "-m", "training.train", "--config", "cpu_smoke",
            "--override", f"data.manifest={manifest}", "--override", f"output_dir={output}",
            "--override", "max_steps=24", "--override", "checkpoint_every=4", "--override", "micro_batch_size=2",
            *(a for o in overrides for a in ("--override", o))]
    return subprocess.Popen(args, cwd=PROJECT_ROOT, env=env, start_new_session=True,  # noqa: S603
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def test_training_resumes_after_a_kill_without_repeating_data(tmp_path: Path) -> None:
    manifest = _mixture(tmp_path / "mix", documents=400, seq_len=32)
    output = tmp_path / "run"
    first = _launch(manifest, output)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:  # kill the run as soon as its first checkpoint is complete
        status = read_status(output)
        if status and status.get("step", 0) >= 4:
            break
        assert first.poll() is None, first.stdout.read().decode()[-3000:]  # type: ignore[union-attr]
        time.sleep(0.1)
    # Preemption: every process of the run dies at once (torchrun's workers live in their own sessions).
    subprocess.run(["pkill", "-9", "-f", f"output_dir={output}"], check=False)  # noqa: S603, S607
    first.wait()
    resume_at = int((output / "latest").read_text().strip().removeprefix("step_"))
    assert read_status(output)["state"] == "running" and 4 <= resume_at < 24  # type: ignore[index]

    second = _launch(manifest, output)
    log = second.communicate(timeout=600)[0].decode()
    assert second.returncode == 0, log[-3000:]
    assert f"resumed from {output} at step {resume_at}" in log, [x for x in log.splitlines() if "[train]" in x]

    metrics = read_metrics(output)
    assert [m["step"] for m in metrics] == list(range(24))
    mixture = PackedMixture(manifest)
    for row in metrics:  # the same order an uninterrupted run reads; 24 steps x 4 sequences < one epoch
        assert row["sample_indexes"] == mixture.samples_for_step(row["step"], 4, seed=1234).tolist()
    read = [i for row in metrics for i in row["sample_indexes"]]
    assert len(set(read)) == len(read)
    # What the model saw: the killed-and-resumed run's samples record is the uninterrupted run's, row for row.
    record = read_samples(output)
    assert record.column("step").to_pylist() == [s for s in range(24) for _ in range(4)]
    assert record.column("sequence_index").to_pylist() == [
        i for s in range(24) for i in mixture.samples_for_step(s, 4, seed=1234).tolist()]
    assert set(record.column("manifest_sha256").to_pylist()) == {mixture.manifest_sha256}
    assert metrics[-1]["loss"] < metrics[0]["loss"]

    status = read_status(output)
    assert status["state"] == "succeeded" and Path(status["hf_folder"]).is_dir()  # type: ignore[index]
    assert [p.name for p in output.glob("step_*")] == ["step_24"]  # keep_checkpoints=1 pruned the older ones
    reload = subprocess.run(  # noqa: S603
        [str(TRAIN_PYTHON / "python"), "-c", "import sys, transformers; "
         "m = transformers.AutoModelForCausalLM.from_pretrained(sys.argv[1]); print(m.num_parameters())",
         status["hf_folder"]], capture_output=True, text=True, check=True)  # type: ignore[index]
    assert int(reload.stdout.strip().splitlines()[-1]) > 0
    assert json.loads((Path(status["hf_folder"]) / "config.json").read_text())["model_type"] == "llama"  # type: ignore[index]
