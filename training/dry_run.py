"""A training config checked for the cluster it is meant for, on any machine: batch arithmetic, memory, a real engine.

    .venv-train/bin/python -m training.dry_run --config llama3_8b_h100 --gpus 8 [--json out.json]

1. The architecture (``model.path``'s config.json, else ``model.architecture``) is built on the meta device: its
   parameter count and largest layer, no memory allocated.
2. Batch arithmetic: the global batch DeepSpeed will be given, tokens per step at the mixture's sequence length, and
   the steps a token target needs against ``max_steps``.
3. Memory per GPU: DeepSpeed's own ZeRO estimator for the model states (weights, gradients, Adam), plus an estimate of
   activations and logits, against the GPU's memory.
4. A scaled-down copy of the same architecture (same family, attention layout and vocabulary; 2 layers, hidden 128)
   is built under the run's DeepSpeed config (``zero.Init`` for ZeRO-3, bf16 as configured) and takes one optimizer
   step on random tokens, so a config DeepSpeed refuses fails here and not on the cluster.

Exit status 1 when a check fails. The estimate of activations is ours (documented in docs/training.md), the model
states' is DeepSpeed's.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import socket
import time
from pathlib import Path
from typing import Any

from training.config import CONFIG_DIR, TrainConfig, load_config
from training.data import PackedMixture
from training.model import describe, enable_gradient_checkpointing, zero3_context, zero_stage
from training.train import deepspeed_dict

GIB = 1 << 30
SCALED = {"hidden_size": 128, "intermediate_size": 448, "num_hidden_layers": 2}  # 4096:14336 kept as 128:448
MEMORY_HEADROOM = 0.9  # of a GPU's memory: the rest is the CUDA context, NCCL buffers and fragmentation


def architecture(config: TrainConfig) -> Any:
    """The model's HF config: ``model.path``/config.json when the weights are here, else ``model.architecture``.

    Raises:
        ValueError: neither is available.
    """
    from transformers import AutoConfig

    if config.model.path and (Path(config.model.path) / "config.json").is_file():
        return AutoConfig.from_pretrained(config.model.path)
    if config.model.architecture:
        path = Path(config.model.architecture)
        return AutoConfig.from_pretrained(path if path.is_file() else CONFIG_DIR / path)
    raise ValueError("the dry run needs the model's config.json: model.path (present here) or model.architecture")


def parameters(arch: Any) -> tuple[int, int]:
    """(total parameters, parameters of the largest single module) of the architecture, built on the meta device."""
    import torch
    from transformers import AutoModelForCausalLM

    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(arch)
    total = sum(p.numel() for p in model.parameters())
    largest = max(sum(p.numel() for p in module.parameters(recurse=False)) for module in model.modules())
    return total, largest


def batch_plan(config: TrainConfig, world: int, seq_len: int, tokens: float) -> dict[str, Any]:
    """The batch arithmetic of the run on ``world`` GPUs and whether ``max_steps`` covers ``tokens``."""
    global_batch = config.micro_batch_size * config.grad_accum_steps * world
    per_step = global_batch * seq_len
    needed = math.ceil(tokens / per_step)
    return {"world_size": world, "global_batch_sequences": global_batch, "seq_len": seq_len,
            "tokens_per_step": per_step, "target_tokens": tokens, "steps_needed": needed,
            "max_steps": config.max_steps, "tokens_in_run": config.max_steps * per_step,
            "warmup_tokens": config.optim.warmup_steps * per_step,
            "passed": config.max_steps >= needed and config.optim.warmup_steps < config.max_steps}


def memory_plan(ds: dict[str, Any], arch: Any, total: int, largest: int, config: TrainConfig, seq_len: int,
                gpus: int, nodes: int, gpu_memory_gib: float) -> dict[str, Any]:
    """Bytes per GPU against the GPU's memory.

    Model states by DeepSpeed's estimator for the config's ZeRO stage; activations and logits by ours (bf16 or fp32
    per the config).
    """
    from deepspeed.runtime.zero.stage3 import estimate_zero3_model_states_mem_needs
    from deepspeed.runtime.zero.stage_1_and_2 import estimate_zero2_model_states_mem_needs

    zero = ds.get("zero_optimization", {})
    offload_optimizer = zero.get("offload_optimizer", {}).get("device", "none") != "none"
    offload_params = zero.get("offload_param", {}).get("device", "none") != "none"
    stage = zero_stage(ds)
    if stage == 3:
        cpu, states, _ = estimate_zero3_model_states_mem_needs(total, largest, gpus, nodes, offload_optimizer,
                                                               offload_params, zero_init=True)
        cpu_without_zero_init, _, _ = estimate_zero3_model_states_mem_needs(
            total, largest, gpus, nodes, offload_optimizer, offload_params, zero_init=False)
    elif stage == 2:
        cpu, states = estimate_zero2_model_states_mem_needs(total, gpus, nodes, offload_optimizer)
        cpu_without_zero_init = cpu
    else:  # nothing partitioned: fp32 master, Adam's two moments, bf16/fp32 weights and gradients on every GPU
        cpu, states, cpu_without_zero_init = 0, 18 * total, 0
    width = 2 if config.precision == "bf16" else 4
    tokens = config.micro_batch_size * seq_len
    hidden, layers = int(arch.hidden_size), int(arch.num_hidden_layers)
    if config.gradient_checkpointing:  # each layer's input kept, one layer's activations live during its recompute
        activations = layers * tokens * hidden * width + 17 * tokens * hidden * width
    else:  # about 34 bytes per token and hidden unit per layer in 16-bit (fused attention: no s^2 term)
        activations = layers * 17 * tokens * hidden * width
    logits = tokens * int(arch.vocab_size) * (width + 4)  # the logits, and their fp32 copy for the loss
    per_gpu = states + activations + logits
    budget = gpu_memory_gib * GIB * MEMORY_HEADROOM
    return {"zero_stage": stage, "model_states_bytes": states, "activations_bytes": activations,
            "logits_bytes": logits, "per_gpu_bytes": per_gpu, "gpu_memory_bytes": int(gpu_memory_gib * GIB),
            "budget_bytes": int(budget), "cpu_bytes_per_node": cpu, "cpu_bytes_per_node_without_zero_init":
            cpu_without_zero_init, "passed": per_gpu <= budget}


def _single_process_group() -> None:
    """A one-rank process group on a free port (the dry run is not started by a launcher)."""
    import deepspeed

    if "MASTER_PORT" not in os.environ:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            os.environ["MASTER_PORT"] = str(sock.getsockname()[1])
    for name, value in {"MASTER_ADDR": "127.0.0.1", "RANK": "0", "WORLD_SIZE": "1", "LOCAL_RANK": "0"}.items():
        os.environ.setdefault(name, value)
    deepspeed.init_distributed(dist_backend="nccl" if _on_gpu() else "gloo")


def _on_gpu() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def scaled_engine(config: TrainConfig, arch: Any, seq_len: int = 64) -> dict[str, Any]:
    """Build the scaled-down copy under the run's DeepSpeed config (one rank) and take one optimizer step."""
    import deepspeed
    import torch
    from transformers import AutoModelForCausalLM

    _single_process_group()
    ds = deepspeed_dict(config, world_size=1)
    scaled = arch.__class__.from_dict({**arch.to_dict(), **SCALED})
    context = zero3_context(ds) if zero_stage(ds) == 3 else None
    started = time.perf_counter()
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(scaled, dtype=torch.float32)
    if config.gradient_checkpointing:
        enable_gradient_checkpointing(model)
    engine, *_ = deepspeed.initialize(model=model, model_parameters=list(model.parameters()), config=ds)
    losses = []
    for _ in range(config.grad_accum_steps):  # one optimizer step: DeepSpeed steps at the accumulation boundary
        batch = torch.randint(0, scaled.vocab_size, (config.micro_batch_size, seq_len), device=engine.device)
        loss = engine(input_ids=batch, labels=batch).loss
        engine.backward(loss)
        engine.step()
        losses.append(float(loss.detach()))
    built = describe(model, ds)
    del context
    return {**built, "architecture": {k: getattr(scaled, k) for k in
                                      ("model_type", "hidden_size", "num_hidden_layers", "num_attention_heads",
                                       "num_key_value_heads", "vocab_size")},
            "micro_steps": len(losses), "optimizer_steps": int(engine.global_steps), "loss": losses[-1],
            "precision": config.precision, "bf16_engine": bool(engine.bfloat16_enabled()),
            "seconds": time.perf_counter() - started,
            "passed": int(engine.global_steps) == 1 and all(math.isfinite(x) for x in losses)}


