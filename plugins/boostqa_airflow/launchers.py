"""Launcher lookup by name, shared by the DeepSpeed operator and its trigger."""

from __future__ import annotations

from typing import Any

from boostqa.launch.cluster import ClusterResources, KubernetesLauncher, SlurmLauncher
from boostqa.launch.local import LocalLauncher

LAUNCHERS = ("local", "kubernetes", "slurm")


def launcher_for(name: str, resources: ClusterResources | None = None) -> Any:
    """A launcher: ``local`` (embedded default), ``kubernetes`` or ``slurm``.

    The cluster ones run on ``resources``: image, GPUs, the mixture to sync.

    Raises:
        ValueError: an unknown name.
    """
    if name == "local":
        return LocalLauncher()
    if name == "kubernetes":
        return KubernetesLauncher(resources)
    if name == "slurm":
        return SlurmLauncher(resources)
    raise ValueError(f"unknown launcher {name!r}; choose one of {LAUNCHERS}")
