"""Follows a Ray stage job until it ends, relaying its driver's log lines; stops the job when a user kills the task."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from boostqa.errors import EngineError
from boostqa.jobs.cluster import RayJobs
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

    async def _follow(self, jobs: RayJobs, relayed: list[str]) -> None:
        """Relay the driver's log into the task log as Ray streams it (one websocket; the log is never re-fetched)."""
        pending = ""
        try:
            async for chunk in jobs.client.tail_job_logs(self.submission_id):
                *complete, pending = (pending + chunk).split("\n")
                for line in complete:
                    self.log.info("ray> %s", line)
                    relayed.append(line)
        except Exception as exc:  # noqa: BLE001 - a broken stream only delays lines: the end-of-job fetch relays them
            self.log.warning("ray job %s: log stream ended early (%s); the rest follows when the job ends",
                             self.submission_id, exc)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        jobs = RayHook(self.ray_conn_id).get_conn()
        relayed: list[str] = []
        follower = asyncio.create_task(self._follow(jobs, relayed))
        try:
            async for event in self._poll(jobs, relayed, follower):
                yield event
        finally:
            follower.cancel()

    async def _poll(self, jobs: RayJobs, relayed: list[str], follower: asyncio.Task[None]
                    ) -> AsyncIterator[TriggerEvent]:
        failures = 0
        while True:
            try:
                state = await asyncio.to_thread(jobs.state, self.submission_id)
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
            if state.terminal:
                # The stream ends with the job; then the whole log once, for what it missed and for the result.
                await asyncio.wait({follower}, timeout=self.poll_seconds + 3)
                try:
                    lines = (await asyncio.to_thread(jobs.logs, self.submission_id)).splitlines()
                except EngineError:
                    lines = list(relayed)
                for line in lines[len(relayed):]:
                    self.log.info("ray> %s", line)
                yield TriggerEvent({"submission_id": self.submission_id, "status": state.status,
                                    "message": state.message, "result": parse_result("\n".join(lines)),
                                    "tail": lines[-TAIL_LINES:]})
                return
            await asyncio.sleep(self.poll_seconds)

    async def on_kill(self) -> None:
        """A user marked the deferred task failed or cleared it: stop the job, so no orphan keeps working."""
        stopped = await asyncio.to_thread(RayHook(self.ray_conn_id).get_conn().stop, self.submission_id)
        self.log.info("ray job %s: %s", self.submission_id, "stopped" if stopped else "had already ended")
