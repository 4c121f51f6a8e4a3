"""The model side of evaluation (training/lm_requests.py), run in the training venv on a tiny random model:
batched, deduplicated log-likelihoods equal one-request-at-a-time ones; generations stop at their stop string; without
a GPU the device, precision and batch defaults are the CPU's, and an automatic batch size answers the same."""

from __future__ import annotations

import subprocess
from pathlib import Path

from boostqa_dev.checkout import PROJECT_ROOT

TRAIN_PYTHON = PROJECT_ROOT / ".venv-train" / "bin" / "python"


def test_batched_answers_equal_single_answers(tmp_path: Path) -> None:
    done = subprocess.run([str(TRAIN_PYTHON), str(Path(__file__).with_name("lm_requests_check.py")), str(tmp_path)],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600, check=False,
                          env={"PYTHONPATH": str(PROJECT_ROOT), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "ok 10"  # DeepSpeed may log its accelerator to stdout first
