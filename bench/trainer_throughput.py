"""P5: tokens/s of training/train.py (DeepSpeed under torchrun) against a plain PyTorch loop doing the same.

Both sides run in fresh processes with the same environment on the same random-init Llama, the same packed data
in the same order, the same steps, micro batch, gradient accumulation, AdamW settings, LR schedule, gradient
clipping and precision: fp32 on CPU; in bf16 (``--gpu``) both keep bf16 weights and activations with fp32 master
weights, as DeepSpeed's bf16 mode does (no autocast on either side). Ours runs the trainer's default DeepSpeed
config (ZeRO stage 0 for one rank); a third side runs a ZeRO-2 config for information (--compare-deepspeed), so
each record shows what partitioning costs on one rank. Repeats rotate which side goes first; each side's rate is the
median of its steps after warm-up. Goal: median over repeats of ours / plain >= 0.9.

Runs with the training venv:
    .venv-train/bin/python bench/trainer_throughput.py                         # CPU, tiny Llama, 5 repeats
    .venv-train/bin/python bench/trainer_throughput.py --quick --out /tmp/b    # tiniest model, 4 steps, 1 repeat
    DS_ACCELERATOR=cuda python bench/trainer_throughput.py --gpu              # one GPU, 301M Llama, bf16
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.record import BenchRecord, Check, bench_args, finish, gpu_name, median_spread, spread_of  # noqa: E402
from training.config import load_config  # noqa: E402
from training.data import file_sha256  # noqa: E402
from training.status import read_metrics  # noqa: E402

_SIZES = ("steps", "warmup", "seq_len", "micro_batch", "repeats", "vocab", "precision", "hidden", "layers", "heads")
PRESETS: dict[str, dict[str, object]] = {  # what --gpu, --quick and the CPU default fill in when not given
    "gpu": dict(zip(_SIZES, (20, 4, 2048, 8, 3, 32_000, "bf16", 1024, 16, 16), strict=True)),
    "quick": dict(zip(_SIZES, (4, 1, 64, 2, 1, 1024, "fp32", None, None, None), strict=True)),  # the config's model
    "cpu": dict(zip(_SIZES, (16, 4, 256, 2, 5, 32_000, "fp32", 256, 4, 8), strict=True)),
}
# As the local launcher runs torchrun (boostqa/launch/local.py, which this venv cannot import; the smoke test checks
# they agree): the agent's default 0.1 s polling costs the trainer's threads on a small CPU box.
MONITOR_INTERVAL_S = 5
PEAK_BF16_TFLOPS = {"H100": 989.0, "H200": 989.0, "A100": 312.0}  # dense bf16, for MFU


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


def _env() -> dict[str, str]:
    """One environment for both sides (threads, accelerator, extension cache)."""
    return {**os.environ, "DS_ACCELERATOR": os.environ.get("DS_ACCELERATOR", "cpu"),
            "TORCH_EXTENSIONS_DIR": str(ROOT / ".state" / "torch_extensions")}


def _free_port() -> int:
    # A port of our own: a test run beside us may hold torchrun's default 29500.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ours(config_name: str, overrides: list[str], output: Path) -> list[float]:
    """tokens/s per step of training.train under torchrun (one rank), from its metrics file."""
    args = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "1", "--master_addr", "127.0.0.1",
            "--master_port", str(_free_port()), "--monitor-interval", str(MONITOR_INTERVAL_S),
            "-m", "training.train", "--config", config_name,
            *(a for o in [*overrides, f"output_dir={output}"] for a in ("--override", o))]
    subprocess.run(args, cwd=ROOT, env=_env(), check=True, stdout=subprocess.DEVNULL)  # noqa: S603
    return [m["tokens_per_s"] for m in read_metrics(output)]


def plain(config_name: str, overrides: list[str], result: Path) -> dict[str, object]:
    """The plain loop in a fresh process of its own (this script with --worker-plain), like ours under torchrun."""
    args = [sys.executable, __file__, "--worker-plain", str(result), "--config", config_name,
            "--worker-overrides", json.dumps(overrides)]
    subprocess.run(args, cwd=ROOT, env=_env(), check=True)  # noqa: S603
    return json.loads(result.read_text())


def plain_worker(config_name: str, overrides: list[str], result: Path) -> None:  # noqa: C901 - one loop, as train.py
    """tokens/s per step of a bare PyTorch loop doing train.py's work; writes {"rates", "params", ...}."""
    import torch

    from training.data import PackedMixture
    from training.model import build_model
    from training.train import _lr_lambda

    config = load_config(config_name, overrides)
    data = PackedMixture(config.data.manifest)
    device = "cuda" if torch.cuda.is_available() else "cpu"  # train.py's rule
    model = build_model(config, data.vocab_size).to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    bf16 = config.precision == "bf16"
    if bf16:  # DeepSpeed's bf16 mode: bf16 weights and activations, the optimizer on fp32 master copies
        model.to(torch.bfloat16)
        master = [p.detach().float().clone() for p in params]
    else:
        master = params
    optimizer = torch.optim.AdamW(master, lr=config.optim.lr, betas=config.optim.betas,
                                  weight_decay=config.optim.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _lr_lambda(config))
    batch_size = config.micro_batch_size * config.grad_accum_steps
    rates = []
    for step in range(config.max_steps):
        started = time.perf_counter()
        indexes = data.samples_for_step(step, batch_size, config.data.seed)
        losses = []
        for micro in indexes.reshape(config.grad_accum_steps, config.micro_batch_size):
            batch = torch.as_tensor(np.stack([data.sequence(int(i)) for i in micro]), device=device)
            loss = model(input_ids=batch, labels=batch).loss
            (loss / config.grad_accum_steps).backward()
            losses.append(float(loss.detach()))  # train.py reads every loss too (a device sync)
        if bf16:
            for m, p in zip(master, params, strict=True):
                m.grad, p.grad = p.grad.float(), None
        torch.nn.utils.clip_grad_norm_(master, config.optim.grad_clip)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        if bf16:
            with torch.no_grad():
                for m, p in zip(master, params, strict=True):
                    p.copy_(m)
        if device == "cuda":
            torch.cuda.synchronize()
        rates.append(batch_size * data.seq_len / (time.perf_counter() - started))
    result.write_text(json.dumps({"rates": rates, "params": sum(p.numel() for p in params), "device": device,
                                  "threads": torch.get_num_threads(), "torch": torch.__version__}))


