"""Follows a Ray stage job until it ends, relaying its driver's log lines; stops the job when a user kills the task."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from boostqa.errors import EngineError
from boostqa.jobs.spec import parse_result
from boostqa_airflow.hooks.ray import RayHook

TAIL_LINES = 40  # the end of the driver's log travels in the event, for the task's failure message
MAX_UNREACHABLE = 20  # polls in a row that may fail (the cluster restarting) before the task fails and retries


class RayJobTrigger(BaseTrigger):
    """Fires once, when the job is SUCCEEDED, FAILED or STOPPED (or the cluster stays unreachable)."""

    def __init__(self, ray_conn_id: str, submission_id: str, poll_seconds: float = 2.0) -> None:
        super().__init__()
        self.ray_conn_id, self.submission_id, self.poll_seconds = ray_conn_id, submission_id, poll_seconds

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return ("boostqa_airflow.triggers.ray_job.RayJobTrigger",
                {"ray_conn_id": self.ray_conn_id, "submission_id": self.submission_id,
                 "poll_seconds": self.poll_seconds})

    async def run(self) -> AsyncIterator[TriggerEvent]:
        jobs = RayHook(self.ray_conn_id).get_conn()
        relayed, failures = 0, 0
        while True:
            try:
                state = await asyncio.to_thread(jobs.state, self.submission_id)
                lines = (await asyncio.to_thread(jobs.logs, self.submission_id)).splitlines()
            except EngineError as exc:
                failures += 1
                self.log.warning("ray job %s: %s (%d/%d)", self.submission_id, exc, failures, MAX_UNREACHABLE)
                if failures >= MAX_UNREACHABLE:
                    yield TriggerEvent({"submission_id": self.submission_id, "status": "UNREACHABLE",
                                        "message": str(exc), "result": None, "tail": []})
                    return
                await asyncio.sleep(self.poll_seconds)
                continue
            failures = 0
            for line in lines[relayed:]:  # the driver's output, as it grows, into the task log
                self.log.info("ray> %s", line)
            relayed = max(relayed, len(lines))
            if state.terminal:
                yield TriggerEvent({"submission_id": self.submission_id, "status": state.status,
                                    "message": state.message, "result": parse_result("\n".join(lines)),
                                    "tail": lines[-TAIL_LINES:]})
                return
            await asyncio.sleep(self.poll_seconds)

    async def on_kill(self) -> None:
        """A user marked the deferred task failed or cleared it: stop the job, so no orphan keeps working."""
        stopped = await asyncio.to_thread(RayHook(self.ray_conn_id).get_conn().stop, self.submission_id)
        self.log.info("ray job %s: %s", self.submission_id, "stopped" if stopped else "had already ended")
