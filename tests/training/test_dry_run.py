"""The dry run fails a recipe that does not fit: too few GPUs for the model states, too few steps for the tokens."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from boostqa_dev.checkout import PROJECT_ROOT

pytestmark = pytest.mark.integration
TRAIN_PYTHON = PROJECT_ROOT / ".venv-train" / "bin" / "python"


def _dry_run(tmp_path: Path, *args: str) -> tuple[int, dict[str, object], str]:
    report = tmp_path / "report.json"
    done = subprocess.run(  # noqa: S603
        [str(TRAIN_PYTHON), "-m", "training.dry_run", "--config", "llama3_8b_h100", "--seq-len", "8192",
         "--no-engine", "--json", str(report), *args], cwd=PROJECT_ROOT, capture_output=True, text=True,
        env={**os.environ, "DS_ACCELERATOR": "cpu"}, timeout=300, check=False)
    return done.returncode, json.loads(report.read_text()), done.stdout


def test_the_8b_recipe_passes_on_8_gpus_and_fails_on_one(tmp_path: Path) -> None:
    code, report, printed = _dry_run(tmp_path, "--gpus", "8")
    assert code == 0 and report["passed"], printed
    memory = report["memory"]
    assert isinstance(memory, dict)
    # ZeRO-3 on 8 GPUs: 18 bytes per parameter split 8 ways, plus the largest layer (DeepSpeed's estimator)
    expected = 4 * report["largest_layer_parameters"] + 18 * report["parameters"] / 8  # type: ignore[operator]
    assert memory["model_states_bytes"] == pytest.approx(expected, rel=1e-9)
    assert "memory per GPU (ZeRO-3)" in printed and "PASSED" in printed

    code, report, printed = _dry_run(tmp_path, "--gpus", "1")  # 8B x 18 bytes of model states on one 80 GiB GPU
    assert code == 1 and not report["passed"], printed
    assert not report["memory"]["passed"] and report["memory"]["model_states_bytes"] > 80 * 2**30  # type: ignore[index]
    # one GPU is also an eighth of the batch: 40B tokens would need eight times the steps
    assert report["batch"]["steps_needed"] == 305_176 and not report["batch"]["passed"]  # type: ignore[index]


def test_too_few_steps_for_the_tokens_fail(tmp_path: Path) -> None:
    code, report, printed = _dry_run(tmp_path, "--gpus", "8", "--override", "max_steps=1000")
    assert code == 1 and not report["batch"]["passed"], printed  # type: ignore[index]
    assert "need 38,147 steps, max_steps 1,000" in printed
