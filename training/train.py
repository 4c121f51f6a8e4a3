"""Mid-training entry point for the `deepspeed` launcher or `torchrun`.

Packed mixture in; checkpoints, metrics, status and an HF folder out.

    deepspeed --num_gpus 1 training/train.py --config cpu_smoke --override data.manifest=/path/manifest.json
    torchrun --nproc_per_node 2 -m training.train --config cpu_smoke --override max_steps=50
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

if __package__ in (None, ""):  # run as a script by the deepspeed launcher
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from training import checkpoints
from training.config import TrainConfig, deepspeed_config_path, load_config
from training.data import PackedMixture
from training.heldout import baseline, measure_after, non_embedding_parameters
from training.model import (
    build_model,
    check_export,
    describe,
    export_hf,
    forget_zero3,
    live_logits,
    zero3_context,
    zero_stage,
)
from training.samples import SamplesRecord, check_resume_mixture, mixture_identity, write_checkpoint_mixture
from training.status import read_metrics, write_metrics, write_status

LATEST = checkpoints.LATEST
# torch's c10d wrapper warns on every ZeRO-3 gather and reduce-scatter DeepSpeed issues: dozens of lines per step
warnings.filterwarnings("ignore", r"`torch\.distributed\.(all_gather_into_tensor|reduce_scatter_tensor)` is "
                        "deprecated", FutureWarning)


def _lr_lambda(config: TrainConfig) -> Any:
    optim = config.optim

    def factor(step: int) -> float:
        if step < optim.warmup_steps:
            return (step + 1) / max(optim.warmup_steps, 1)
        progress = min(1.0, (step - optim.warmup_steps) / max(config.max_steps - optim.warmup_steps, 1))
        return optim.min_lr_ratio + (1 - optim.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress))

    return factor


def deepspeed_dict(config: TrainConfig, world_size: int) -> dict[str, Any]:
    """The DeepSpeed JSON with the run's batch sizes, optimizer and precision filled in."""
    ds: dict[str, Any] = json.loads(deepspeed_config_path(config).read_text())
    ds["train_micro_batch_size_per_gpu"] = config.micro_batch_size
    ds["gradient_accumulation_steps"] = config.grad_accum_steps
    ds["train_batch_size"] = config.micro_batch_size * config.grad_accum_steps * world_size
    ds["gradient_clipping"] = config.optim.grad_clip
    ds.setdefault("optimizer", {"type": "AdamW", "params": {}})
    ds["optimizer"]["params"].update({"lr": config.optim.lr, "betas": list(config.optim.betas),
                                      "weight_decay": config.optim.weight_decay})
    ds["bf16"] = {"enabled": config.precision == "bf16"}
    return ds


def _tokenizer_folder(config: TrainConfig, data: PackedMixture) -> Path | None:
    """Where the exported model's tokenizer files come from.

    The HF base model's folder, or for a model built from scratch the folder of the tokenizer the mixture was packed
    with (so the export can be evaluated).
    """
    if config.model.source == "hf" and config.model.path:
        return Path(config.model.path)
    recorded = data.manifest.get("tokenizer", {}).get("path")
    return Path(recorded).parent if recorded else None


