"""Plan versions in Airflow: the build publishes its plan (pointer + event extra); synthesis follows the event or the
pointer, and skips cleanly when the plan is empty."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from unittest.mock import patch

import pyarrow as pa
import pytest
from airflow.sdk import Asset
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from boostqa.lake import layout
from boostqa.lake.parquet import parquet_bytes
from boostqa.lake.versions import read_pointer
from boostqa_airflow.operators.plan import PublishPlanOperator
from boostqa_airflow.operators.synthesize import SnapshotSynthesisJobsOperator
from tests.conftest import MemoryStore

PLAN = Asset(name="boostqa_plan", uri="boostqa://lake/plans/latest")


def _plan(store: MemoryStore, plan_id: str, jobs: int) -> None:
    table = pa.table({"job_id": [f"j{i}" for i in range(jobs)], "job_order": list(range(1, jobs + 1))},
                     schema=pa.schema([("job_id", pa.string()), ("job_order", pa.int64())]))
    store.put_bytes(layout.plan_object(plan_id, "synthesis_jobs.parquet"), parquet_bytes(table))


def test_the_build_points_latest_at_its_plan_and_hands_the_id_over(memory_store: MemoryStore) -> None:
    _plan(memory_store, "plan_a", 3)
    events = {PLAN: SimpleNamespace(extra={})}
    with patch("boostqa_airflow.operators.plan.LakeHook") as hook:
        hook.return_value.get_conn.return_value = memory_store
        PublishPlanOperator(task_id="publish", plan_id="plan_a", outlets=[PLAN]).execute({"outlet_events": events})
    assert events[PLAN].extra == {"plan_id": "plan_a", "jobs": 3}
    assert read_pointer(memory_store, "plans")["version"] == "plan_a"  # type: ignore[index]


def test_synthesis_runs_the_plan_of_its_triggering_event_and_skips_an_empty_one(memory_store: MemoryStore) -> None:
    _plan(memory_store, "plan_full", 5)
    _plan(memory_store, "plan_empty", 0)
    event = SimpleNamespace(extra={"plan_id": "plan_empty"}, timestamp=datetime(2026, 12, 3, tzinfo=UTC))
    with patch("boostqa_airflow.operators.synthesize.LakeHook") as hook:
        hook.return_value.get_conn.return_value = memory_store
        with pytest.raises(AirflowSkipException, match="plan plan_empty has no jobs"):
            SnapshotSynthesisJobsOperator(task_id="s", run_id="synthesize_a").execute(
                {"triggering_asset_events": {PLAN: [event]}})
        with pytest.raises(AirflowFailException, match="plans/latest.json does not exist"):
            SnapshotSynthesisJobsOperator(task_id="s", run_id="synthesize_b").execute({})
    assert not memory_store.get_bytes_or_none(layout.synthesis_jobs_snapshot("synthesize_b"))
