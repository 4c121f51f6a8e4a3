"""The trained model's life outside the loop: built (partitioned under ZeRO-3), exported as HF, and checked.

Under ZeRO-3 every rank must hold only its shard of the weights from the start, so the model is constructed inside
DeepSpeed's ``zero.Init`` (transformers applies it to ``from_pretrained``/``from_config`` while an
``HfDeepSpeedConfig`` is alive). Gradient checkpointing is HF's own switch: DeepSpeed's ``activation_checkpointing``
block only configures ``deepspeed.checkpointing``, which an HF model never calls. The export never reads the live
(partitioned) parameters: it consolidates the checkpoint's fp32 weights (``zero_to_fp32``) and hands them to
``save_pretrained`` as an explicit state dict; the export check then reloads the folder in plain transformers and
compares its logits with the live engine's on a fixed batch.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, cast

import numpy as np

from training.config import TrainConfig

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja")
PROBE = "export_probe.npz"  # the fixed batch and the live model's logits on it, for anyone to check the export again
# How far the reloaded export's logits may be from the live engine's: fp32 differs only by reduction order; a bf16
# engine's weights are the fp32 export rounded to bf16 (reloaded in bf16 for the check), its kernels are coarser.
TOLERANCE = {"fp32": 1e-4, "bf16": 3e-2}


def zero_stage(ds: dict[str, Any]) -> int:
    """The ZeRO stage a DeepSpeed config asks for (0 when it has no ``zero_optimization`` block)."""
    return int(ds.get("zero_optimization", {}).get("stage", 0))


def zero3_context(ds: dict[str, Any]) -> Any:
    """Tell transformers the run is ZeRO-3, so models it builds are partitioned at construction (zero.Init).

    The returned object must stay referenced while the model is built; :func:`forget_zero3` ends it.
    """
    from transformers.integrations.deepspeed import HfDeepSpeedConfig

    return HfDeepSpeedConfig(ds)


def forget_zero3() -> None:
    """End :func:`zero3_context`: a model loaded after this (the export check) is a plain, whole one."""
    from transformers.integrations.deepspeed import unset_hf_deepspeed_config

    unset_hf_deepspeed_config()


def _tiny_config(config: TrainConfig, vocab_size: int) -> Any:
    from transformers import LlamaConfig

    model = config.model
    return LlamaConfig(vocab_size=model.vocab_size or vocab_size, hidden_size=model.hidden_size,
                       intermediate_size=model.hidden_size * 4, num_hidden_layers=model.layers,
                       num_attention_heads=model.heads, num_key_value_heads=model.heads,
                       max_position_embeddings=4096, tie_word_embeddings=True)


def build_model(config: TrainConfig, vocab_size: int) -> Any:
    """The HF model of the config, or a tiny random-init Llama (smoke tests).

    Partitioned while a ZeRO-3 context is alive; HF gradient checkpointing on when the config asks for it.
    """
    import torch
    from transformers import AutoModelForCausalLM

    if config.model.source == "hf":
        if not config.model.path:
            raise ValueError("model.source=hf needs model.path (an HF folder)")
        model = AutoModelForCausalLM.from_pretrained(config.model.path, dtype=torch.float32)
    else:
        torch.manual_seed(0)
        model = AutoModelForCausalLM.from_config(_tiny_config(config, vocab_size), dtype=torch.float32)
    if config.gradient_checkpointing:
        enable_gradient_checkpointing(model)
    return model


def enable_gradient_checkpointing(model: Any) -> None:
    """Switch on HF gradient checkpointing (and off the KV cache it cannot use).

    Non-reentrant: the re-entrant variant drops gradients of inputs that need none (the embeddings' output under a
    frozen or partitioned table) and is deprecated by torch.
    """
    model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    model.config.use_cache = False


def fp32_state_dict(output: Path, tag: str) -> dict[str, Any]:
    """The weights of checkpoint ``tag`` as fp32.

    ZeRO's partitioned fp32 optimizer states (stages 1-3) consolidated by zero_to_fp32, or, for a ZeRO stage 0
    checkpoint (no optimizer-state partitions), the whole module state it saves per model rank, upcast (in a bf16 run
    those are the bf16 weights, which is what the HF export saves anyway).
    """
    import torch
    from deepspeed.utils.zero_to_fp32 import get_fp32_state_dict_from_zero_checkpoint

    folder = output / tag
    if any(folder.glob("*optim_states.pt")):
        return cast(dict[str, Any], get_fp32_state_dict_from_zero_checkpoint(str(output), tag=tag))
    saved = torch.load(folder / "mp_rank_00_model_states.pt", map_location="cpu", weights_only=False)  # our own file
    return {name: tensor.float() for name, tensor in saved["module"].items()}


def export_hf(model: Any, output: Path, tag: str, tokenizer_folder: Path | None) -> Path:
    """Save checkpoint ``tag`` as an HF folder ``output/hf`` from its fp32 weights (rank 0).

    ``model`` lends only its class, config and tied-weight names: under ZeRO-3 its own parameters are empty shards.
    """
    target = output / "hf"
    partial = output / "hf.partial"
    shutil.rmtree(partial, ignore_errors=True)
    model.save_pretrained(partial, state_dict=fp32_state_dict(output, tag), safe_serialization=True)
    if tokenizer_folder is not None:
        for name in TOKENIZER_FILES:
            if (tokenizer_folder / name).exists():
                shutil.copy(tokenizer_folder / name, partial / name)
    shutil.rmtree(target, ignore_errors=True)
    partial.rename(target)
    return target


def live_logits(engine: Any, probe: np.ndarray) -> np.ndarray:
    """The engine's logits on ``probe`` (every rank calls this: under ZeRO-3 the forward gathers the shards)."""
    import torch

    engine.eval()
    with torch.no_grad():
        batch = torch.as_tensor(probe, device=engine.device)
        logits = engine(input_ids=batch).logits.float().cpu().numpy()
    engine.train()
    return cast(np.ndarray, logits)