def train(config: TrainConfig) -> dict[str, Any]:
    """Run (or resume) the training loop; returns the final status on rank 0."""
    import torch

    started = time.monotonic()
    rank, world = _init_distributed()
    output = Path(config.output_dir)
    if rank == 0:
        write_status(output, "starting", world_size=world)
    data = PackedMixture(config.data.manifest)
    mixture = mixture_identity(data)
    resume_tag = _resumable(output, rank)
    if resume_tag:  # before the model is built: another mixture's vocabulary may not even fit the checkpoint
        check_resume_mixture(output, resume_tag, mixture, data.manifest_path)
    ds = deepspeed_dict(config, world)
    # Referenced until the export: while it lives, transformers builds (and HF-loads) models partitioned (ZeRO-3).
    partitioned = zero3_context(ds) if zero_stage(ds) == 3 else None
    engine, model, scheduler = _engine(config, data.vocab_size, ds)
    built = describe(model, ds) | {"non_embedding_parameters": non_embedding_parameters(model)}
    if rank == 0:
        print(f"[train] ZeRO stage {built['zero_stage']}: {built['parameters']:,} parameters, "
              f"{built['parameters_on_rank0']:,} held by rank 0 of {world}; gradient checkpointing "
              f"{'on' if built['gradient_checkpointing'] else 'off'}", flush=True)
        write_status(output, "starting", world_size=world, **built)
    global_batch = config.micro_batch_size * config.grad_accum_steps * world
    record = SamplesRecord(data, global_batch, config.data.seed)
    metrics: list[dict[str, Any]]
    start_step, metrics = 0, []
    if resume_tag:
        start_step, metrics = _resume(engine, output, resume_tag, mixture, data, record, rank)
    before = baseline(engine, config.heldout, data.eos_token_id, output, start_step > 0, rank)
    last_tag = None
    for step in range(start_step, config.max_steps):
        indexes, loss, seconds = _step(engine, data, config, step, global_batch, world, rank)
        tokens = global_batch * data.seq_len
        row = {"step": step, "loss": loss, "lr": float(scheduler.get_last_lr()[0]), "tokens": tokens,
               "seconds": seconds, "tokens_per_s": tokens / seconds, "sample_indexes": [int(i) for i in indexes]}
        metrics.append(row)
        if rank == 0:  # outside the timed part of the step
            record.add(step, indexes)
        if rank == 0 and (step % config.log_every == 0 or step == config.max_steps - 1):
            print(f"[train] step {step + 1}/{config.max_steps} loss {row['loss']:.4f} lr {row['lr']:.2e} "
                  f"{row['tokens_per_s']:.0f} tokens/s", flush=True)
        done = step + 1
        if done % config.checkpoint_every == 0 or done == config.max_steps:
            last_tag = f"step_{done}"
            _checkpoint(engine, config, output, last_tag, done, mixture, record, metrics, rank)
    final: dict[str, Any] = {"step": config.max_steps, "max_steps": config.max_steps,
                             "loss_first": metrics[0]["loss"] if metrics else None,
                             "loss_last": metrics[-1]["loss"] if metrics else None, **mixture, **built,
                             "train_seconds": sum(m["seconds"] for m in metrics)}
    final |= measure_after(engine, config.heldout, data.eos_token_id, output, before, rank)
    _finish(config, engine, model, data, output, last_tag, final, rank, partitioned is not None)
    if rank == 0:
        write_metrics(output, metrics)
        record.write(output)
        write_status(output, "succeeded", **final, wall_seconds=time.monotonic() - started)
    torch.distributed.barrier()
    return final


def _finish(config: TrainConfig, engine: Any, model: Any, data: PackedMixture, output: Path, last_tag: str | None,
            final: dict[str, Any], rank: int, partitioned: bool) -> None:
    """Export the last checkpoint as HF and check it reproduces the live model's logits (adds to ``final``).

    Every rank runs the probe batch (under ZeRO-3 the forward gathers the shards); rank 0 exports and checks.
    """
    if not config.export_hf:
        return
    probe = data.sequence(0)[None, : config.export_check_tokens] if config.export_check_tokens else None
    expected = live_logits(engine, probe) if probe is not None else None
    if rank != 0:
        return
    if partitioned:
        forget_zero3()  # the export check reloads a plain, whole model
    tag = last_tag or (output / LATEST).read_text().strip()
    folder = export_hf(model, output, tag, _tokenizer_folder(config, data))
    final["hf_folder"] = str(folder)
    if probe is not None and expected is not None:
        final["export_check"] = check_export(folder, probe, expected, config.precision)


def _init_distributed() -> tuple[int, int]:
    """Join the process group (NCCL on GPUs, gloo on CPU); returns (rank, world size)."""
    import deepspeed
    import torch

    on_gpu = torch.cuda.is_available()
    deepspeed.init_distributed(dist_backend="nccl" if on_gpu else "gloo")
    if on_gpu:
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    return torch.distributed.get_rank(), torch.distributed.get_world_size()


def _engine(config: TrainConfig, vocab_size: int, ds: dict[str, Any]) -> tuple[Any, Any, Any]:
    """The model wrapped by DeepSpeed with its optimizer and LR schedule: (engine, model, scheduler)."""
    import deepspeed
    import torch

    model = build_model(config, vocab_size)
    if torch.cuda.is_available() and zero_stage(ds) != 3:
        # DeepSpeed broadcasts the initial weights over NCCL, which needs them on the GPU (zero.Init put ZeRO-3's
        # shards there already)
        model = model.to(torch.cuda.current_device())
    engine, _, _, scheduler = deepspeed.initialize(
        model=model, model_parameters=[p for p in model.parameters() if p.requires_grad],
        config=ds,
        lr_scheduler=lambda optimizer: torch.optim.lr_scheduler.LambdaLR(optimizer, _lr_lambda(config)),
    )
    return engine, model, scheduler


