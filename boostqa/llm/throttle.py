"""Adaptive concurrency (AIMD): HTTP 429 halves the limit, each success grows it back by 1/limit."""

from __future__ import annotations

import asyncio
import logging
from types import TracebackType

log = logging.getLogger(__name__)


class AimdLimiter:
    """An async semaphore whose size adapts: additive increase on success, multiplicative decrease on 429."""

    def __init__(self, maximum: int, minimum: int = 1, decrease: float = 0.5) -> None:
        self.maximum = maximum
        self.minimum = minimum
        self.decrease = decrease
        self.limit = float(maximum)
        self.in_flight = 0
        self._changed: asyncio.Condition | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _condition(self) -> asyncio.Condition:
        # One condition per event loop: a client may serve several asyncio.run() calls (one per shard).
        loop = asyncio.get_running_loop()
        if self._changed is None or self._loop is not loop:
            self._changed, self._loop, self.in_flight = asyncio.Condition(), loop, 0
        return self._changed

    async def __aenter__(self) -> AimdLimiter:
        changed = self._condition()
        async with changed:
            await changed.wait_for(lambda: self.in_flight < int(self.limit))
            self.in_flight += 1
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        changed = self._condition()
        async with changed:
            self.in_flight -= 1
            changed.notify_all()

    def on_success(self) -> None:
        """Additive increase: about +1 per window of ``limit`` successes."""
        self.limit = min(float(self.maximum), self.limit + 1.0 / max(self.limit, 1.0))

    def on_rate_limit(self) -> None:
        """Multiplicative decrease after a 429."""
        before = self.limit
        self.limit = max(float(self.minimum), self.limit * self.decrease)
        log.warning("rate limited: concurrency limit %.1f -> %.1f", before, self.limit)
