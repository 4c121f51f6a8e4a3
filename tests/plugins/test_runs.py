"""Run ids: unique per DAG run (even on one day), stable across retries, resumable by param, rendered by a macro."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from airflow.sdk.definitions._internal.templater import create_template_env

from boostqa.errors import ConfigError
from boostqa.runs import RUN_ID_PATTERN, run_day
from boostqa_airflow.runs import MACROS, RESUME_PARAM, boostqa_run_id, from_asset_events, run_id_template


def _dag_run(run_id: str, run_after: datetime) -> SimpleNamespace:
    return SimpleNamespace(run_id=run_id, run_after=run_after, logical_date=None)


def test_two_runs_on_one_day_get_two_sortable_path_safe_ids() -> None:
    morning = _dag_run("manual__2026-11-25T06:00:00+00:00", datetime(2026, 11, 25, 6, tzinfo=UTC))
    evening = _dag_run("asset_triggered__2026-11-25T18:30:00+00:00_x1", datetime(2026, 11, 25, 18, 30, tzinfo=UTC))
    first, second = boostqa_run_id("synthesize", morning), boostqa_run_id("synthesize", evening)
    assert first != second and sorted([second, first]) == [first, second]
    assert first.startswith("synthesize_20261125T060000Z_") and RUN_ID_PATTERN.match(first)
    assert run_day(second) == "2026-11-25"


def test_two_runs_in_the_same_second_differ_and_a_retry_keeps_its_id() -> None:
    when = datetime(2026, 11, 25, 6, tzinfo=UTC)
    a, b = _dag_run("manual__a", when), _dag_run("manual__b", when)
    assert boostqa_run_id("plan", a) != boostqa_run_id("plan", b)
    assert boostqa_run_id("plan", a) == boostqa_run_id("plan", _dag_run("manual__a", when))


def test_resume_param_names_the_run_to_continue_and_must_be_path_safe() -> None:
    run = _dag_run("manual__a", datetime(2026, 11, 25, tzinfo=UTC))
    assert boostqa_run_id("midtrain", run, {RESUME_PARAM: "midtrain_20261124T000000Z_0badc0de"}) == \
        "midtrain_20261124T000000Z_0badc0de"
    with pytest.raises(ConfigError, match="path-safe"):
        boostqa_run_id("midtrain", run, {RESUME_PARAM: "../other"})


def test_the_template_renders_through_the_dag_macro() -> None:
    env = create_template_env()
    env.globals.update(MACROS)
    rendered = env.from_string(run_id_template("mixture")).render(
        dag_run=_dag_run("scheduled__x", datetime(2026, 11, 26, 7, 30, 5, tzinfo=UTC)), params={})
    assert rendered.startswith("mixture_20261126T073005Z_") and RUN_ID_PATTERN.match(rendered)


def test_ids_handed_over_in_asset_events_newest_first() -> None:
    old = SimpleNamespace(extra={"plan_id": "plan_a"}, timestamp=datetime(2026, 1, 1, tzinfo=UTC))
    new = SimpleNamespace(extra={"plan_id": "plan_b"}, timestamp=datetime(2026, 1, 2, tzinfo=UTC))
    other = SimpleNamespace(extra={}, timestamp=datetime(2026, 1, 3, tzinfo=UTC))
    assert from_asset_events({"triggering_asset_events": {"a": [old, new, other]}}, "plan_id") == "plan_b"
    assert from_asset_events({}, "plan_id") is None


def test_no_dag_names_a_run_by_its_day_alone() -> None:
    dags = Path(__file__).resolve().parents[2] / "dags"
    for name in ("seed_annotate.py", "qa_synthesis.py", "midtrain.py", "mixture_export.py", "warehouse_build.py"):
        text = (dags / name).read_text()
        assert "ds_nodash" not in text and "{{ ds" not in text and "run_id_template(" in text, name
