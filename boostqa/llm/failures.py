"""The LLM failure policy's client side: run-permanent refusals as task failures, and waits that honour Retry-After."""

from __future__ import annotations

from tenacity import RetryCallState, wait_exponential_jitter

from boostqa.errors import ConfigError
from boostqa.llm.transport import RateLimited, RunRefused
from boostqa.llm.types import LlmEndpoint


class LlmRefused(ConfigError):
    """The server refused the run itself (401, 403, 404): the task fails at once, its message says what to fix."""


CHECKS = {401: "its password (the API key) is wrong or expired",
          403: "its API key may not use this model or endpoint",
          404: "its model is not served there (compare the connection's extra `model` with the server's /v1/models)"}


def refused(endpoint: LlmEndpoint, exc: RunRefused) -> LlmRefused:
    """The run-permanent error for ``exc``, naming the connection and what to check in it."""
    return LlmRefused(f"{endpoint.role} server {endpoint.base_url} refused model {endpoint.model!r} ({exc}): check "
                      f"the Airflow connection boostqa_llm_{endpoint.role}: {CHECKS.get(exc.status_code, 'its host')}."
                      " Retrying will not help; fix it, then clear the task")


class WaitRetryAfter:
    """Tenacity's wait: exponential backoff with jitter, or what a 429's ``Retry-After`` asked for if longer.

    Never more than ``cap_s`` (one call's timeout): a server that asks for an hour is unavailable, not slow.
    """

    def __init__(self, backoff_s: float, cap_s: float) -> None:
        self.backoff = wait_exponential_jitter(multiplier=backoff_s, max=30 * backoff_s, jitter=backoff_s)
        self.cap_s = cap_s

    def __call__(self, state: RetryCallState) -> float:
        """Seconds to wait before the next attempt."""
        wait = self.backoff(state)
        failure = state.outcome.exception() if state.outcome is not None else None
        if isinstance(failure, RateLimited) and failure.retry_after_s is not None:
            wait = max(wait, min(failure.retry_after_s, self.cap_s))
        return float(wait)
