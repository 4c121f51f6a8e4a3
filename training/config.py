"""Typed training config: YAML files (one defaults block, delta configs) plus dotted command-line overrides."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

CONFIG_DIR = Path(__file__).parent / "configs"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ModelConfig(_Strict):
    """Where the weights come from: an HF folder, or a tiny random-init Llama for smoke tests."""

    source: Literal["hf", "tiny"] = "hf"
    path: str | None = Field(default=None, description="HF model folder (source hf)")
    hidden_size: int = 64
    layers: int = 2
    heads: int = 4
    vocab_size: int | None = Field(default=None, description="tiny models: defaults to the mixture's vocabulary")
    architecture: str | None = Field(default=None, description="an HF config.json of the model (file under "
                                     "configs/ or a path): what a dry run builds where model.path is not present")


class DataConfig(_Strict):
    """The packed mixture: its manifest (local path) and the order it is read in."""

    manifest: str = Field(description="mixture manifest.json written by the export operator")
    seed: int = Field(default=1234, description="seed of the sequence order (same seed, same order on resume)")


class OptimConfig(_Strict):
    """AdamW with linear warmup and cosine decay to ``min_lr_ratio`` of the peak."""

    lr: float = 3e-4
    weight_decay: float = 0.1
    betas: tuple[float, float] = (0.9, 0.95)
    warmup_steps: int = 10
    min_lr_ratio: float = 0.1
    grad_clip: float = 1.0


class TrainConfig(_Strict):
    """One training run."""

    run_name: str = "midtrain"
    output_dir: str = "checkpoints/midtrain"
    deepspeed_config: str = Field(default="ds_data_parallel.json", description="file under training/configs/ or a path")
    model: ModelConfig = Field(default_factory=ModelConfig)
    data: DataConfig
    optim: OptimConfig = Field(default_factory=OptimConfig)
    micro_batch_size: int = 1
    grad_accum_steps: int = 1
    max_steps: int = 20
    checkpoint_every: int = 10
    keep_checkpoints: int = Field(default=2, ge=2, description="newest checkpoints kept (each sealed with its files' "
                                  "sha256); older ones are deleted. At least 2: a damaged newest one falls back")
    log_every: int = 1
    precision: Literal["fp32", "bf16"] = "fp32"
    gradient_checkpointing: bool = Field(default=False, description="HF gradient checkpointing: recompute each "
                                         "layer's activations in the backward pass (memory for time)")
    export_hf: bool = True
    heldout: dict[str, str] = Field(default_factory=dict, description="held-out sets (name: .npy of documents, "
                                    "one per row, -1 padded) whose losses are taken before and after training")
    export_check_tokens: int = Field(default=32, ge=0, description="tokens of the first packed sequence on which "
                                     "the reloaded HF export must give the live model's logits (0: no check)")


def _merge(base: dict[str, Any], delta: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in delta.items():
        merged[key] = _merge(merged[key], value) if isinstance(value, dict) and isinstance(merged.get(key),
                                                                                            dict) else value
    return merged


def _parse_value(text: str) -> Any:
    return yaml.safe_load(text)  # "3e-4" -> float, "true" -> bool, "[1, 2]" -> list, else the string


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply ``a.b.c=value`` overrides (values parsed as YAML scalars).

    Raises:
        ValueError: an override is not ``key=value``.
    """
    result = dict(raw)
    for override in overrides:
        key, sep, value = override.partition("=")
        if not sep or not key:
            raise ValueError(f"override {override!r} is not key=value (e.g. optim.lr=1e-4)")
        delta: dict[str, Any] = {}
        node = delta
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = _parse_value(value)
        result = _merge(result, delta)
    return result


def load_config(name_or_path: str, overrides: list[str] | None = None) -> TrainConfig:
    """``defaults.yaml``, then the named delta config (``configs/<name>.yaml`` or a path), then overrides."""
    raw = yaml.safe_load((CONFIG_DIR / "defaults.yaml").read_text()) or {}
    path = Path(name_or_path)
    if not path.suffix:
        path = CONFIG_DIR / f"{name_or_path}.yaml"
    if path.name != "defaults.yaml":
        raw = _merge(raw, yaml.safe_load(path.read_text()) or {})
    return TrainConfig.model_validate(apply_overrides(raw, overrides or []))


def deepspeed_config_path(config: TrainConfig) -> Path:
    """The DeepSpeed JSON of a run: a file name under ``configs/`` or a path."""
    path = Path(config.deepspeed_config)
    return path if path.is_absolute() or path.exists() else CONFIG_DIR / path
