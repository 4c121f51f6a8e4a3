"""``RayJobs``: submit, follow, read and stop stage jobs through a Ray cluster's Jobs API (its dashboard)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, TypeVar

from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

from boostqa.errors import EngineError
from boostqa.jobs.spec import JobSpec

if TYPE_CHECKING:
    from ray.job_submission import JobSubmissionClient

log = logging.getLogger(__name__)
T = TypeVar("T")
TERMINAL = frozenset({"SUCCEEDED", "FAILED", "STOPPED"})


@dataclass(frozen=True)
class JobState:
    """A job's status as Ray reports it (PENDING, RUNNING, SUCCEEDED, FAILED, STOPPED) and Ray's message."""

    submission_id: str
    status: str
    message: str

    @property
    def terminal(self) -> bool:
        """True once the job will not change any more."""
        return self.status in TERMINAL

    @property
    def succeeded(self) -> bool:
        """True when the driver exited 0."""
        return self.status == "SUCCEEDED"


_transient = retry(retry=retry_if_exception_type(EngineError), stop=stop_after_attempt(4),
                   wait=wait_exponential(multiplier=1, max=10), reraise=True)


class RayJobs:
    """One Ray cluster, addressed by its Jobs API URL (``http://host:8265``)."""

    def __init__(self, address: str, python: str = "python") -> None:
        self.address, self.python = address, python

    @cached_property
    def client(self) -> JobSubmissionClient:
        """The Ray SDK client (it checks the cluster's version when built)."""
        from ray.job_submission import JobSubmissionClient

        return self._call(lambda: JobSubmissionClient(self.address))

    def _call(self, request: Callable[[], T]) -> T:
        """Run one SDK request; connection failures and 5xx become ``EngineError`` (worth a retry)."""
        try:
            return request()
        except OSError as exc:  # requests.ConnectionError and timeouts are OSErrors
            raise EngineError(f"the Ray cluster at {self.address} cannot be reached: {exc}") from exc
        except RuntimeError as exc:
            if "status code 5" in str(exc) or "Failed to connect" in str(exc):
                raise EngineError(f"the Ray cluster at {self.address} failed a request: {exc}") from exc
            raise

    def find(self, submission_id: str) -> JobState | None:
        """The job's state, or None when the cluster has no job of that id."""
        try:
            info = self._call(lambda: self.client.get_job_info(submission_id))
        except RuntimeError as exc:
            if "status code 404" in str(exc):
                return None
            raise
        return JobState(submission_id, str(info.status), info.message or "")

    @_transient
    def submit(self, spec: JobSpec, submission_id: str) -> JobState:
        """Start the spec's job under ``submission_id``, or attach to the job already there under that id.

        An Airflow retry gets a new id (its attempt number); a re-run of the same attempt (a worker lost after it
        submitted) finds its job instead of starting a second one.
        """
        found = self.find(submission_id)
        if found is not None:
            log.info("ray job %s exists (%s): attaching", submission_id, found.status)
            return found
        self._call(lambda: self.client.submit_job(
            entrypoint=spec.entrypoint(self.python), submission_id=submission_id,
            metadata={"stage": spec.stage, "run_id": spec.run_id}))
        log.info("ray job %s submitted to %s: %s %s", submission_id, self.address, spec.stage, spec.run_id)
        return self.state(submission_id)

    @_transient
    def state(self, submission_id: str) -> JobState:
        """The job's current state.

        Raises:
            EngineError: the cluster does not know the job (e.g. it was restarted and lost its jobs).
        """
        found = self.find(submission_id)
        if found is None:
            raise EngineError(f"the Ray cluster at {self.address} has no job {submission_id} (restarted?)")
        return found

    @_transient
    def logs(self, submission_id: str) -> str:
        """Everything the job's driver printed so far."""
        return str(self._call(lambda: self.client.get_job_logs(submission_id)))

    def stop(self, submission_id: str) -> bool:
        """Ask the job to stop (SIGTERM, then SIGKILL after Ray's grace period); True if it was running."""
        try:
            return bool(self._call(lambda: self.client.stop_job(submission_id)))
        except RuntimeError as exc:
            if "status code 404" in str(exc):
                return False
            raise
