"""dbt's sources.json judged as of a run's time: dbt's thresholds, one actionable line per stale table."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from boostqa.freshness import judge, parse_sources

SNAPSHOT = datetime(2026, 12, 6, 23, 46, tzinfo=UTC)  # when dbt ran: its verdicts are for this time
INGESTED = datetime(2026, 11, 20, tzinfo=UTC)


def _result(table: str, loaded: datetime | None, warn_days: int | None, error_days: int | None) -> dict[str, Any]:
    """One result as dbt 1.11 writes it to sources.json (schema v3)."""
    loaded_at = loaded or datetime(1, 1, 1, tzinfo=UTC)  # dbt's value for a table with no rows
    age = (SNAPSHOT - (loaded_at if loaded_at.tzinfo else loaded_at.replace(tzinfo=UTC))).total_seconds()
    status = ("error" if error_days and age > error_days * 86_400 else
              "warn" if warn_days and age > warn_days * 86_400 else "pass")
    return {"unique_id": f"source.boostqa.{table}", "max_loaded_at": loaded_at.isoformat(),
            "snapshotted_at": SNAPSHOT.isoformat(), "max_loaded_at_time_ago_in_s": age, "status": status,
            "criteria": {"warn_after": {"count": warn_days, "period": "day" if warn_days else None},
                         "error_after": {"count": error_days, "period": "day" if error_days else None},
                         "filter": None},
            "adapter_response": {"_message": "OK"}, "timing": [], "thread_id": "Thread-1", "execution_time": 0.1}


def _sources(*results: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/sources/v3.json"},
            "results": list(results), "elapsed_time": 1.0}


SOURCES = _sources(
    _result("seeds.questions", INGESTED, 2, 7),
    _result("qa.items", datetime(2026, 11, 25, 8, 30), 7, None),
    _result("eval.scores", None, 14, None),
)


def test_parse_reads_tables_loads_and_thresholds() -> None:
    seeds, items, scores = parse_sources(SOURCES)
    assert (seeds.source, seeds.max_loaded_at, seeds.warn_after, seeds.error_after) == (
        "seeds.questions", INGESTED, timedelta(days=2), timedelta(days=7))
    assert items.max_loaded_at == datetime(2026, 11, 25, 8, 30, tzinfo=UTC)  # naive values are UTC
    assert items.error_after is None
    assert scores.max_loaded_at is None  # dbt's 0001-01-01: no rows yet


def test_a_table_is_judged_at_the_runs_time_not_the_warehouse_clock() -> None:
    report = judge(SOURCES, INGESTED + timedelta(hours=6))  # the run of the day that was ingested
    seeds = report.sources[0]
    assert seeds.dbt_status == "error"  # dbt ran 16 days later
    assert seeds.status(report.as_of) == "pass"
    assert report.sources[1].status(report.as_of) == "pass"  # loaded after the run's time: fresh for it


@pytest.mark.parametrize(("days_later", "expected"), [(2, "pass"), (2.5, "warn"), (7, "warn"), (7.5, "error")])
def test_warn_after_then_error_after_each_strictly_exceeded(days_later: float, expected: str) -> None:
    report = judge(SOURCES, INGESTED + timedelta(days=days_later))
    assert report.sources[0].status(report.as_of) == expected


def test_a_table_with_no_rows_is_past_every_threshold() -> None:
    report = judge(SOURCES, INGESTED)
    assert report.sources[2].status(report.as_of) == "warn"  # eval.scores has only a warn threshold
    never = judge(_sources(_result("seeds.questions", None, 2, 7)), INGESTED)
    assert never.sources[0].status(never.as_of) == "error"


def test_lines_name_the_table_its_age_newest_load_and_thresholds_errors_first() -> None:
    report = judge(SOURCES, INGESTED + timedelta(days=8))
    assert [s.source for s in report.stale()] == ["seeds.questions", "eval.scores"]
    error, warn = (s.describe(report.as_of) for s in report.stale())
    assert error == ("freshness ERROR seeds.questions: newest load 2026-11-20 00:00 UTC, 8.0 days before "
                     "2026-11-28 00:00 (thresholds: warn after 2.0 days, error after 7.0 days)")
    assert warn == ("freshness WARN eval.scores: no rows yet (its stage never wrote this table) "
                    "(thresholds: warn after 14.0 days)")
    assert report.headline() == "source freshness as of 2026-11-28 00:00 UTC: 3 tables, 1 pass, 1 warn, 1 error"
    assert report.summary() == {"as_of": "2026-11-28T00:00:00+00:00", "pass": ["qa.items"], "warn": ["eval.scores"],
                                "error": ["seeds.questions"], "runtime_error": []}


def test_a_table_dbt_could_not_read_is_a_runtime_error_with_dbts_message() -> None:
    failed = {"unique_id": "source.boostqa.qc.kept", "error": "IO Error: No files found", "status": "runtime error"}
    report = judge(_sources(_result("seeds.questions", INGESTED, 2, 7), failed), INGESTED)
    (kept,) = report.with_status("runtime error")
    assert kept.describe(report.as_of) == ("freshness RUNTIME ERROR qc.kept: dbt could not read it: "
                                           "IO Error: No files found")
    assert report.stale() == [kept]


def test_log_writes_errors_at_error_level_warnings_at_warning_level(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test_freshness")
    with caplog.at_level(logging.INFO, logger="test_freshness"):
        judge(SOURCES, INGESTED + timedelta(days=8)).log(logger)
    assert [(r.levelname, r.getMessage().split(":")[0]) for r in caplog.records] == [
        ("ERROR", "freshness ERROR seeds.questions"), ("WARNING", "freshness WARN eval.scores"),
        ("INFO", "source freshness as of 2026-11-28 00")]


def test_naive_run_times_are_utc() -> None:
    assert judge(SOURCES, datetime(2026, 11, 21)).as_of == datetime(2026, 11, 21, tzinfo=UTC)
