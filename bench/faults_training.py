"""The training SIGKILL row: a mid-training run killed as a node dies (every process at once), then relaunched.

The trainer (`training/train.py` under torchrun, DeepSpeed on CPU, the `cpu_smoke` model) trains on a small packed
mixture and checkpoints every few steps. Once a checkpoint past the first is sealed, every process of the run is
SIGKILLed. The relaunch must resume from the newest valid checkpoint and finish: every optimizer step exactly once in
the metrics and in the record of what the model saw, and the run marked succeeded.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections import Counter
from pathlib import Path

from boostqa.export.packing import Packer
from boostqa_dev.faults.rows import FaultRow
from training.samples import read_samples
from training.status import read_metrics, read_status

ROOT = Path(__file__).resolve().parent.parent
TRAIN_BIN = ROOT / ".venv-train" / "bin"
BATCH = 2  # sequences per step (one rank, micro batch 2)


def _mixture(folder: Path, documents: int = 300, seq_len: int = 32) -> Path:
    """A packed mixture in the export's format (token ids below the model's vocabulary)."""
    packer = Packer(folder, seq_len=seq_len, eos_token_id=0, vocab_size=1000, sequences_per_shard=16)
    starts = [packer.add(list(range(1 + i % 7, 12 + i % 7))) for i in range(documents)]
    shards = packer.close()
    manifest = {"manifest_version": 1, "starts": starts,
                "packed": {"seq_len": seq_len, "dtype": str(packer.dtype), "eos_token_id": 0, "vocab_size": 1000,
                           "shards": [s.__dict__ for s in shards]}}
    path = folder / "manifest.json"
    path.write_text(json.dumps(manifest))
    return path


def _launch(manifest: Path, output: Path, steps: int, every: int, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DS_ACCELERATOR": "cpu", "OMP_NUM_THREADS": "1",
           "TORCH_EXTENSIONS_DIR": str(ROOT / ".state" / "torch_extensions")}
    args = [str(TRAIN_BIN / "torchrun"), "--nproc_per_node", "1", "-m", "training.train", "--config", "cpu_smoke",
            *(a for o in (f"data.manifest={manifest}", f"output_dir={output}", f"max_steps={steps}",
                          f"checkpoint_every={every}", f"micro_batch_size={BATCH}") for a in ("--override", o))]
    with log.open("ab") as out:
        return subprocess.Popen(args, cwd=ROOT, env=env, start_new_session=True,  # noqa: S603
                                stdout=out, stderr=subprocess.STDOUT)


def training_kill_row(folder: Path, steps: int = 16, every: int = 4) -> FaultRow:
    """Kill the run once its second checkpoint is sealed; the relaunch resumes and trains every step once."""
    folder.mkdir(parents=True, exist_ok=True)
    manifest = _mixture(folder / "mixture")
    output, log = folder / "run", folder / "training.log"
    started = time.monotonic()
    first = _launch(manifest, output, steps, every, log)
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline and first.poll() is None:
        status = read_status(output)
        if status and status.get("step", 0) >= 2 * every:
            break
        time.sleep(0.1)
    killed = first.poll() is None
    subprocess.run(["pkill", "-9", "-f", f"output_dir={output}"], check=False)  # noqa: S603, S607 - a node dies
    first.wait()
    interrupted = (read_status(output) or {}).get("state") == "running"
    second = _launch(manifest, output, steps, every, log)
    second.wait(timeout=900)
    text = log.read_text(errors="replace")
    metrics = [m["step"] for m in read_metrics(output)]
    seen = Counter(read_samples(output).column("step").to_pylist())
    status = read_status(output) or {}
    return FaultRow(fault="SIGKILL training (every process) mid-run", injected=int(killed), jobs=steps,
                    completed=len(set(metrics) & set(range(steps))),
                    lost=len(set(range(steps)) - set(metrics)),
                    duplicated=sum(n > 1 for n in Counter(metrics).values()) + sum(
                        1 for s in range(steps) if seen.get(s, 0) not in (0, BATCH)),
                    wall_s=round(time.monotonic() - started, 1),
                    message=next((x.strip() for x in text.splitlines() if "resumed from" in x), "")[:300],
                    checks={"killed mid-run": killed and interrupted,
                            "resumed from a checkpoint": "resumed from" in text,
                            "run succeeded": status.get("state") == "succeeded",
                            "what the model saw: every step once": sorted(seen) == list(range(steps))})
