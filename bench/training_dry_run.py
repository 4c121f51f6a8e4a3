"""P10: the production training recipe (Llama-3-8B, 8 x H100, ZeRO-3) checked without a GPU, and recorded.

Runs ``training.dry_run`` in the training venv (the architecture built on the meta device; batch arithmetic;
DeepSpeed's ZeRO-3 estimator for the model states plus our estimate of activations and logits per GPU; a
scaled-down copy of the architecture built under the same DeepSpeed config, zero.Init and bf16, taking one
optimizer step on this CPU), then renders the command each cluster launcher would run for the recipe
(``boostqa/launch``: the Kubernetes Job's container command and the Slurm script's torchrun line) and checks that
they start the trainer on every GPU with the recipe's config. Records every number the dry run printed.

    .venv/bin/python bench/training_dry_run.py                        # -> bench/results/training_dry_run-*.json
    .venv/bin/python bench/training_dry_run.py --quick --out /tmp/b   # the same checks (they take seconds)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.record import BenchRecord, Check, bench_args, finish  # noqa: E402
from boostqa.launch.cluster import ClusterResources, render_kubernetes_job, render_slurm_script  # noqa: E402
from boostqa.launch.spec import LaunchSpec  # noqa: E402

CONFIG, GPUS, NODES, SEQ_LEN, TOKENS, GPU_GIB = "llama3_8b_h100", 8, 1, 8192, 40e9, 80.0
GIB = 1 << 30


def dry_run_report() -> tuple[dict[str, Any], str]:
    """The training venv's dry run of the recipe: (its JSON report, what it printed)."""
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "dry_run.json"
        done = subprocess.run(  # noqa: S603
            [str(ROOT / ".venv-train" / "bin" / "python"), "-m", "training.dry_run", "--config", CONFIG,
             "--gpus", str(GPUS), "--nodes", str(NODES), "--seq-len", str(SEQ_LEN), "--tokens", str(TOKENS),
             "--gpu-memory-gib", str(GPU_GIB), "--json", str(report)],
            cwd=ROOT, env={**os.environ, "DS_ACCELERATOR": "cpu", "OMP_NUM_THREADS": "2",
                           "TORCH_EXTENSIONS_DIR": str(ROOT / ".state" / "torch_extensions")},
            capture_output=True, text=True, timeout=900, check=False)
        if not report.exists():
            raise RuntimeError(f"the dry run wrote no report (exit {done.returncode}): {done.stderr[-3000:]}")
        printed = "\n".join(line for line in done.stdout.splitlines() if line.startswith("[dry-run]"))
        return json.loads(report.read_text()), printed


def launcher_commands() -> dict[str, str]:
    """The trainer command each cluster launcher renders for the recipe on one 8-GPU node."""
    spec = LaunchSpec(run_id="dry_run", config=CONFIG, nproc_per_node=GPUS, nodes=NODES,
                      output_dir="/checkpoints/dry_run", overrides=["data.manifest=/work/mixtures/v1/manifest.json"])
    resources = ClusterResources(gpus_per_node=GPUS)
    job = render_kubernetes_job(spec, resources, ROOT / "infra" / "k8s" / "training-job.yaml")
    container = job["spec"]["template"]["spec"]["containers"][0]
    kubernetes = " ".join(str(part) for part in [*container.get("command", []), *container.get("args", [])])
    script = render_slurm_script(spec, resources, ROOT / "infra" / "slurm" / "train.sbatch")
    slurm = " ".join(next(line for line in script.replace("\\\n", " ").splitlines() if line.startswith("srun")).split())
    return {"kubernetes": kubernetes, "slurm": slurm}


def _starts_every_gpu(command: str) -> bool:
    nproc = f"--nproc_per_node={GPUS}" in command or f"--nproc_per_node {GPUS}" in command
    return nproc and "training.train" in command and CONFIG in command


def measure(quick: bool) -> BenchRecord:
    report, printed = dry_run_report()
    print(printed)
    commands = launcher_commands()
    for name, command in commands.items():
        print(f"[dry-run] {name} launcher: {command}")
    batch, memory, scaled = report["batch"], report["memory"], report["scaled_engine"]
    checks = [
        Check(measure="parameters of the architecture (meta device)", ours=report["parameters"] / 1e9,
              unit="B", value=report["parameters"] / 1e9, value_unit="B"),
        Check(measure=f"tokens per optimizer step ({batch['global_batch_sequences']} sequences x {SEQ_LEN})",
              ours=batch["tokens_per_step"], value=batch["tokens_per_step"], value_unit="tokens"),
        Check(measure=f"steps a {TOKENS:.0e}-token run needs / max_steps", ours=batch["steps_needed"],
              anchor=batch["max_steps"], value=batch["steps_needed"] / batch["max_steps"], goal="<= 1"),
        Check(measure="DeepSpeed train_batch_size = micro x accumulation x GPUs",
              ours=report["deepspeed_train_batch_size"], anchor=batch["global_batch_sequences"],
              value=report["deepspeed_train_batch_size"] - batch["global_batch_sequences"], goal="== 0"),
        Check(measure="model states per GPU, DeepSpeed's ZeRO-3 estimator", ours=memory["model_states_bytes"] / GIB,
              unit="GiB", value=memory["model_states_bytes"] / GIB, value_unit="GiB"),
        Check(measure="memory per GPU: model states + activations + logits (estimate) / usable",
              ours=memory["per_gpu_bytes"] / GIB, anchor=memory["budget_bytes"] / GIB, unit="GiB",
              value=memory["per_gpu_bytes"] / memory["budget_bytes"], goal="<= 1"),
        Check(measure="CPU memory per node at load, with zero.Init", ours=memory["cpu_bytes_per_node"] / GIB,
              unit="GiB", value=memory["cpu_bytes_per_node"] / GIB, value_unit="GiB"),
        Check(measure="scaled-down engine under the recipe's DeepSpeed config: optimizer steps taken",
              ours=scaled["optimizer_steps"], value=scaled["optimizer_steps"], goal="== 1"),
        Check(measure="launchers rendering torchrun on every GPU with the recipe's config (of 2)",
              ours=sum(map(_starts_every_gpu, commands.values())), value=sum(map(_starts_every_gpu, commands.values())),
              goal="== 2"),
    ]
    return BenchRecord.create(
        bench="training_dry_run", title=f"{CONFIG}: the 8-GPU recipe checked on CPU (dry run)", quick=quick,
        checks=checks, samples={"scaled_engine_seconds": [scaled["seconds"]]},
        params={"report": report, "printed": printed, "launchers": commands, "gpus_per_node": GPUS, "nodes": NODES,
                "seq_len": SEQ_LEN, "tokens": TOKENS, "gpu_memory_gib": GPU_GIB})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    bench_args(parser)
    args = parser.parse_args()
    finish(measure(args.quick), args.out)


if __name__ == "__main__":
    main()
