"""Polls a training run's status (through its launcher) until it succeeds, fails or is cancelled."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from boostqa.launch.spec import LaunchSpec
from boostqa_airflow.launchers import launcher_for


class TrainingRunTrigger(BaseTrigger):
    """Fires once with the run's final status; logs progress (step, loss) as it changes."""

    def __init__(self, launcher: str, handle: str, spec: dict[str, Any], poll_seconds: float = 15.0) -> None:
        super().__init__()
        self.launcher, self.handle, self.spec, self.poll_seconds = launcher, handle, spec, poll_seconds

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return ("boostqa_airflow.triggers.training.TrainingRunTrigger",
                {"launcher": self.launcher, "handle": self.handle, "spec": self.spec,
                 "poll_seconds": self.poll_seconds})

    async def run(self) -> AsyncIterator[TriggerEvent]:
        launcher = launcher_for(self.launcher)
        spec = LaunchSpec.model_validate(self.spec)
        last_step = None
        while True:
            status = await asyncio.to_thread(launcher.status, self.handle, spec)
            if status.step != last_step:
                self.log.info("training %s: %s, step %s/%s, loss %s", spec.run_id, status.state, status.step,
                              status.max_steps, status.loss)
                last_step = status.step
            if status.finished:
                yield TriggerEvent(status.model_dump())
                return
            await asyncio.sleep(self.poll_seconds)
