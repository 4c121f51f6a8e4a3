"""Launcher lookup by name, shared by the DeepSpeed operator and its trigger."""

from __future__ import annotations

from typing import Any

from boostqa.launch.cluster import KubernetesLauncher, SlurmLauncher
from boostqa.launch.local import LocalLauncher

LAUNCHERS = ("local", "kubernetes", "slurm")


def launcher_for(name: str) -> Any:
    """A launcher: ``local`` (embedded default), ``kubernetes`` or ``slurm``.

    Raises:
        ValueError: an unknown name.
    """
    if name == "local":
        return LocalLauncher()
    if name == "kubernetes":
        return KubernetesLauncher()
    if name == "slurm":
        return SlurmLauncher()
    raise ValueError(f"unknown launcher {name!r}; choose one of {LAUNCHERS}")
