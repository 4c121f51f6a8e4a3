"""The training launch's run config: the midtrain DAG's params, typed and defaulted once."""

from __future__ import annotations

from typing import ClassVar, get_args

from pydantic import Field, field_validator

from boostqa.launch.spec import SAFE_PATH, LauncherName, SafeOverride
from boostqa.stage_config import StageConfig

LAUNCHERS: tuple[str, ...] = get_args(LauncherName)


class LaunchRunConfig(StageConfig):
    """What one training run may vary: the recipe, its overrides, the mixture, where and on how much it runs."""

    stage: ClassVar[str] = "train launch"

    config: str = Field("cpu_smollm2", pattern=SAFE_PATH, description="training/configs/<name>.yaml")
    overrides: list[SafeOverride] = Field(default_factory=list, description="comma-separated dotted overrides, e.g. "
                                          "max_steps=20 (key=value; values of letters, digits and _./:+,@%=[]-)")
    mixture_version: str = Field("", pattern=r"^([A-Za-z0-9][A-Za-z0-9_.=-]{0,127})?$",
                                 description="the exported mixture to train on; empty: the triggering "
                                 "training_mixture event's, else the newest (mixtures/latest.json)")
    launcher: str = Field("local", description="where the run executes", json_schema_extra={"enum": list(LAUNCHERS)})
    nproc_per_node: int = Field(1, ge=1, description="ranks (CPU processes or GPUs) per node")
    nodes: int = Field(1, ge=1, description="nodes of a kubernetes or slurm run")
    output_dir: str = Field("", pattern=f"^({SAFE_PATH.strip('^$')})?$",
                            description="where the run writes (default: <training_root>/checkpoints/<run>; must "
                            "be a folder the trainer and Airflow share; letters, digits and _./+=-)")

    @field_validator("launcher")
    @classmethod
    def _known_launcher(cls, name: str) -> str:
        if name not in LAUNCHERS:
            raise ValueError(f"launcher must be one of {LAUNCHERS}, got {name!r}")
        return name
