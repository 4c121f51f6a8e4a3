"""What every study run may vary: its mixture, tokenization, held-out split, batch, and where its runs execute."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, field_validator

from boostqa.launch.config import LAUNCHERS
from boostqa.stage_config import StageConfig


class StudyRunConfig(StageConfig):
    """The params a scaling sweep and an anneal probe share (each adds its own)."""

    stage: ClassVar[str] = "study"

    mixture_version: str = Field("", pattern=r"^([A-Za-z0-9][A-Za-z0-9_.=-]{0,127})?$",
                                 description="the mixture whose BoostQA items the study trains on; empty: the "
                                 "triggering training_mixture event's, else the newest (mixtures/latest.json)")
    seq_len: int = Field(128, ge=16, description="tokens per packed sequence")
    micro_batch_size: int = Field(4, ge=1)
    lr: float = Field(3e-3, gt=0, description="peak learning rate of every run")
    heldout_fraction: float = Field(0.1, gt=0, lt=1, description="share of documents held out of training, by a "
                                    "stable hash of their sample id")
    heldout_docs: int = Field(64, ge=1, description="held-out documents scored per set (BoostQA, general)")
    train_config: str = Field("cpu_study", pattern=r"^[A-Za-z0-9_./+-]+$", description="training/configs/<name>.yaml "
                              "every run starts from")
    launcher: str = Field("local", description="where the runs execute", json_schema_extra={"enum": list(LAUNCHERS)})
    nproc_per_node: int = Field(1, ge=1, description="ranks per run")
    tokenizer_dir: str = Field("", description="HF folder of the tokenizer (default: the embedded stack's model)")

    @field_validator("launcher")
    @classmethod
    def _launcher(cls, name: str) -> str:
        if name not in LAUNCHERS:
            raise ValueError(f"launcher must be one of {LAUNCHERS}, got {name!r}")
        return name

    def launch_settings(self) -> dict[str, Any]:
        """What every training run of the study is launched with (the training task's params besides its own)."""
        return {"config": self.train_config, "launcher": self.launcher, "nproc_per_node": self.nproc_per_node}

    @property
    def global_batch(self) -> int:
        """Sequences per optimizer step."""
        return self.micro_batch_size * self.nproc_per_node
