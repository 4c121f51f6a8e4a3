"""Real DeepSpeed on CPU through torchrun. ZeRO-2 and ZeRO-3 on 2 ranks (gloo): loss falls, a killed run resumes from
its last checkpoint with the same data order, no repeated step and the same samples record, and the exported HF folder
reloads in plain transformers with the live model's logits (ZeRO-3: weights partitioned from construction, HF gradient
checkpointing on). ZeRO stage 0 on one rank (the embedded default): the export holds the checkpoint's weights."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from boostqa_dev.checkout import PROJECT_ROOT
from tests.training.test_data import _mixture
from training.data import PackedMixture
from training.samples import read_samples
from training.status import read_metrics, read_status

pytestmark = pytest.mark.integration
TRAIN_PYTHON = PROJECT_ROOT / ".venv-train" / "bin"


def _launch(manifest: Path, output: Path, *overrides: str, config: str = "cpu_smoke") -> subprocess.Popen[bytes]:
    env = {**os.environ, "DS_ACCELERATOR": "cpu", "OMP_NUM_THREADS": "1",
           "TORCH_EXTENSIONS_DIR": str(PROJECT_ROOT / ".state" / "torch_extensions")}
    args = [str(TRAIN_PYTHON / "torchrun"), "--standalone", "--nproc_per_node", "2", "-m", "training.train",
            "--config", config, "--override", f"data.manifest={manifest}", "--override", f"output_dir={output}",
            "--override", "max_steps=24", "--override", "checkpoint_every=4", "--override", "micro_batch_size=2",
            *(a for o in overrides for a in ("--override", o))]
    return subprocess.Popen(args, cwd=PROJECT_ROOT, env=env, start_new_session=True,  # noqa: S603
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


@pytest.mark.parametrize(("config", "stage"), [("cpu_smoke", 2), ("cpu_zero3", 3)])
def test_training_resumes_after_a_kill_without_repeating_data(tmp_path: Path, config: str, stage: int) -> None:
    manifest = _mixture(tmp_path / "mix", documents=400, seq_len=32)
    output = tmp_path / "run"
    first = _launch(manifest, output, config=config)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:  # kill the run as soon as its second checkpoint is complete
        status = read_status(output)
        if status and status.get("step", 0) >= 8:
            break
        assert first.poll() is None, first.stdout.read().decode()[-3000:]  # type: ignore[union-attr]
        time.sleep(0.1)
    # Preemption: every process of the run dies at once (torchrun's workers live in their own sessions).
    subprocess.run(["pkill", "-9", "-f", f"output_dir={output}"], check=False)  # noqa: S603, S607
    first.wait()
    newest = int((output / "latest").read_text().strip().removeprefix("step_"))
    assert read_status(output)["state"] == "running" and 8 <= newest < 24  # type: ignore[index]
    # The newest checkpoint is damaged (a node died while it was copied, a disk error): the run falls back.
    damaged = max((output / f"step_{newest}").rglob("*.pt"), key=lambda p: p.stat().st_size)
    damaged.write_bytes(damaged.read_bytes()[: damaged.stat().st_size // 2])
    resume_at = newest - 4

    second = _launch(manifest, output, config=config)
    log = second.communicate(timeout=600)[0].decode()
    assert second.returncode == 0, log[-3000:]
    assert f"checkpoint step_{newest} cannot be used: {damaged.name} differs" in log, log[-3000:]
    assert f"resumed from {output} at step {resume_at}" in log, [x for x in log.splitlines() if "[train]" in x]
    assert (output / f"corrupt-step_{newest}").is_dir()  # kept aside for a look, out of the resume's way

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
    assert status["zero_stage"] == stage  # type: ignore[index]
    if stage == 3:  # every weight partitioned at construction: rank 0 holds about half of them; checkpointing on
        assert status["parameters_on_rank0"] <= status["parameters"] * 0.55  # type: ignore[index]
        assert status["gradient_checkpointing"] is True  # type: ignore[index]
    assert status["export_check"]["passed"]  # type: ignore[index]
    assert sorted(p.name for p in output.glob("step_*")) == ["step_20", "step_24"]  # keep_checkpoints=2
    assert all((output / t / "checksums.json").is_file() for t in ("step_20", "step_24"))
    # A fresh process reloads the export in plain transformers: on the trainer's fixed batch its logits are the
    # live (partitioned) model's at the last step.
    reload = subprocess.run(  # noqa: S603
        [str(TRAIN_PYTHON / "python"), "-c", "import sys, numpy, torch, transformers; "
         "m = transformers.AutoModelForCausalLM.from_pretrained(sys.argv[1]).eval(); p = numpy.load(sys.argv[2]); "
         "out = m(input_ids=torch.as_tensor(p['input_ids'])).logits.detach().numpy(); "
         "print(m.num_parameters(), float(abs(out - p['logits']).max()), float(abs(p['logits']).max()))",
         status["hf_folder"], str(output / "export_probe.npz")],  # type: ignore[index]
        capture_output=True, text=True, check=True)
    parameters, diff, scale = reload.stdout.strip().splitlines()[-1].split()
    assert int(parameters) == status["parameters"] and float(scale) > 0  # type: ignore[index]
    assert float(diff) <= 1e-4 * max(float(scale), 1.0), (diff, scale)
    assert json.loads((Path(status["hf_folder"]) / "config.json").read_text())["model_type"] == "llama"  # type: ignore[index]
    if stage == 3:
        _continue_from_the_export(manifest, tmp_path, Path(str(status["hf_folder"])),  # type: ignore[index]
                                  float(metrics[-1]["loss"]))


def _continue_from_the_export(manifest: Path, tmp_path: Path, hf_folder: Path, last_loss: float) -> None:
    """ZeRO-3 from an HF folder: from_pretrained under zero.Init loads the exported weights into the shards (the
    new run's first loss is the trained model's, not a random init's), and its own export checks out."""
    output = tmp_path / "continued"
    run = _launch(manifest, output, "model.source=hf", f"model.path={hf_folder}", "max_steps=2",
                  "checkpoint_every=2", config="cpu_zero3")
    log = run.communicate(timeout=600)[0].decode()
    assert run.returncode == 0, log[-3000:]
    status = read_status(output)
    assert status is not None and status["state"] == "succeeded" and status["export_check"]["passed"]
    assert status["parameters_on_rank0"] <= status["parameters"] * 0.55
    first = read_metrics(output)[0]["loss"]
    assert first < 6.0 and abs(first - last_loss) < 1.0, (first, last_loss)  # a random init scores ln(1000) = 6.9


def test_one_rank_without_zero_exports_the_checkpoint_weights(tmp_path: Path) -> None:
    """The embedded default (ZeRO stage 0, one rank) saves no optimizer partitions for zero_to_fp32: the export reads
    the checkpoint's whole module state instead, and the HF folder holds exactly those weights. A held-out set's
    losses are taken before and after training, per document over its real tokens only."""
    manifest = _mixture(tmp_path / "mix", documents=40, seq_len=32)
    output = tmp_path / "run"
    heldout = np.full((3, 16), -1, dtype=np.int32)  # documents of the mixture's pattern, padded to one length
    for row, length in enumerate((11, 13, 16)):
        heldout[row, :length] = np.arange(2 + row, 2 + row + length)
    np.save(tmp_path / "heldout.npy", heldout)
    env = {**os.environ, "DS_ACCELERATOR": "cpu", "OMP_NUM_THREADS": "1",
           "TORCH_EXTENSIONS_DIR": str(PROJECT_ROOT / ".state" / "torch_extensions")}
    args = [str(TRAIN_PYTHON / "torchrun"), "--standalone", "--nproc_per_node", "1", "-m", "training.train",
            "--config", "cpu_smoke"]
    for override in (f"data.manifest={manifest}", f"output_dir={output}", "max_steps=3", "checkpoint_every=3",
                     "deepspeed_config=ds_data_parallel.json", f"heldout.pattern={tmp_path / 'heldout.npy'}"):
        args += ["--override", override]
    run = subprocess.run(args, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=600,  # noqa: S603
                         check=False)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert not list((output / "step_3").glob("*optim_states.pt"))  # stage 0: nothing partitioned
    status = read_status(output)
    assert status["state"] == "succeeded"  # type: ignore[index]
    assert 0 < status["non_embedding_parameters"] < status["parameters"]  # type: ignore[index]
    rows = json.loads((output / "heldout.json").read_text())
    assert rows["after"]["pattern"]["row_tokens"] == [10, 12, 15]  # next tokens of the real ones; padding unscored
    before, after = status["heldout_before"]["pattern"], status["heldout_after"]["pattern"]  # type: ignore[index]
    assert before == rows["before"]["pattern"]["loss"] and 6.0 < before  # a random init: about ln(1000) = 6.9
    assert after < before - 0.3, (before, after)
    compare = ("import sys, torch, transformers; from pathlib import Path; from training.model import fp32_state_dict;"
               "m = transformers.AutoModelForCausalLM.from_pretrained(sys.argv[1]).state_dict();"
               "s = fp32_state_dict(Path(sys.argv[2]), 'step_3');"
               "print(len(s), sum(torch.equal(m[k], v) for k, v in s.items()))")
    hf_folder = str(status["hf_folder"])  # type: ignore[index]
    reload = subprocess.run([str(TRAIN_PYTHON / "python"), "-c", compare, hf_folder, str(output)],  # noqa: S603
                            cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    tensors, equal = map(int, reload.stdout.strip().splitlines()[-1].split())
    assert tensors > 0 and equal == tensors
