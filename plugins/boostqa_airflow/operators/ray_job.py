"""Base of the stage operators whose work runs on the Ray cluster: validate, submit, defer, read the job's result."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException

from boostqa.errors import EngineError
from boostqa.jobs.spec import JobSpec
from boostqa_airflow.constants import RAY_CONN_ID, S3_CONN_ID
from boostqa_airflow.failfast import fails_fast
from boostqa_airflow.hooks.ray import RayHook
from boostqa_airflow.triggers.ray_job import RayJobTrigger


def attempt_tag(context: Any) -> str:
    """This task attempt, short: the same for a re-run of one attempt, new for every retry and every DAG run."""
    ti = context["ti"]
    where = f"{ti.dag_id}/{ti.run_id}/{ti.task_id}/{getattr(ti, 'map_index', -1)}"
    return f"{hashlib.sha1(where.encode()).hexdigest()[:10]}-try{ti.try_number}"  # noqa: S324 - a name, not a MAC


@fails_fast
class RayJobOperator(BaseOperator):
    """Submit one stage job (``job_spec``) and wait for it in the triggerer; the job's result is the task's XCom.

    The worker slot is free while the job runs. Retries: a failed or lost job fails the task with Airflow's retries (a
    new attempt submits a new job; stages are idempotent per run); a configuration error or a job stopped by hand
    fails it without retry. Killing the task stops the job.
    """

    template_fields: Sequence[str] = ("run_id", "stage_params")

    def __init__(self, *, run_id: str, stage_params: Mapping[str, Any] | None = None, ray_conn_id: str = RAY_CONN_ID,
                 lake_conn_id: str = S3_CONN_ID, poll_seconds: float = 2.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.run_id, self.stage_params = run_id, dict(stage_params or {})
        self.ray_conn_id, self.lake_conn_id, self.poll_seconds = ray_conn_id, lake_conn_id, poll_seconds
        self._submission_id: str | None = None

    def job_spec(self) -> JobSpec:
        """The job this task runs (subclasses validate their typed config here, failing without retry)."""
        raise NotImplementedError

    def summarize(self, result: dict[str, Any]) -> None:
        """Log the job's result for the operator (subclasses say it in their stage's words)."""
        self.log.info("%s", result)

    def execute(self, context: Any) -> dict[str, Any] | None:
        """Submit the job and defer (a subclass may answer without a job, returning its result)."""
        spec = self.job_spec()
        jobs = RayHook(self.ray_conn_id).get_conn()
        self._submission_id = spec.submission_id(attempt_tag(context))
        state = jobs.submit(spec, self._submission_id)
        self.log.info("%s %s runs on the Ray cluster %s as job %s (%s); its log follows", spec.stage, spec.run_id,
                      jobs.address, self._submission_id, state.status)
        self.defer(trigger=RayJobTrigger(self.ray_conn_id, self._submission_id, self.poll_seconds),
                   method_name="execute_complete")

    def execute_complete(self, context: Any, event: dict[str, Any]) -> dict[str, Any]:
        status, result = event["status"], event.get("result") or {}
        job = event["submission_id"]
        if status == "SUCCEEDED" and "config_error" not in result:
            self.summarize(result)
            return dict(result)
        if "config_error" in result:
            raise AirflowFailException(f"ray job {job}: {result['config_error']}")
        tail = "\n".join(event.get("tail") or [])
        if status == "STOPPED":
            raise AirflowFailException(f"ray job {job} was stopped ({event.get('message')}); clear the task to rerun")
        raise EngineError(f"ray job {job} ended {status}: {event.get('message')}\nlast lines of its log:\n{tail}")

    def on_kill(self) -> None:
        # Before the deferral (after it, the trigger's on_kill stops the job).
        if self._submission_id:
            RayHook(self.ray_conn_id).get_conn().stop(self._submission_id)
