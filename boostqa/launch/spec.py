"""What a training launch needs, whatever runs it, and what its status file says."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal, Protocol

from pydantic import BaseModel, Field, StringConstraints, field_validator

RunState = Literal["submitted", "starting", "running", "succeeded", "failed", "cancelled"]
LauncherName = Literal["local", "kubernetes", "slurm"]
# Launch params reach shells (sbatch scripts) and pod specs: each must match one of these patterns, so that no value
# can carry a command ($(...), `...`, ;, |, &, newlines), a YAML break or a leading "-" (an option). Renderers quote
# and serialize as well (boostqa/launch/cluster.py): a value these patterns let through is inert twice over.
SAFE_PATH = r"^[A-Za-z0-9_./+][A-Za-z0-9_./+=-]{0,1023}$"
SAFE_OVERRIDE = r"^[A-Za-z_][A-Za-z0-9_.]*=[A-Za-z0-9_./:+,@%=\[\]-]{0,1023}$"
SAFE_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
SafePath = Annotated[str, StringConstraints(pattern=SAFE_PATH)]
SafeOverride = Annotated[str, StringConstraints(pattern=SAFE_OVERRIDE)]


class LaunchSpec(BaseModel):
    """One training run: the config, its overrides, the world size and where it writes."""

    run_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
    config: SafePath = Field(description="training/configs/<name>.yaml or a path")
    overrides: list[SafeOverride] = Field(default_factory=list, description="dotted key=value overrides")
    nproc_per_node: int = Field(default=1, ge=1, le=1024)
    nodes: int = Field(default=1, ge=1, le=100_000)
    output_dir: SafePath = Field(description="checkpoints, metrics, status.json and the HF folder land here")
    env: dict[str, str] = Field(default_factory=dict, description="extra environment of a local run")

    @field_validator("env")
    @classmethod
    def _env_names(cls, env: dict[str, str]) -> dict[str, str]:
        bad = [name for name, value in env.items() if not SAFE_ENV_NAME.match(name) or "\n" in value or "\0" in value]
        if bad:
            raise ValueError(f"environment names must be UPPER_SNAKE_CASE and values one line: {bad}")
        return env

    @property
    def job_name(self) -> str:
        """A DNS-1123 name for schedulers (Kubernetes, Slurm)."""
        return re.sub(r"[^a-z0-9-]+", "-", f"boostqa-train-{self.run_id}".lower()).strip("-")[:63]

    def train_args(self) -> list[str]:
        """Arguments of ``training.train`` (the output directory always comes from the spec)."""
        args = ["--config", self.config]
        for override in [*self.overrides, f"output_dir={self.output_dir}"]:
            args += ["--override", override]
        return args


class RunStatus(BaseModel):
    """The trainer's status file, or what the launcher knows before it exists."""

    state: RunState
    step: int | None = None
    max_steps: int | None = None
    loss: float | None = None
    loss_first: float | None = None
    loss_last: float | None = None
    hf_folder: str | None = None
    error: str | None = None
    mixture_version: str | None = None  # what the trainer trained on (its manifest's version and sha256)
    manifest_sha256: str | None = None

    @property
    def finished(self) -> bool:
        """True once the run can no longer change state."""
        return self.state in ("succeeded", "failed", "cancelled")


def read_status_file(output_dir: Path) -> RunStatus | None:
    """The status the trainer's rank 0 wrote (``training/status.py``), if any."""
    path = output_dir / "status.json"
    if not path.exists():
        return None
    raw: dict[str, Any] = json.loads(path.read_text())
    return RunStatus.model_validate({k: v for k, v in raw.items() if k in RunStatus.model_fields})


def retire_finished_status(output_dir: Path) -> bool:
    """Before a run is (re)submitted into ``output_dir``: move a finished status left by an earlier attempt aside.

    It becomes ``status.previous.json``, so the watcher waits for this attempt instead of reporting the old outcome.
    Returns whether one was moved.
    """
    status = read_status_file(output_dir)
    if status is None or not status.finished:
        return False
    (output_dir / "status.json").replace(output_dir / "status.previous.json")
    return True


class Launcher(Protocol):
    """What runs a training launch: torchrun on this machine, a Kubernetes Job, a Slurm batch job.

    ``handle`` is what :meth:`submit` returned (a PID, a Job name, a Slurm job id); ``status`` and ``cancel`` also
    find a run by its spec alone, since an Airflow task resumed after a deferral no longer holds the handle.
    """

    def submit(self, spec: LaunchSpec) -> str:
        """Start the run; returns its handle."""
        ...

    def status(self, handle: str, spec: LaunchSpec) -> RunStatus:
        """Where the run stands (its status file once the trainer wrote one)."""
        ...

    def cancel(self, handle: str, spec: LaunchSpec) -> None:
        """Stop the run (idempotent)."""
        ...
