"""Polls a training run's status (through its launcher) until it succeeds, fails or is cancelled."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from boostqa.launch.spec import LaunchSpec
from boostqa_airflow.hooks.trainer import TrainerHook


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
        launcher = TrainerHook(self.launcher).get_conn()
        spec = LaunchSpec.model_validate(self.spec)
        last_step, started = None, time.monotonic()
        while True:
            status = await asyncio.to_thread(launcher.status, self.handle, spec)
            if status.step != last_step and status.step and status.max_steps:
                rate = status.step / max(time.monotonic() - started, 1e-9)
                eta = (status.max_steps - status.step) / rate if rate else 0
                # The progress-line shape `make demo` relays: "<what> <run>: done/total (rate/s, ETA ...)".
                self.log.info("train %s: %d/%d (%.2f/s, ETA %ds) loss %s", spec.run_id, status.step,
                              status.max_steps, rate, eta, status.loss)
                last_step = status.step
            if status.finished:
                yield TriggerEvent(status.model_dump())
                return
            await asyncio.sleep(self.poll_seconds)