def dry_run(config: TrainConfig, gpus: int, nodes: int, seq_len: int | None, tokens: float,
            gpu_memory_gib: float, engine: bool = True) -> dict[str, Any]:
    """Every check of the module docstring; ``passed`` is their conjunction."""
    if seq_len is None:
        manifest = Path(config.data.manifest)
        if not manifest.is_file():
            raise ValueError(f"no mixture at {manifest}: give --seq-len (the export's seq_len) for the dry run")
        seq_len = PackedMixture(manifest).seq_len
    arch = architecture(config)
    total, largest = parameters(arch)
    ds = deepspeed_dict(config, gpus * nodes)
    report: dict[str, Any] = {
        "config": config.run_name, "deepspeed_config": config.deepspeed_config, "gpus_per_node": gpus, "nodes": nodes,
        "parameters": total, "largest_layer_parameters": largest, "deepspeed_train_batch_size":
        ds["train_batch_size"], "batch": batch_plan(config, gpus * nodes, seq_len, tokens),
        "memory": memory_plan(ds, arch, total, largest, config, seq_len, gpus, nodes, gpu_memory_gib)}
    if engine:
        report["scaled_engine"] = scaled_engine(config, arch)
    report["passed"] = all(part["passed"] for part in report.values() if isinstance(part, dict) and "passed" in part)
    return report


