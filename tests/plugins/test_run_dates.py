"""Run ids render for scheduled runs and for asset-triggered ones, which have no logical date in Airflow 3."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

from airflow.sdk.definitions._internal.templater import create_template_env

from boostqa_airflow.constants import RUN_DATE, RUN_DATE_NODASH


def _render(template: str, logical_date: datetime | None, run_after: datetime) -> str:
    env = create_template_env()
    return env.from_string(template).render(dag_run=SimpleNamespace(logical_date=logical_date, run_after=run_after))


def test_a_scheduled_or_dags_test_run_is_named_by_its_logical_date() -> None:
    logical, after = datetime(2026, 11, 25, tzinfo=UTC), datetime(2026, 11, 26, 7, 30, tzinfo=UTC)
    assert _render(f"synthesize_{RUN_DATE_NODASH}", logical, after) == "synthesize_20261125"
    assert _render(f"annotate_{RUN_DATE}", logical, after) == "annotate_2026-11-25"


def test_an_asset_triggered_run_is_named_by_the_day_it_was_triggered() -> None:
    after = datetime(2026, 11, 26, 7, 30, tzinfo=UTC)
    assert _render(f"midtrain_{RUN_DATE_NODASH}", None, after) == "midtrain_20261126"
    assert _render(f"annotate_{RUN_DATE}", None, after) == "annotate_2026-11-26"


def test_the_asset_scheduled_dags_use_these_names() -> None:
    from pathlib import Path

    dags = Path(__file__).resolve().parents[2] / "dags"
    for name in ("seed_annotate.py", "qa_synthesis.py", "midtrain.py"):
        text = (dags / name).read_text()
        assert "{{ ds" not in text and ("RUN_DATE" in text), name
