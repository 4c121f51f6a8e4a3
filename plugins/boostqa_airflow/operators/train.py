"""The deferrable DeepSpeed operator (launch a run, wait in the triggerer) and the publisher of its results."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException

from boostqa.errors import ConfigError, LakeError
from boostqa.export.mixture import fetch_packed
from boostqa.lake.versions import resolve_version, write_pointer
from boostqa.launch.cluster import ClusterResources
from boostqa.launch.config import LaunchRunConfig
from boostqa.launch.metrics import publish_training_metrics
from boostqa.launch.spec import LaunchSpec, RunStatus, retire_finished_status
from boostqa.runs import check_id
from boostqa.settings import get_settings
from boostqa_airflow.constants import S3_CONN_ID
from boostqa_airflow.failfast import fails_fast
from boostqa_airflow.hooks.lake import LakeHook
from boostqa_airflow.hooks.trainer import launcher_for
from boostqa_airflow.params import validated
from boostqa_airflow.runs import from_asset_events, hand_over
from boostqa_airflow.triggers.training import TrainingRunTrigger


@fails_fast
class DeepSpeedTrainOperator(BaseOperator):
    """Submit ``training.train`` through a launcher and defer until its status file says it finished."""

    run_config: ClassVar[type[LaunchRunConfig]] = LaunchRunConfig  # the DAG's params derive from it
    template_fields: Sequence[str] = ("run_id", "stage_params")

    def __init__(self, *, run_id: str, stage_params: Mapping[str, Any] | None = None, poll_seconds: float = 15.0,
                 timeout: timedelta = timedelta(days=14), lake_conn_id: str = S3_CONN_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.run_id, self.stage_params, self.lake_conn_id = run_id, dict(stage_params or {}), lake_conn_id
        self.poll_seconds, self.timeout = poll_seconds, timeout
        self._handle: str | None = None

    @property
    def launch(self) -> LaunchRunConfig:
        """The run's typed params (rendered templates); a bad one fails the task without retries."""
        return validated(self.run_config, self.stage_params)

    def _mixture_dir(self, mixture_version: str) -> Path:
        """Where the trainer reads the mixture.

        The local export (local launcher), or the copy a cluster run syncs from S3 into the shared training folder
        (its Job's init container, its sbatch script).
        """
        settings = get_settings()
        root = settings.state_dir if self.launch.launcher == "local" else settings.training_dir
        return root.resolve() / "mixtures" / mixture_version

    def _resolve_mixture(self, context: Any) -> str:
        """The mixture to train on.

        The param, else the triggering ``training_mixture`` event's, else the newest published one
        (``mixtures/latest.json``).
        """
        explicit = self.launch.mixture_version or from_asset_events(context, "mixture_version")
        if explicit:
            return check_id(explicit, "mixture version")
        return resolve_version(LakeHook(self.lake_conn_id).get_conn(), "mixtures")

    def _spec(self, mixture_version: str) -> LaunchSpec:
        """The launch; the output folder defaults to ``training_dir/checkpoints/<run>``.

        Absolute, so the worker, the triggerer and the trainer agree. The run id is new for every DAG run, so a second
        run never resumes another's checkpoints unless its ``resume_run_id`` param names that run.
        """
        launch = self.launch
        manifest = f"data.manifest={self._mixture_dir(mixture_version) / 'manifest.json'}"
        output_dir = launch.output_dir or str(get_settings().training_dir.resolve() / "checkpoints" / self.run_id)
        return LaunchSpec(run_id=self.run_id, config=launch.config, overrides=[manifest, *launch.overrides],
                          nproc_per_node=launch.nproc_per_node, nodes=launch.nodes, output_dir=output_dir)

    def _resources(self, mixture_version: str) -> ClusterResources | None:
        """A cluster run's resources.

        Image and node size from the settings, GPUs per node from ``nproc_per_node``, and the mixture to sync from the
        lake.
        """
        if self.launch.launcher == "local":
            return None
        trainer = get_settings().trainer  # BOOSTQA_TRAINER__IMAGE, __CPUS, __MEMORY
        return ClusterResources(image=trainer.image, cpus=trainer.cpus, memory=trainer.memory,
                                gpus_per_node=self.launch.nproc_per_node,
                                mixture_dir=str(self._mixture_dir(mixture_version)),
                                mixture_uri=self._mixture_uri(mixture_version))

    def _mixture_uri(self, mixture_version: str) -> str:
        """Where a cluster run syncs its data from: the version's folder in the lake."""
        return LakeHook(self.lake_conn_id).get_config().uri(f"mixtures/{mixture_version}/")

    def execute(self, context: Any) -> None:
        launcher = self.launch.launcher
        try:
            mixture_version = self._resolve_mixture(context)
            spec = self._spec(mixture_version)
            if retire_finished_status(Path(spec.output_dir)):  # a resumed run: its earlier attempt had finished
                self.log.info("training %s resumes in %s (its earlier status moved to status.previous.json)",
                              spec.run_id, spec.output_dir)
            local_copy = self._mixture_dir(mixture_version) / "manifest.json"
            own_manifest = any(o.strip().startswith("data.manifest=") for o in self.launch.overrides)
            if launcher == "local" and not own_manifest and not local_copy.exists():
                # An export on Ray Data wrote only to the lake. (A version is immutable: a local copy with its
                # manifest is that version; the trainer checks every shard's sha256 before its first step.)
                fetch_packed(LakeHook(self.lake_conn_id).get_conn(), mixture_version,
                             self._mixture_dir(mixture_version))
            self._handle = launcher_for(launcher, self._resources(mixture_version)).submit(spec)
        except ConfigError as exc:
            raise AirflowFailException(str(exc)) from exc
        self.log.info("training %s on mixture %s submitted via %s (handle %s), output %s", spec.run_id,
                      mixture_version, launcher, self._handle, spec.output_dir)
        self.defer(trigger=TrainingRunTrigger(launcher, self._handle, spec.model_dump(), self.poll_seconds),
                   method_name="execute_complete", timeout=self.timeout, kwargs={"mixture_version": mixture_version})

    def execute_complete(self, context: Any, event: dict[str, Any], mixture_version: str = "") -> dict[str, Any]:
        status = RunStatus.model_validate(event)
        if status.state != "succeeded":
            raise AirflowFailException(f"training {self.run_id} ended {status.state}: {status.error}")
        self.log.info("training %s succeeded: loss %s -> %s, HF folder %s", self.run_id, status.loss_first,
                      status.loss_last, status.hf_folder)
        # what the metrics publisher downstream needs to find the run (XCom)
        # The trainer's own record first: under `airflow dags test` a resumed deferral gets the event only, not the
        # kwargs it deferred with.
        mixture_version = status.mixture_version or mixture_version or self.launch.mixture_version
        return status.model_dump() | {"run_id": self.run_id, "config": self.launch.config,
                                      "mixture_version": mixture_version,
                                      "output_dir": self._spec(mixture_version).output_dir}

    def on_kill(self) -> None:
        # After a deferral this is a fresh instance without the handle: launchers also find a run by its spec (its
        # job name and output folder come from the run id, not the mixture).
        spec = self._spec(self.launch.mixture_version or "unknown")
        launcher_for(self.launch.launcher).cancel(self._handle or spec.job_name, spec)


