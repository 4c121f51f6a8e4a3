from __future__ import annotations

import logging

import pytest

from boostqa.llm.progress import Progress
from boostqa.llm.throttle import AimdLimiter


def test_progress_logs_done_total_rate_and_eta(caplog: pytest.LogCaptureFixture) -> None:
    progress = Progress("annotate r1", total=4, every_s=3600)
    with caplog.at_level(logging.INFO, logger="boostqa.llm.progress"):
        progress.advance(1)
        assert caplog.records == []  # within the interval and not finished: quiet
        progress.advance(3)
    [record] = caplog.records
    assert record.getMessage().startswith("annotate r1: 4/4 (")
    assert "ETA 0s" in record.getMessage()


def test_aimd_halves_on_rate_limit_and_grows_back_additively() -> None:
    limiter = AimdLimiter(maximum=8)
    limiter.on_rate_limit()
    limiter.on_rate_limit()
    assert limiter.limit == 2.0
    for _ in range(2):
        limiter.on_success()  # +1/limit per success: about +1 per window of `limit` successes
    assert limiter.limit == pytest.approx(2.9)  # 2 + 1/2 + 1/2.5
    for _ in range(1000):
        limiter.on_success()
    assert limiter.limit == 8.0  # never above the role's bound
    for _ in range(10):
        limiter.on_rate_limit()
    assert limiter.limit == 1.0  # never below one request in flight
