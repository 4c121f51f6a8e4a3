"""Production launchers: a Kubernetes Job or a Slurm batch script rendered from the configured templates."""

from __future__ import annotations

import json
import logging
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from string import Template
from typing import Any

import yaml
from pydantic import BaseModel, Field

from boostqa.errors import ConfigError
from boostqa.launch.spec import SAFE_PATH, LaunchSpec, RunStatus, read_status_file
from boostqa.settings import get_settings, require_path

log = logging.getLogger(__name__)


class ClusterResources(BaseModel):
    """What one node of the run asks the scheduler for, and the image that holds ``training/``."""

    # built from infra/docker/trainer.Dockerfile (tag your registry's copy)
    image: str = Field(default="boostqa/trainer:0.1.0", pattern=r"^[a-z0-9][a-z0-9._/:@-]{0,254}$")
    gpus_per_node: int = Field(default=8, ge=1, le=1024)
    cpus: int = Field(default=96, ge=1)
    memory: str = Field(default="1800Gi", pattern=r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$")
    mixture_uri: str = Field(default="s3://boostqa/mixtures/v1/",
                             pattern=r"^s3://[a-z0-9][a-z0-9.-]{0,62}/[A-Za-z0-9_./=-]*$")
    mixture_dir: str = Field(default="/work/mixtures/v1", pattern=SAFE_PATH)


PLACEHOLDER = re.compile(r"\$\{([a-z_]+)\}")


def _values(spec: LaunchSpec, resources: ClusterResources) -> dict[str, Any]:
    return {"job_name": spec.job_name, "run_id": spec.run_id, "nodes": spec.nodes, "output_dir": spec.output_dir,
            "train_args": spec.train_args(), **resources.model_dump()}


def _filled(node: Any, values: dict[str, Any], where: str = "") -> Any:
    """A parsed template with its ``${name}`` slots filled: data into data, never text into YAML.

    A scalar that is one slot becomes the value itself (a number, a list of arguments); a slot inside a longer string
    is replaced in that string only. Either way a value stays one scalar or one list item, whatever it contains: no
    value can add a key, a document or a shell command (the pods run no shell: their commands are argument lists).

    Raises:
        ConfigError: the template names a slot the renderer does not fill (a typo in a copy of the template).
    """
    if isinstance(node, dict):
        return {key: _filled(value, values, f"{where}.{key}") for key, value in node.items()}
    if isinstance(node, list):
        return [_filled(item, values, f"{where}[{i}]") for i, item in enumerate(node)]
    if not isinstance(node, str):
        return node
    for name in PLACEHOLDER.findall(node):
        if name not in values:
            raise ConfigError(f"the training Job template fills no slot ${{{name}}} (at {where.lstrip('.')}); "
                              f"slots: {', '.join(sorted(values))}")
    whole = PLACEHOLDER.fullmatch(node)
    if whole is not None:
        return values[whole.group(1)]
    return PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), node)


def kubernetes_template() -> Path:
    """The Job template (``BOOSTQA_TRAINER__KUBERNETES_TEMPLATE``: infra/k8s/training-job.yaml or a copy of it).

    Raises:
        ConfigError: it is not set.
    """
    return require_path(get_settings().trainer.kubernetes_template, "BOOSTQA_TRAINER__KUBERNETES_TEMPLATE")


def slurm_template() -> Path:
    """The sbatch template (``BOOSTQA_TRAINER__SLURM_TEMPLATE``: infra/slurm/train.sbatch or a copy of it).

    Raises:
        ConfigError: it is not set.
    """
    return require_path(get_settings().trainer.slurm_template, "BOOSTQA_TRAINER__SLURM_TEMPLATE")


def render_kubernetes_manifests(spec: LaunchSpec, resources: ClusterResources, template: Path | None = None
                                ) -> list[dict[str, Any]]:
    """The run's objects: the headless Service its pods rendezvous through, and the Job.

    The template is parsed first and its slots filled as data (:func:`_filled`), so a template error fails here, not
    in the cluster, and no launch param is ever spliced into YAML text; ``template`` defaults to the configured one.
    """
    docs = [doc for doc in yaml.safe_load_all((template or kubernetes_template()).read_text()) if doc]
    return [_filled(doc, _values(spec, resources)) for doc in docs]


def render_kubernetes_job(spec: LaunchSpec, resources: ClusterResources, template: Path | None = None
                          ) -> dict[str, Any]:
    """The Job among the run's objects."""
    return next(doc for doc in render_kubernetes_manifests(spec, resources, template) if doc["kind"] == "Job")


def render_slurm_script(spec: LaunchSpec, resources: ClusterResources, template: Path | None = None) -> str:
    """The sbatch script of a run (``template`` defaults to the configured one).

    A shell script is text, so every value is quoted for the shell (``shlex``) before it is put in; the validated
    values need no quotes, so this changes nothing for them and makes anything else one inert word.
    """
    values = {k: shlex.join(v) if isinstance(v, list) else shlex.quote(str(v)) for k, v in
              _values(spec, resources).items()}
    return Template((template or slurm_template()).read_text()).substitute(values | {
        "train_args_shell": values["train_args"]})