def _version(package: str) -> str | None:
    try:
        return version(package)
    except PackageNotFoundError:
        return None


def _overrides(args: argparse.Namespace, manifest: Path) -> list[str]:
    overrides = [f"data.manifest={manifest}", f"max_steps={args.steps}", f"checkpoint_every={args.steps}",
                 "export_hf=false", f"micro_batch_size={args.micro_batch}", f"model.vocab_size={args.vocab}",
                 f"precision={args.precision}"]
    if args.hidden:
        overrides += [f"model.hidden_size={args.hidden}", f"model.layers={args.layers}", f"model.heads={args.heads}"]
    return overrides + args.override


def _run_side(side: str, args: argparse.Namespace, overrides: list[str], tmp: Path, repeat: int) -> tuple[
        list[float], dict[str, object]]:
    """One side's per-step rates after warm-up (and, for the plain side, the worker's facts)."""
    if side == "plain":
        worker = plain(args.config, overrides, tmp / f"plain-{repeat}.json")
        return list(worker["rates"])[args.warmup:], worker  # type: ignore[call-overload]
    config = args.deepspeed_config if side == "ours" else args.compare_deepspeed
    rates = ours(args.config, [*overrides, f"deepspeed_config={config}"], tmp / f"{side}-{repeat}")
    return rates[args.warmup:], {}


