"""``TrainerHook``: a launcher name (and a cluster run's resources) -> a typed :class:`Launcher`."""

from __future__ import annotations

from airflow.sdk import BaseHook

from boostqa.launch.cluster import ClusterResources, KubernetesLauncher, SlurmLauncher
from boostqa.launch.config import LAUNCHERS
from boostqa.launch.local import LocalLauncher
from boostqa.launch.spec import Launcher


def launcher_for(name: str, resources: ClusterResources | None = None) -> Launcher:
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


class TrainerHook(BaseHook):
    """Where training runs execute, shared by the DeepSpeed operator and its trigger (one lookup, one type)."""

    hook_name = "BoostQA trainer launcher"

    def __init__(self, launcher: str, resources: ClusterResources | None = None) -> None:
        super().__init__()
        self.launcher, self.resources = launcher, resources

    def get_conn(self) -> Launcher:
        """The launcher (cluster resources are needed to submit, not to poll or cancel)."""
        return launcher_for(self.launcher, self.resources)
