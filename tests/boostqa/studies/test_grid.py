"""The sweep's params and grid: sizes, budgets and volumes make bases and paired arms; bad values are refused."""

from __future__ import annotations

import pytest

from boostqa.errors import ConfigError
from boostqa.studies.grid import SweepRunConfig, bases, cells


def test_the_default_grid_pairs_every_base_and_volume_with_a_control() -> None:
    config = SweepRunConfig.from_params({})
    assert [b.base_id for b in bases(config)] == ["64x2-b0", "64x2-b65536", "128x2-b0", "128x2-b65536", "256x2-b0",
                                                  "256x2-b65536"]
    assert [b.pretrained for b in bases(config)] == [False, True] * 3  # budget 0: the seeded init, no pre-training
    grid = cells(config)
    assert len(grid) == 6 * 2 * 2
    assert grid[0].cell_id == "64x2-b0-d8192-boostqa" and grid[1].cell_id == "64x2-b0-d8192-control"
    assert {c.blend for c in grid} == {"boostqa-d8192", "control-d8192", "boostqa-d32768", "control-d32768"}


def test_params_come_as_airflow_renders_them_and_named_checkpoints_replace_sizes() -> None:
    config = SweepRunConfig.from_params({"sizes": "32x1, 48x2", "base_tokens": "4096,0", "boostqa_tokens": "[512]",
                                         "base_checkpoints": ""})
    assert config.sizes == ["32x1", "48x2"] and config.base_tokens == [0, 4096] and config.boostqa_tokens == [512]
    named = SweepRunConfig.from_params({"base_checkpoints": "/models/llama-1b,/models/llama-8b"})
    assert [(b.base_id, b.checkpoint, b.pretrained) for b in bases(named)] == [
        ("ckpt0-llama-1b", "/models/llama-1b", False), ("ckpt1-llama-8b", "/models/llama-8b", False)]
    assert len(cells(named)) == 2 * 2 * 2


@pytest.mark.parametrize(("params", "message"), [
    ({"sizes": "64"}, "hidden x layers"),
    ({"sizes": "40x2"}, "multiple of 16"),
    ({"boostqa_tokens": "512,512"}, "distinct"),
    ({"base_tokens": "-1"}, "non-negative"),
    ({"launcher": "ssh"}, "launcher must be one of"),
])
def test_bad_params_are_refused_with_what_to_change(params: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        SweepRunConfig.from_params(params)