def _run(argv: list[str], stdin: str | None = None) -> str:
    if shutil.which(argv[0]) is None:
        raise ConfigError(f"`{argv[0]}` is not installed here: this launcher needs the cluster's CLI")
    result = subprocess.run(argv, input=stdin, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise ConfigError(f"`{' '.join(argv)}` failed: {result.stderr.strip()}")
    return result.stdout


class KubernetesLauncher:
    """Applies the rendered Job with kubectl; status comes from the status file on the shared volume."""

    def __init__(self, resources: ClusterResources | None = None, namespace: str = "boostqa") -> None:
        self.resources, self.namespace = resources or ClusterResources(), namespace

    def submit(self, spec: LaunchSpec) -> str:
        """Apply the run's Service and Job; the handle is the Job's name."""
        manifests = render_kubernetes_manifests(spec, self.resources)
        _run(["kubectl", "apply", "-n", self.namespace, "-f", "-"], yaml.safe_dump_all(manifests))
        return spec.job_name

    def status(self, handle: str, spec: LaunchSpec) -> RunStatus:
        """The status file once it says finished (the Service is then dropped), else the Job's failure or submitted."""
        status = read_status_file(Path(spec.output_dir))
        if status is not None and status.finished:
            # The rendezvous Service has no use after the run: drop it (the Job stays for its logs). Best effort:
            # a failed clean-up must not turn a finished run into a failed task.
            try:
                _run(["kubectl", "delete", "service", handle, "-n", self.namespace, "--ignore-not-found"])
            except ConfigError as exc:
                log.warning("could not delete the run's Service %s: %s", handle, exc)
            return status
        job = json.loads(_run(["kubectl", "get", "job", handle, "-n", self.namespace, "-o", "json"]))
        if any(c.get("type") == "Failed" and c.get("status") == "True" for c in job.get("status", {}).get(
                "conditions", [])):
            return RunStatus(state="failed", error=f"Kubernetes job {handle} failed (backoff limit reached)")
        return status or RunStatus(state="submitted")

    def cancel(self, handle: str, spec: LaunchSpec) -> None:
        """Delete the run's Job and Service."""
        _run(["kubectl", "delete", "job,service", handle, "-n", self.namespace, "--ignore-not-found"])


# Slurm job states (squeue %T, sacct State): still going, or how it ended. PREEMPTED and REQUEUED jobs come back.
SLURM_ACTIVE = frozenset({"PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "REQUEUED", "REQUEUE_HOLD",
                          "REQUEUE_FED", "RESIZING", "SUSPENDED", "STAGE_OUT", "SIGNALING", "PREEMPTED"})
SLURM_DEAD = {"FAILED": "failed", "OUT_OF_MEMORY": "ran out of memory", "NODE_FAIL": "lost a node",
              "TIMEOUT": "hit its time limit", "CANCELLED": "was cancelled", "BOOT_FAIL": "could not boot a node",
              "DEADLINE": "missed its deadline", "REVOKED": "was revoked"}


class SlurmLauncher:
    """Submits the rendered script with sbatch; status from the status file and from the scheduler.

    The status file is on the shared file system; squeue, then sacct, say whether the job still lives, so a job that
    died without writing its status (OOM, a lost node, the time limit) fails the task instead of waiting out its
    timeout.
    """

    def __init__(self, resources: ClusterResources | None = None) -> None:
        self.resources = resources or ClusterResources()

    def submit(self, spec: LaunchSpec) -> str:
        """Submit the rendered script with sbatch; the handle is the Slurm job id.

        A job of this run already queued or running (a retried task, a resumed deferral) is attached to instead:
        the run is never in flight twice.
        """
        in_flight = _run(["squeue", "--noheader", "--name", spec.job_name, "--format", "%i %T"]).split()
        if in_flight:
            log.info("slurm job %s of run %s is already %s: attaching", in_flight[0], spec.run_id, in_flight[1:2])
            return in_flight[0]
        out = _run(["sbatch", "--parsable"], render_slurm_script(spec, self.resources))
        return out.strip().split(";")[0]

    def status(self, handle: str, spec: LaunchSpec) -> RunStatus:
        """The status file once finished; else the scheduler's view: failed when Slurm says the job died."""
        status = read_status_file(Path(spec.output_dir))
        if status is not None and status.finished:
            return status
        state = self._scheduler_state(handle, spec)
        if state in SLURM_DEAD:
            return RunStatus(state="failed", step=status.step if status else None,
                             error=f"Slurm job {handle} {SLURM_DEAD[state]} ({state}) before the trainer finished; "
                                   f"see {spec.output_dir}/slurm-{handle}.log and `sacct -j {handle}`")
        if state == "COMPLETED":  # the script ended without the trainer writing a final status
            return RunStatus(state="failed", error=f"Slurm job {handle} completed but the trainer wrote no final "
                                                   f"status in {spec.output_dir}; see slurm-{handle}.log")
        return status or RunStatus(state="submitted")

    @staticmethod
    def _scheduler_state(handle: str, spec: LaunchSpec) -> str | None:
        """The job's state: squeue while Slurm holds it, sacct after (None when neither knows it yet)."""
        target = ["--jobs", handle] if handle.isdigit() else ["--name", spec.job_name]
        try:
            queued = _run(["squeue", "--noheader", *target, "--format", "%T"]).split()
        except ConfigError:  # squeue exits 1 for a job id that has left the queue ("Invalid job id specified")
            queued = []
        if queued:
            return queued[0]
        lines = _run(["sacct", "--noheader", "--parsable2", "--allocations", *target, "--format", "State"])
        ended = [line.split()[0].upper() for line in lines.splitlines() if line.strip()]
        return ended[-1] if ended else None  # "CANCELLED by 1000" -> CANCELLED; the last line is the newest attempt

    def cancel(self, handle: str, spec: LaunchSpec) -> None:
        """Cancel the job by id, or by the run's job name when the handle is not an id."""
        _run(["scancel", handle] if handle.isdigit() else ["scancel", "--name", spec.job_name])
