"""SourceFreshnessOperator: dbt's sources.json (mocked one layer down) judged as of the DAG run; warn logs, error
fails without retry, an unreadable table fails with retries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from unittest.mock import Mock, patch

import pytest
from airflow.sdk.exceptions import AirflowFailException

from boostqa_airflow.operators.freshness import SourceFreshnessOperator, run_time
from tests.boostqa.test_freshness import INGESTED, SOURCES, _result, _sources

MODULE = "boostqa_airflow.operators.freshness"


def _execute(sources: dict[str, Any], logical_date: datetime | None) -> dict[str, Any]:
    context = {"logical_date": logical_date, "dag_run": Mock(run_after=INGESTED + timedelta(days=1))}
    with patch(f"{MODULE}.source_freshness", return_value=sources) as dbt:
        result: dict[str, Any] = SourceFreshnessOperator(task_id="check_source_freshness").execute(context)
    dbt.assert_called_once_with("boostqa_warehouse", "boostqa_s3")
    return result


def test_warnings_only_log_and_the_result_lists_tables_per_status() -> None:
    result = _execute(SOURCES, INGESTED + timedelta(days=3))
    assert result == {"as_of": "2026-11-23T00:00:00+00:00", "pass": ["qa.items"],
                      "warn": ["seeds.questions", "eval.scores"], "error": [], "runtime_error": []}


def test_a_table_past_error_after_fails_without_retry_naming_it_and_its_thresholds() -> None:
    with pytest.raises(AirflowFailException, match=r"seeds\.questions: newest load 2026-11-20 00:00 UTC, 8\.0 days "
                                                   r".*error after 7\.0 days"):
        _execute(SOURCES, INGESTED + timedelta(days=8))


def test_a_table_dbt_could_not_read_fails_so_that_airflow_retries() -> None:
    failed = {"unique_id": "source.boostqa.qc.kept", "error": "IO Error", "status": "runtime error"}
    with pytest.raises(RuntimeError, match=r"qc\.kept") as raised:
        _execute(_sources(_result("seeds.questions", INGESTED, 2, 7), failed), INGESTED)
    assert not isinstance(raised.value, AirflowFailException)


def test_the_run_time_is_the_logical_date_else_when_the_run_was_due() -> None:
    due = datetime(2026, 12, 6, 9, tzinfo=UTC)
    assert run_time({"logical_date": INGESTED, "dag_run": Mock(run_after=due)}) == INGESTED
    assert run_time({"logical_date": None, "dag_run": Mock(run_after=due)}) == due  # asset-triggered
    assert _execute(SOURCES, None)["as_of"] == "2026-11-21T00:00:00+00:00"
