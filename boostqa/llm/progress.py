"""Progress of long LLM work: done/total, rate and ETA, logged at most every few seconds."""

from __future__ import annotations

import logging
import time

log = logging.getLogger(__name__)


class Progress:
    """Counts finished items and logs ``label: done/total (rate/s, ETA)`` on a time interval."""

    def __init__(self, label: str, total: int, every_s: float = 10.0) -> None:
        self.label = label
        self.total = total
        self.every_s = every_s
        self.done = 0
        self.started = time.monotonic()
        self._last_log = self.started

    def advance(self, count: int = 1) -> None:
        """Record finished items; log when the interval has passed or the work is complete."""
        self.done += count
        now = time.monotonic()
        if now - self._last_log >= self.every_s or self.done >= self.total:
            self._last_log = now
            log.info("%s", self.line())

    def line(self) -> str:
        """The current progress as one line."""
        elapsed = max(time.monotonic() - self.started, 1e-9)
        rate = self.done / elapsed
        remaining = (self.total - self.done) / rate if rate > 0 else float("inf")
        eta = f"{remaining:.0f}s" if remaining != float("inf") else "?"
        return f"{self.label}: {self.done}/{self.total} ({rate:.2f}/s, ETA {eta})"