def measure(args: argparse.Namespace, bench: str) -> BenchRecord:
    sides = ["ours", "plain", *(["zero2"] if args.compare_deepspeed else [])]
    samples: dict[str, list[float]] = {f"{s}_{k}": [] for s in sides for k in ("tokens_per_s", "step_tokens_per_s")}
    samples |= {"ratio": [], **({"zero2_ratio": []} if args.compare_deepspeed else {})}
    worker: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="bench-trainer-") as tmp:
        manifest = write_mixture(Path(tmp) / "mix", sequences=args.steps * args.micro_batch, seq_len=args.seq_len,
                                 vocab=args.vocab)
        overrides = _overrides(args, manifest)
        for repeat in range(args.repeats):
            for side in sides[repeat % len(sides):] + sides[:repeat % len(sides)]:  # who goes first rotates
                rates, facts = _run_side(side, args, overrides, Path(tmp), repeat)
                worker = facts or worker
                samples[f"{side}_tokens_per_s"].append(statistics.median(rates))
                samples[f"{side}_step_tokens_per_s"] += rates
            for side, key in (("ours", "ratio"), ("zero2", "zero2_ratio")):
                if key in samples:
                    samples[key].append(samples[f"{side}_tokens_per_s"][-1] / samples["plain_tokens_per_s"][-1])
            print(f"repeat {repeat + 1}: " + ", ".join(f"{s} {samples[f'{s}_tokens_per_s'][-1]:,.0f} tokens/s"
                                                     for s in sides) + f", ratio {samples['ratio'][-1]:.3f}",
                  flush=True)
    ours_rate = median_spread(samples["ours_tokens_per_s"])[0]
    plain_rate = median_spread(samples["plain_tokens_per_s"])[0]
    checks = [Check(measure=f"tokens/s, training.train (DeepSpeed, {args.deepspeed_config}) / plain PyTorch loop",
                    ours=ours_rate, anchor=plain_rate, unit="tokens/s", value=median_spread(samples["ratio"])[0],
                    value_unit="x", spread=spread_of(samples["ratio"]), goal=">= 0.9")]
    if args.compare_deepspeed:  # informational: what ZeRO-2's flat copies cost with nothing to partition
        checks.append(Check(measure=f"tokens/s, training.train with {args.compare_deepspeed} (one rank) / plain",
                            ours=median_spread(samples["zero2_tokens_per_s"])[0], anchor=plain_rate, unit="tokens/s",
                            value=median_spread(samples["zero2_ratio"])[0], value_unit="x",
                            spread=spread_of(samples["zero2_ratio"])))
    parameters = int(worker.get("params", 0))  # type: ignore[call-overload]
    if args.peak_tflops and parameters:  # MFU = 6 x parameters x tokens/s / peak
        mfu = 6 * parameters * ours_rate / (args.peak_tflops * 1e12)
        checks.append(Check(measure=f"MFU of ours (plain: {6 * parameters * plain_rate / (args.peak_tflops * 1e12):.1%}"
                            f", peak {args.peak_tflops:g} TFLOPs)", ours=mfu, value=mfu))
    return BenchRecord.create(
        bench=bench, quick=args.quick, checks=checks, samples=samples,
        title=f"trainer vs plain PyTorch, {args.config}, {parameters / 1e6:.1f}M parameters, seq {args.seq_len}, "
              f"{args.precision}, {worker.get('device', '?')}",
        params={"config": args.config, "overrides": [o for o in overrides if not o.startswith("data.manifest=")],
                "torchrun_monitor_interval_s": MONITOR_INTERVAL_S, "deepspeed_config": args.deepspeed_config,
                "compare_deepspeed": args.compare_deepspeed,
                "steps": args.steps, "warmup_steps_left_out": args.warmup, "seq_len": args.seq_len,
                "micro_batch": args.micro_batch, "precision": args.precision, "repeats": args.repeats,
                "parameters": parameters, "device": worker.get("device"), "torch_threads": worker.get("threads"),
                "torch": worker.get("torch"), "deepspeed": _version("deepspeed"),
                "transformers": _version("transformers"), "ds_accelerator": _env()["DS_ACCELERATOR"]})


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    bench_args(parser)
    parser.add_argument("--gpu", action="store_true", help="the GPU variant: 301M Llama, seq 2048, bf16 (needs CUDA "
                        "torch; set DS_ACCELERATOR=cuda)")
    parser.add_argument("--config", default="cpu_smoke")
    parser.add_argument("--steps", type=int, help="default 16 (quick 4, gpu 20)")
    parser.add_argument("--warmup", type=int, help="first steps left out of each median; default 4 (quick 1)")
    parser.add_argument("--seq-len", type=int, help="default 256 (quick 64, gpu 2048)")
    parser.add_argument("--micro-batch", type=int, help="default 2 (gpu 8)")
    parser.add_argument("--repeats", type=int, help="default 5 (quick 1, gpu 3)")
    parser.add_argument("--vocab", type=int, help="default 32,000 (quick 1,024)")
    parser.add_argument("--precision", choices=["fp32", "bf16"], help="default fp32 (gpu bf16)")
    parser.add_argument("--hidden", type=int, help="model size: default 256/4 layers/8 heads (quick: the config's, "
                        "gpu 1024/16/16)")
    parser.add_argument("--layers", type=int)
    parser.add_argument("--heads", type=int)
    parser.add_argument("--deepspeed-config", default=load_config("defaults").deepspeed_config,
                        help="ours: the trainer's DeepSpeed JSON (default: the one defaults.yaml names)")
    parser.add_argument("--compare-deepspeed", default="ds_cpu_zero2.json",
                        help="a third, informational side with this DeepSpeed JSON ('' to leave it out)")
    parser.add_argument("--override", action="append", default=[], help="more training overrides")
    parser.add_argument("--peak-tflops", type=float, help="the device's peak to record MFU (gpu: from its name)")
    parser.add_argument("--worker-plain", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--worker-overrides", help=argparse.SUPPRESS)
    return parser


def _defaults(args: argparse.Namespace) -> None:
    """Fill what was not given from the variant: --quick (seconds), --gpu, or the CPU default."""
    preset = PRESETS["gpu" if args.gpu else "quick" if args.quick else "cpu"]
    for key, value in preset.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.hidden and (args.layers is None or args.heads is None):
        raise SystemExit("--hidden needs --layers and --heads")
    if args.gpu and args.peak_tflops is None:
        name = gpu_name() or ""
        args.peak_tflops = next((peak for key, peak in PEAK_BF16_TFLOPS.items() if key in name), None)


def main() -> None:
    args = _parser().parse_args()
    if args.worker_plain:
        plain_worker(args.config, json.loads(args.worker_overrides), args.worker_plain)
        return
    _defaults(args)
    bench = "trainer_throughput_gpu" if args.gpu else "trainer_throughput"
    if args.gpu:
        import torch

        if not torch.cuda.is_available():
            finish(BenchRecord.create(bench=bench, title="trainer vs plain PyTorch on one GPU", quick=args.quick,
                                      skipped=f"no GPU visible to torch {torch.__version__} in {sys.prefix}"),
                   args.out)
            return
    finish(measure(args, bench), args.out)


if __name__ == "__main__":
    main()
