"""Unit tests of the benchmark record: goals, verdicts, statistics, files, the newest record per benchmark."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from bench.record import (
    RESULTS,
    BenchRecord,
    Check,
    fmt,
    latest_records,
    median_spread,
    parse_goal,
    read_record,
    resolve_out,
    spread_of,
    verdict,
    write_record,
)


@pytest.mark.parametrize(("goal", "parsed"), [(">= 0.95", (">=", 0.95)), ("== 0", ("==", 0.0)), ("<5", ("<", 5.0)),
                                               ("  <= 1e-3 ", ("<=", 0.001)), ("> -2", (">", -2.0))])
def test_goal_parsing(goal: str, parsed: tuple[str, float]) -> None:
    assert parse_goal(goal) == parsed


@pytest.mark.parametrize("goal", ["0.95", ">= x", "=> 1", "~ 1", ""])
def test_bad_goals_are_refused(goal: str) -> None:
    with pytest.raises(ValueError, match="goal"):
        parse_goal(goal)


@pytest.mark.parametrize(("value", "goal", "passed"), [
    (0.95, ">= 0.95", True), (0.9499, ">= 0.95", False), (0, "== 0", True), (1, "== 0", False),
    (4.99, "< 5", True), (5, "< 5", False), (1.0, "> 1", False), (0.5, "<= 0.5", True)])
def test_check_verdict_follows_value_and_goal(value: float, goal: str, passed: bool) -> None:
    check = Check(measure="m", value=value, goal=goal)
    assert check.passed is passed
    assert (check.op, check.target) == parse_goal(goal)


def test_informational_check_has_no_verdict() -> None:
    check = Check(measure="m", value=3.0)
    assert (check.passed, check.op, check.target) == (None, None, None)


def test_a_pending_goal_is_neither_a_pass_nor_a_miss(tmp_path: Path) -> None:
    pending = Check(measure="m", value=None, goal="<= 1.2", pending="no baseline record yet")
    record = _record("b", checks=[pending, Check(measure="n", value=None, goal=">= 1")])
    assert pending.passed is None and (pending.op, pending.target) == ("<=", 1.2)
    assert verdict(record, pending) == "pending: no baseline record yet"
    assert [c.measure for c in record.failed] == ["n"]  # a goal with no value and no reason to wait: a miss
    assert read_record(write_record(record, tmp_path)).checks[0].passed is None


def test_verdict_is_recomputed_on_load(tmp_path: Path) -> None:
    path = write_record(_record("b", checks=[Check(measure="m", value=0.5, goal=">= 1")]), tmp_path)
    data = json.loads(path.read_text())
    data["checks"][0]["passed"] = True  # a hand edit cannot turn a miss into a pass
    assert BenchRecord.model_validate(data).checks[0].passed is False


def test_median_and_spread() -> None:
    assert median_spread([1.0, 3.0, 2.0]) == (2.0, 1.0)
    assert median_spread([4.0]) == (4.0, 0.0)
    assert median_spread([-1.0, 0.0, 2.0]) == (0.0, 3.0)  # median 0: the absolute width
    assert spread_of([4.0]) is None
    assert spread_of([1.0, 2.0, 3.0]) == 1.0
    with pytest.raises(ValueError):
        median_spread([])


def test_record_summarizes_samples_and_fails_on_a_missed_goal() -> None:
    record = _record("b", checks=[Check(measure="a", value=1, goal=">= 1"), Check(measure="b", value=0, goal="> 0"),
                                  Check(measure="c", value=0)], samples={"x": [3.0, 1.0, 2.0], "empty": []})
    assert record.stats["x"].median == 2.0 and record.stats["x"].n == 3 and "empty" not in record.stats
    assert [c.measure for c in record.failed] == ["b"]
    assert [verdict(record, c) for c in record.checks] == ["pass", "FAIL", "info"]


def test_write_read_roundtrip(tmp_path: Path) -> None:
    record = _record("dedup", checks=[Check(measure="m", ours=2, anchor=1, value=2, value_unit="x", goal=">= 1")],
                     samples={"ratio": [1.9, 2.0, 2.1]}, params={"items": 10})
    path = write_record(record, tmp_path / "new")
    assert path.name == f"dedup-{record.date:%Y%m%dT%H%M%SZ}.json"
    assert read_record(path) == record
    assert record.machine.cores >= 1 and record.date.tzinfo is not None
    assert record.commit == "unknown" or len(record.commit) == 40


def test_latest_picks_the_newest_and_a_skip_never_hides_a_measurement(tmp_path: Path) -> None:
    old = _record("a", checks=[Check(measure="m", value=1)])
    new = old.model_copy(update={"date": old.date + timedelta(hours=1)})
    skip = _record("a", skipped="no server").model_copy(update={"date": old.date + timedelta(hours=2)})
    only_skip = _record("b", skipped="no GPU")
    for record in (old, new, skip, only_skip):
        write_record(record, tmp_path)
    latest = latest_records(tmp_path)
    assert list(latest) == ["a", "b"]
    assert latest["a"][1].date == new.date and latest["a"][0].name == new.file_name
    assert latest["b"][1].skipped == "no GPU"


def test_quick_runs_never_write_into_results(tmp_path: Path) -> None:
    assert resolve_out(None, quick=False) == RESULTS
    assert resolve_out(tmp_path, quick=True) == tmp_path
    assert resolve_out(None, quick=True) != RESULTS
    with pytest.raises(SystemExit, match="bench/results"):
        resolve_out(RESULTS, quick=True)


def test_number_format() -> None:
    assert fmt(0.971, "x") == "0.97×"
    assert fmt(5544.4, "items/s") == "5,544 items/s"
    assert fmt(0, "calls") == "0 calls"
    assert fmt(2.291, "s") == "2.29 s"
    assert fmt(0.2634, "ms") == "0.263 ms"
    assert fmt(None) == "—"


def _record(bench: str, **fields: object) -> BenchRecord:
    return BenchRecord.create(bench=bench, title=f"{bench} title", quick=True, **fields)  # type: ignore[arg-type]