def check_export(folder: Path, probe: np.ndarray, expected: np.ndarray, precision: str) -> dict[str, Any]:
    """Reload the HF export in plain transformers and compare its logits on ``probe`` with the live engine's.

    Writes ``export_probe.npz`` beside the folder (probe and live logits) and returns the check's numbers.

    Raises:
        RuntimeError: the logits differ by more than the precision's tolerance (the export is not the trained
            model: a weight was lost or mis-mapped on the way).
    """
    import torch
    from transformers import AutoModelForCausalLM

    np.savez(folder.parent / PROBE, input_ids=probe, logits=expected)
    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    reloaded = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype).eval()
    with torch.no_grad():
        logits = reloaded(input_ids=torch.as_tensor(probe)).logits.float().numpy()
    scale = float(np.abs(expected).max()) or 1.0
    diff = float(np.abs(logits - expected).max())
    result = {"tokens": int(probe.size), "max_abs_diff": diff, "logit_scale": scale,
              "tolerance": TOLERANCE[precision], "passed": diff <= TOLERANCE[precision] * max(scale, 1.0)}
    (folder.parent / "export_check.json").write_text(json.dumps(result, indent=1))
    if not result["passed"]:
        raise RuntimeError(f"the HF export in {folder} does not reproduce the trained model: its logits differ by "
                           f"{diff:.3g} (largest logit {scale:.3g}, tolerance {TOLERANCE[precision]} of it); the "
                           "checkpoints are intact, export again from the last one")
    return result


def describe(model: Any, ds: dict[str, Any]) -> dict[str, Any]:
    """What the run really built: ZeRO stage, parameters in all and held by this rank, gradient checkpointing.

    Under ZeRO-3 a parameter's ``ds_numel`` is its full size and ``ds_tensor`` this rank's shard; a rank holding
    all of them was not partitioned.
    """
    total = held = 0
    for param in model.parameters():
        total += int(getattr(param, "ds_numel", param.numel()))
        shard = getattr(param, "ds_tensor", None)
        held += int(shard.numel()) if shard is not None else int(param.numel())
    return {"zero_stage": zero_stage(ds), "parameters": total, "parameters_on_rank0": held,
            "gradient_checkpointing": bool(getattr(model, "is_gradient_checkpointing", False))}
