"""The scaling sweep's grid: its params, the bases it pre-trains and the cells (arms) it mid-trains.

A cell is (model size, base, BoostQA tokens, arm). The ``boostqa`` arm mid-trains the base on that many BoostQA tokens
plus ``general_ratio`` times as many general tokens; the ``control`` arm on general text alone, the same total. A base
is a size pre-trained on general text for ``base_tokens`` tokens (0: the size's seeded random init, no pre-training),
or in production a named checkpoint (``base_checkpoints``), which replaces sizes and budgets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from pydantic import Field, field_validator

from boostqa.studies.config import StudyRunConfig

SIZE = re.compile(r"^(\d+)x(\d+)$")  # hidden size x layers
ARMS = ("boostqa", "control")


class SweepRunConfig(StudyRunConfig):
    """What one scaling sweep may vary (the ``scaling_sweep`` DAG's params)."""

    stage: ClassVar[str] = "scaling sweep"

    sizes: list[str] = Field(default_factory=lambda: ["64x2", "128x2", "256x2"],
                             description="tiny Llama sizes, hidden x layers (heads: hidden / 16), one architecture")
    base_tokens: list[int] = Field(default_factory=lambda: [0, 65536], description="pre-training budgets of the "
                                   "bases on general text, in tokens (0: the seeded random init)")
    base_checkpoints: list[str] = Field(default_factory=list, description="production: HF folders of named base "
                                        "checkpoints; when given they are the bases (sizes and budgets unused)")
    boostqa_tokens: list[int] = Field(default_factory=lambda: [8192, 32768], description="BoostQA tokens in the "
                                      "mid-training mix, one column of the grid each")
    general_ratio: float = Field(1.0, ge=0, description="general tokens per BoostQA token in the boostqa arm")

    @field_validator("sizes")
    @classmethod
    def _sizes(cls, sizes: list[str]) -> list[str]:
        bad = [s for s in sizes if not SIZE.match(s) or int(s.split("x")[0]) % 16]
        if bad or not sizes:
            raise ValueError(f"sizes are hidden x layers with hidden a multiple of 16 (e.g. 64x2), got {bad or sizes}")
        return sizes

    @field_validator("base_tokens", "boostqa_tokens")
    @classmethod
    def _budgets(cls, values: list[int]) -> list[int]:
        if not values or any(v < 0 for v in values) or len(set(values)) != len(values):
            raise ValueError(f"token budgets must be distinct and non-negative, got {values}")
        return sorted(values)

    @field_validator("boostqa_tokens")
    @classmethod
    def _volumes(cls, values: list[int]) -> list[int]:
        if 0 in values:
            raise ValueError("boostqa_tokens must be above 0: the control arm of a volume trains on as many tokens")
        return values


@dataclass(frozen=True)
class Base:
    """A starting point of mid-training: a size pre-trained for ``base_tokens``, or a named checkpoint."""

    base_id: str
    size: str
    base_tokens: int
    checkpoint: str = ""  # a named HF folder (production)

    @property
    def hidden_layers(self) -> tuple[int, int]:
        """(hidden size, layers) of a tiny size; (0, 0) for a named checkpoint."""
        match = SIZE.match(self.size)
        return (int(match.group(1)), int(match.group(2))) if match else (0, 0)

    @property
    def pretrained(self) -> bool:
        """Whether the sweep itself pre-trains this base."""
        return not self.checkpoint and self.base_tokens > 0


@dataclass(frozen=True)
class Cell:
    """One mid-training run of the grid."""

    base: Base
    boostqa_tokens: int
    arm: str

    @property
    def cell_id(self) -> str:
        """e.g. ``64x2-b65536-d8192-boostqa``."""
        return f"{self.base.base_id}-d{self.boostqa_tokens}-{self.arm}"

    @property
    def blend(self) -> str:
        """The packed data the cell trains on (both arms of a volume share the sizes' blends)."""
        return f"{self.arm}-d{self.boostqa_tokens}"


def bases(config: SweepRunConfig) -> list[Base]:
    """Every base of the grid, pre-trained or named."""
    if config.base_checkpoints:
        names = [re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(path).name) for path in config.base_checkpoints]
        return [Base(f"ckpt{i}-{name}"[:48], name, 0, checkpoint=path)  # ids go into run ids and paths
                for i, (name, path) in enumerate(zip(names, config.base_checkpoints, strict=True))]
    return [Base(f"{size}-b{budget}", size, budget) for size in config.sizes for budget in config.base_tokens]


def cells(config: SweepRunConfig) -> list[Cell]:
    """Every (base, volume, arm) of the grid."""
    return [Cell(base, volume, arm) for base in bases(config) for volume in config.boostqa_tokens for arm in ARMS]