@fails_fast
class PublishTrainingRunOperator(BaseOperator):
    """Publish the finished run's metrics to the lake for dbt and announce its HF folder on the outlet assets.

    Reads the training task's XCom (``run_id``, ``output_dir``, ``hf_folder``, ...); each asset event carries the
    HF folder and the run id as ``extra``, so the evaluation DAG knows which model to score.
    """

    def __init__(self, *, train_task_id: str = "train", lake_conn_id: str = S3_CONN_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.train_task_id, self.lake_conn_id = train_task_id, lake_conn_id

    def execute(self, context: Any) -> dict[str, Any]:
        run = context["ti"].xcom_pull(task_ids=self.train_task_id)
        if not run or run.get("state") != "succeeded":
            raise AirflowFailException(f"task {self.train_task_id} left no succeeded run in XCom: {run!r}")
        try:
            store = LakeHook(self.lake_conn_id).get_conn()
            steps = publish_training_metrics(store, Path(run["output_dir"]),
                                             run["run_id"], run["config"], run["mixture_version"])
        except LakeError as exc:
            raise AirflowFailException(str(exc)) from exc
        extra = {"run_id": run["run_id"], "hf_folder": run["hf_folder"], "config": run["config"],
                 "mixture_version": run["mixture_version"], "manifest_sha256": run.get("manifest_sha256"),
                 "loss_last": run["loss_last"]}
        # the newest finished run, for an evaluation triggered by hand (no asset event to read it from)
        write_pointer(store, "training", run["run_id"], hf_folder=run["hf_folder"],
                      mixture_version=run["mixture_version"])
        hand_over(context, self.outlets, extra)
        self.log.info("published %d steps of %s; checkpoint %s", steps, run["run_id"], run["hf_folder"])
        return extra | {"steps": steps}