def _resume(engine: Any, output: Path, resume_tag: str, mixture: dict[str, Any], data: PackedMixture,
            record: SamplesRecord, rank: int) -> tuple[int, list[dict[str, Any]]]:
    """Load the latest checkpoint; returns the step to continue at and the metrics of the steps before it."""
    _, client = engine.load_checkpoint(str(output), tag=resume_tag)
    check_resume_mixture(output, resume_tag, mixture, data.manifest_path, recorded=client)
    start_step = int(client["step"])
    metrics = [m for m in read_metrics(output) if m["step"] < start_step]
    if rank == 0:
        rebuilt = record.resume(output, start_step)
        print(f"[train] resumed from {output} at step {start_step}"
              + (f" ({rebuilt} steps of the samples record rebuilt from the data order)" if rebuilt else ""),
              flush=True)
    return start_step, metrics


def _step(engine: Any, data: PackedMixture, config: TrainConfig, step: int, global_batch: int, world: int,
          rank: int) -> tuple[np.ndarray, float, float]:
    """One optimizer step over this rank's micro batches.

    Returns (the step's sample indexes across ranks, the loss averaged over ranks, seconds).
    """
    import torch

    started = time.perf_counter()
    indexes = data.samples_for_step(step, global_batch, config.data.seed)
    mine = indexes.reshape(config.grad_accum_steps, world, config.micro_batch_size)[:, rank]
    losses = []
    for micro in mine:
        batch = torch.as_tensor(np.stack([data.sequence(int(i)) for i in micro]), device=engine.device)
        loss = engine(input_ids=batch, labels=batch).loss
        engine.backward(loss)
        engine.step()
        losses.append(float(loss.detach()))
    mean_loss = torch.tensor(sum(losses) / len(losses), device=engine.device)
    torch.distributed.all_reduce(mean_loss)
    seconds = time.perf_counter() - started  # before float(): reading the loss waits for the collective on a GPU
    return indexes, float(mean_loss) / world, seconds


def _resumable(output: Path, rank: int) -> str | None:
    """The checkpoint tag to resume from, chosen and verified on rank 0 (``checkpoints.resumable_tag``), for all."""
    import torch

    chosen = [checkpoints.resumable_tag(output) if rank == 0 else None]
    torch.distributed.broadcast_object_list(chosen, src=0)
    return chosen[0]


def _checkpoint(engine: Any, config: TrainConfig, output: Path, tag: str, done: int, mixture: dict[str, Any],
                record: SamplesRecord, metrics: list[dict[str, Any]], rank: int) -> None:
    """Save checkpoint ``tag`` after ``done`` steps, then prune old checkpoints and report progress.

    The samples record and metrics are written before it, so they always cover every step a checkpoint holds.
    """
    import torch

    if rank == 0:
        record.write(output)
        write_metrics(output, metrics)
        write_checkpoint_mixture(output, tag, mixture)
    engine.save_checkpoint(str(output), tag=tag, client_state={"step": done, **mixture})
    torch.distributed.barrier()  # every rank's part is on disk before rank 0 seals the tag
    if rank == 0:
        checkpoints.seal(output, tag)
        checkpoints.prune(output, config.keep_checkpoints)
        write_status(output, "running", step=done, max_steps=config.max_steps, loss=metrics[-1]["loss"],
                     checkpoint=str(output / tag), **mixture)


def main(argv: list[str] | None = None) -> None:
    """Parse the command line, train, and leave a failed status (rank 0) when training raises."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default="cpu_smoke", help="configs/<name>.yaml or a path")
    parser.add_argument("--override", action="append", default=[], help="dotted key=value (repeatable)")
    parser.add_argument("--local_rank", type=int, default=-1, help="set by the deepspeed launcher")
    args = parser.parse_args(argv)
    config = load_config(args.config, args.override)
    output = Path(config.output_dir)
    try:
        train(config)
    except BaseException as exc:
        if int(os.environ.get("RANK", "0")) == 0:
            write_status(output, "failed", error=f"{type(exc).__name__}: {exc}")
        raise


if __name__ == "__main__":
    main()
