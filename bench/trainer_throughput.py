"""Benchmark of the trainer: tokens/s of training/train.py (DeepSpeed, launched by torchrun) against a plain
PyTorch loop (AdamW, no DeepSpeed) on the same model, the same packed data in the same order, on the same box
in the same run. Prints both and the ratio (goal >= 0.9x). Steps after warm-up are timed (median).

Runs with the training venv:
    .venv-train/bin/python bench/trainer_throughput.py                       # tiny Llama, 24 steps
    .venv-train/bin/python bench/trainer_throughput.py --config cpu_smollm2 --steps 8 --seq-len 512
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from training.config import load_config  # noqa: E402
from training.data import PackedMixture, file_sha256  # noqa: E402
from training.status import read_metrics  # noqa: E402
from training.train import build_model  # noqa: E402


def write_mixture(folder: Path, sequences: int, seq_len: int, vocab: int) -> Path:
    """Random token sequences in the export's packed format (one shard) with its manifest."""
    folder.mkdir(parents=True, exist_ok=True)
    tokens = np.random.default_rng(0).integers(2, vocab, size=(sequences, seq_len), dtype=np.uint16)
    shard = folder / "packed" / "shard-00000.bin"
    shard.parent.mkdir(parents=True, exist_ok=True)
    shard.write_bytes(tokens.tobytes())
    manifest = {"manifest_version": 1, "packed": {
        "seq_len": seq_len, "dtype": "uint16", "eos_token_id": 1, "vocab_size": vocab,
        "shards": [{"path": "packed/shard-00000.bin", "sequences": sequences, "tokens": tokens.size,
                    "sha256": file_sha256(shard)}]}}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder / "manifest.json"


def ours(config_name: str, overrides: list[str], output: Path) -> list[float]:
    """tokens/s per step of training.train under torchrun (one rank), from its metrics file."""
    env = {**os.environ, "DS_ACCELERATOR": os.environ.get("DS_ACCELERATOR", "cpu"),
           "TORCH_EXTENSIONS_DIR": str(ROOT / ".state" / "torch_extensions")}
    args = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "1", "-m", "training.train",
            "--config", config_name, *(a for o in [*overrides, f"output_dir={output}"] for a in ("--override", o))]
    subprocess.run(args, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)  # noqa: S603
    return [m["tokens_per_s"] for m in read_metrics(output)]


def plain(config_name: str, overrides: list[str]) -> list[float]:
    """tokens/s per step of a bare PyTorch loop: same model, data order, batch and AdamW settings."""
    import torch

    config = load_config(config_name, overrides)
    data = PackedMixture(config.data.manifest)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = build_model(config, data.vocab_size).to(device)
    autocast = torch.autocast(device, dtype=torch.bfloat16, enabled=config.precision == "bf16")
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.optim.lr, betas=config.optim.betas,
                                  weight_decay=config.optim.weight_decay)
    batch_size = config.micro_batch_size * config.grad_accum_steps
    rates = []
    for step in range(config.max_steps):
        started = time.perf_counter()
        indexes = data.samples_for_step(step, batch_size, config.data.seed)
        for micro in indexes.reshape(config.grad_accum_steps, config.micro_batch_size):
            batch = torch.as_tensor(np.stack([data.sequence(int(i)) for i in micro]), device=device)
            with autocast:
                loss = model(input_ids=batch, labels=batch).loss / config.grad_accum_steps
            loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.optim.grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if device == "cuda":
            torch.cuda.synchronize()
        rates.append(batch_size * data.seq_len / (time.perf_counter() - started))
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default="cpu_smoke")
    parser.add_argument("--steps", type=int, default=24)
    parser.add_argument("--seq-len", type=int, default=256)
    parser.add_argument("--warmup", type=int, default=4, help="first steps left out of the median")
    parser.add_argument("--micro-batch", type=int, default=2)
    parser.add_argument("--override", action="append", default=[], help="more training overrides (tiny model size, "
                        "precision=bf16, ...)")
    parser.add_argument("--peak-tflops", type=float, default=0.0, help="the device's peak (e.g. 989 for H100/H200 "
                        "bf16 dense) to print MFU")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-trainer-") as tmp:
        manifest = write_mixture(Path(tmp) / "mix", sequences=args.steps * args.micro_batch,
                                 seq_len=args.seq_len, vocab=32_000)
        overrides = [f"data.manifest={manifest}", f"max_steps={args.steps}", f"checkpoint_every={args.steps}",
                     "export_hf=false", f"micro_batch_size={args.micro_batch}", "model.vocab_size=32000"]
        if args.config == "cpu_smoke":
            overrides += ["model.hidden_size=256", "model.layers=4", "model.heads=8"]
        overrides += args.override
        ours_rates = ours(args.config, overrides, Path(tmp) / "run")[args.warmup:]
        plain_rates = plain(args.config, overrides)[args.warmup:]
    ours_median, plain_median = statistics.median(ours_rates), statistics.median(plain_rates)
    print(f"config {args.config}, {args.steps} steps ({args.warmup} warm-up left out), seq {args.seq_len}, 1 rank")
    print(f"training.train (DeepSpeed ZeRO-2, torchrun) {ours_median:10,.0f} tokens/s")
    print(f"plain PyTorch loop (AdamW)                  {plain_median:10,.0f} tokens/s")
    print(f"ratio ours / plain: {ours_median / plain_median:.2f}x (goal >= 0.9x)")
    if args.peak_tflops:
        config = load_config(args.config, overrides)
        params = sum(p.numel() for p in build_model(config, 32_000).parameters())
        for label, rate in (("ours", ours_median), ("plain", plain_median)):
            mfu = 6 * params * rate / (args.peak_tflops * 1e12)
            print(f"MFU {label}: {mfu:.1%} ({params / 1e6:.0f}M parameters, 6 x params x tokens/s / peak)")


if __name__ == "__main__":
    main()
