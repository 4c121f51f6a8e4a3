"""Plan versions in Airflow: the build publishes its plan (pointer + event extra), unless evaluations alone triggered
it and the probe did not move; synthesis follows the event or the pointer, and skips cleanly when the plan is empty."""

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
from boostqa.synthesize.replan import PROBE_NAME, probe_change, replan_decision
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


def _probe(store: MemoryStore, plan_id: str, deficiency: dict[tuple[str, int], float]) -> None:
    rows = [{"model_id": "m", "discipline_id": d, "difficulty": k, "eval_items": 10, "accuracy": 0.5,
             "deficiency": v} for (d, k), v in deficiency.items()]
    schema = pa.schema([("model_id", pa.string()), ("discipline_id", pa.string()), ("difficulty", pa.int32()),
                        ("eval_items", pa.int32()), ("accuracy", pa.float64()), ("deficiency", pa.float64())])
    store.put_bytes(layout.plan_object(plan_id, PROBE_NAME), parquet_bytes(pa.Table.from_pylist(rows, schema)))


def _publish(store: MemoryStore, plan_id: str, triggers: list[dict[str, str]], **params: str) -> dict[str, object]:
    events = {PLAN: SimpleNamespace(extra={})}
    context = {"outlet_events": events, "triggering_asset_events": {
        Asset(name=f"a{i}", uri=f"x://{i}"): [SimpleNamespace(extra=extra)] for i, extra in enumerate(triggers)}}
    with patch("boostqa_airflow.operators.plan.LakeHook") as hook:
        hook.return_value.get_conn.return_value = store
        return PublishPlanOperator(task_id="publish", plan_id=plan_id, outlets=[PLAN],  # type: ignore[no-any-return]
                                   stage_params=params).execute(context)


def test_an_evaluation_alone_re_plans_only_when_the_probe_moved(memory_store: MemoryStore) -> None:
    evaluation = {"eval_run_id": "scheduled__e1"}
    for plan_id in ("plan_1", "plan_2", "plan_3", "plan_4", "plan_5", "plan_6"):
        _plan(memory_store, plan_id, 2)
    _probe(memory_store, "plan_1", {("physics", 3): 0.30, ("mathematics", 2): 0.0})
    assert _publish(memory_store, "plan_1", [evaluation])["plan_id"] == "plan_1"  # the first plan

    # the next model's probe barely moved: no new information, no boostqa_plan event (synthesis does not start)
    _probe(memory_store, "plan_2", {("physics", 3): 0.31, ("mathematics", 2): 0.0})
    with pytest.raises(AirflowSkipException, match=r"no new information: the probe moved by 0.010 \(< 0.02\)"):
        _publish(memory_store, "plan_2", [evaluation])
    assert read_pointer(memory_store, "plans")["version"] == "plan_1"  # type: ignore[index]
    # new seeds beside the evaluation always re-plan; so does a lower threshold
    assert _publish(memory_store, "plan_2", [evaluation, {"sources": "4"}])["plan_id"] == "plan_2"
    _probe(memory_store, "plan_3", {("physics", 3): 0.32})
    assert _publish(memory_store, "plan_3", [evaluation], replan_min_change="0.005")["plan_id"] == "plan_3"
    # a bucket that became weak is new information
    _probe(memory_store, "plan_4", {("physics", 3): 0.32, ("biology", 4): 0.25})
    assert _publish(memory_store, "plan_4", [evaluation])["plan_id"] == "plan_4"
    assert read_pointer(memory_store, "plans")["evaluation_rounds"] == 2  # type: ignore[index]
    # a retry after the pointer moved announces the same plan again (never "no change against itself")
    assert _publish(memory_store, "plan_4", [evaluation])["plan_id"] == "plan_4"
    # every new checkpoint moves a small probe: the count of evaluation-only plans in a row ends the chain
    _probe(memory_store, "plan_5", {("physics", 3): 0.10})
    assert _publish(memory_store, "plan_5", [evaluation])["plan_id"] == "plan_5"
    _probe(memory_store, "plan_6", {("physics", 3): 0.40})
    with pytest.raises(AirflowSkipException, match="3 plans in a row came from evaluations alone"):
        _publish(memory_store, "plan_6", [evaluation])
    assert _publish(memory_store, "plan_6", [{"sources": "4"}])["plan_id"] == "plan_6"  # new seeds: count restarts
    assert read_pointer(memory_store, "plans")["evaluation_rounds"] == 0  # type: ignore[index]


def test_replan_decisions_compare_bucket_by_bucket(memory_store: MemoryStore) -> None:
    assert probe_change({("a", 1): 0.2}, {("a", 1): 0.25, ("b", 2): 0.1}) == pytest.approx(0.1)
    assert probe_change({}, {}) == 0.0
    _plan(memory_store, "plan_old", 1)
    _probe(memory_store, "plan_old", {})
    _publish(memory_store, "plan_old", [])  # by hand: always
    _plan(memory_store, "plan_same", 1)
    _probe(memory_store, "plan_same", {})
    decision = replan_decision(memory_store, "plan_same", evaluations_only=True, min_change=0.0)
    assert not decision.publish and decision.previous_plan_id == "plan_old"  # nothing evaluated yet: nothing new
    _plan(memory_store, "plan_without_probe", 1)  # exported before probes were kept beside plans
    assert replan_decision(memory_store, "plan_without_probe", evaluations_only=True, min_change=0.02).publish
    with pytest.raises(AirflowFailException, match="bad planning parameters"):
        _publish(memory_store, "plan_same", [], replan_min_change="2")
