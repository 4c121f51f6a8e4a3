"""Training config: defaults, a delta config, dotted overrides; unknown keys are refused."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from training.config import apply_overrides, deepspeed_config_path, load_config


def test_a_delta_config_changes_only_what_it_names() -> None:
    config = load_config("cpu_smoke", ["data.manifest=/m.json"])
    assert config.model.source == "tiny" and config.max_steps == 12
    assert config.optim.weight_decay == 0.1 and config.data.seed == 1234  # from defaults.yaml
    assert deepspeed_config_path(config).name == "ds_cpu_zero2.json" and deepspeed_config_path(config).exists()
    default = load_config("cpu_smollm2")  # the embedded default: one rank, nothing for ZeRO to partition
    assert json.loads(deepspeed_config_path(default).read_text())["zero_optimization"]["stage"] == 0


def test_dotted_overrides_parse_yaml_scalars() -> None:
    config = load_config("cpu_smoke", ["optim.lr=1e-4", "max_steps=3", "optim.betas=[0.8, 0.9]", "export_hf=false"])
    assert config.optim.lr == 1e-4 and config.max_steps == 3 and config.optim.betas == (0.8, 0.9)
    assert config.export_hf is False


def test_the_production_config_documents_its_batch_arithmetic() -> None:
    config = load_config("llama3_8b_h100")
    tokens_per_step = 8192 * config.micro_batch_size * config.grad_accum_steps * 8
    assert tokens_per_step == 1_048_576
    assert config.max_steps == -(-40_000_000_000 // tokens_per_step)  # ceil: a 40B-token run
    assert config.precision == "bf16" and deepspeed_config_path(config).name == "ds_h100_zero3.json"


def test_bad_overrides_and_unknown_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="key=value"):
        apply_overrides({}, ["optim.lr"])
    with pytest.raises(ValidationError, match="learning_rate"):
        load_config("cpu_smoke", ["optim.learning_rate=1"])