def _print(report: dict[str, Any]) -> None:
    batch, memory = report["batch"], report["memory"]
    print(f"[dry-run] {report['config']}: {report['parameters'] / 1e9:.2f}B parameters (largest layer "
          f"{report['largest_layer_parameters'] / 1e6:.0f}M) on {report['nodes']} x {report['gpus_per_node']} GPUs")
    print(f"[dry-run] batch: {batch['global_batch_sequences']} sequences x {batch['seq_len']} = "
          f"{batch['tokens_per_step']:,} tokens/step; {batch['target_tokens']:.3g} tokens need "
          f"{batch['steps_needed']:,} steps, max_steps {batch['max_steps']:,}; warmup "
          f"{batch['warmup_tokens'] / 1e9:.2f}B tokens -> {'ok' if batch['passed'] else 'FAILED'}")
    print(f"[dry-run] memory per GPU (ZeRO-{memory['zero_stage']}): model states "
          f"{memory['model_states_bytes'] / GIB:.1f} GiB + activations {memory['activations_bytes'] / GIB:.1f} + "
          f"logits {memory['logits_bytes'] / GIB:.1f} = "
          f"{memory['per_gpu_bytes'] / GIB:.1f} GiB of {memory['budget_bytes'] / GIB:.1f} usable; CPU per node "
          f"{memory['cpu_bytes_per_node'] / GIB:.1f} GiB with zero.Init "
          f"({memory['cpu_bytes_per_node_without_zero_init'] / GIB:.0f} without) -> "
          f"{'ok' if memory['passed'] else 'FAILED'}")
    if "scaled_engine" in report:
        scaled = report["scaled_engine"]
        print(f"[dry-run] scaled engine: {scaled['parameters']:,} parameters, ZeRO-{scaled['zero_stage']}, "
              f"bf16 {scaled['bf16_engine']}, gradient checkpointing {scaled['gradient_checkpointing']}, "
              f"{scaled['optimizer_steps']} optimizer step in {scaled['seconds']:.1f} s, loss {scaled['loss']:.3f} -> "
              f"{'ok' if scaled['passed'] else 'FAILED'}")
    print(f"[dry-run] {'PASSED' if report['passed'] else 'FAILED'}")


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, run the checks, print them (and write ``--json``); 0 when all pass."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default="llama3_8b_h100", help="configs/<name>.yaml or a path")
    parser.add_argument("--override", action="append", default=[], help="dotted key=value (repeatable)")
    parser.add_argument("--gpus", type=int, default=8, help="GPUs per node")
    parser.add_argument("--nodes", type=int, default=1)
    parser.add_argument("--seq-len", type=int, default=None, help="the mixture's sequence length (default: read "
                        "from data.manifest)")
    parser.add_argument("--tokens", type=float, default=40e9, help="tokens the run must cover")
    parser.add_argument("--gpu-memory-gib", type=float, default=80.0, help="memory of one GPU (H100: 80)")
    parser.add_argument("--no-engine", action="store_true", help="skip the scaled-down engine step")
    parser.add_argument("--json", type=Path, default=None, help="write the report here")
    args = parser.parse_args(argv)
    config = load_config(args.config, args.override)
    report = dry_run(config, args.gpus, args.nodes, args.seq_len, args.tokens, args.gpu_memory_gib,
                     engine=not args.no_engine)
    _print(report)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, default=str))
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
