"""Errors no retry heals fail the task at once; every other error is left to Airflow's retries."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException

from boostqa.errors import ConfigError, LakeDenied, LakeError
from boostqa_airflow.failfast import fails_fast


@fails_fast
class _Task:
    def __init__(self, error: Exception | None) -> None:
        self.error = error

    def execute(self, context: Any) -> str:
        if self.error is not None:
            raise self.error
        return "done"

    def execute_complete(self, context: Any, event: dict[str, Any]) -> str:
        return self.execute(context)


@pytest.mark.parametrize("error", [ConfigError("bad shard_size"), LakeDenied("s3://b/k refused: AccessDenied")])
def test_config_errors_and_run_permanent_refusals_fail_without_retry(error: Exception) -> None:
    with pytest.raises(AirflowFailException, match=str(error)):
        _Task(error).execute({})
    with pytest.raises(AirflowFailException):
        _Task(error).execute_complete({}, {})


def test_other_errors_stay_retryable_and_success_passes_through() -> None:
    with pytest.raises(LakeError):  # an outage: Airflow's retries are the right answer
        _Task(LakeError("connection refused")).execute({})
    assert _Task(None).execute({}) == "done"
    assert fails_fast(_Task) is _Task  # decorating twice wraps once
