"""Failures no retry heals end the task at once: boostqa's ConfigError and RunPermanent become AirflowFailException."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from airflow.sdk.exceptions import AirflowFailException

from boostqa.errors import ConfigError, RunPermanent

T = TypeVar("T", bound=type)
ENTRY_POINTS = ("execute", "execute_complete")  # where a task's work starts: its first run, and after a deferral


def _failing_fast(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def run(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except (ConfigError, RunPermanent) as exc:
            # Airflow would retry any other exception: 4 tries of an LLM task with a revoked key cost half an hour.
            raise AirflowFailException(f"{type(exc).__name__}: {exc}") from exc

    run.__fails_fast__ = True  # type: ignore[attr-defined]
    return run


def fails_fast(operator: T) -> T:
    """Class decorator for our operators: configuration errors and run-permanent refusals fail without retries.

    A 401 from an LLM server or a 403 from S3 fails the task at once, its message naming the connection to check.
    """
    for name in ENTRY_POINTS:
        method = operator.__dict__.get(name)
        if method is not None and not getattr(method, "__fails_fast__", False):
            setattr(operator, name, _failing_fast(method))
    return operator
