"""Airflow submits, Ray runs: the QC operator's job on the stack's real Ray cluster, followed by its trigger;
attach on a re-run of the same attempt, a configuration error without retry, on_kill stopping a running job."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from types import SimpleNamespace

import pyarrow as pa
import pytest
from airflow.sdk.exceptions import AirflowFailException, TaskDeferred

from boostqa.errors import EngineError
from boostqa.jobs.cluster import RayJobs
from boostqa.jobs.spec import JobSpec, LakeLocation
from boostqa.jobs.stages import qc_job
from boostqa.lake import layout
from boostqa.lake.parquet import parquet_bytes
from boostqa.lake.store import ObjectStore
from boostqa.lake.tables import QA_SCHEMA
from boostqa.qc.run import run_parts
from boostqa.settings import BoostqaSettings
from boostqa_airflow.operators.qc import QualityControlOperator
from boostqa_airflow.triggers.ray_job import RayJobTrigger
from boostqa_dev.stack.airflow_home import connections
from boostqa_dev.stack.ports import free_ports
from boostqa_dev.stack.seaweedfs import lake_config
from tests.boostqa.qc.planted import planted_items
from tests.conftest import MemoryStore, reset_lake_prefixes

pytestmark = pytest.mark.integration
QC_PREFIXES = ["qa/", "qc/"]


@pytest.fixture
def lake(stack: BoostqaSettings, monkeypatch: pytest.MonkeyPatch) -> Iterator[ObjectStore]:
    """The stack's lake with no QA or QC state, and the stack's Airflow connections in this process."""
    for name, value in connections(stack).items():
        monkeypatch.setenv(name, value)
    store = ObjectStore(lake_config(stack))
    reset_lake_prefixes(store, QC_PREFIXES)
    yield store
    reset_lake_prefixes(store, QC_PREFIXES)


def _put_run(store: ObjectStore | MemoryStore, run: str, parts: int = 3) -> None:
    """The planted items (duplicates, contamination, every filter's failure) as ``parts`` parts, interleaved, so
    the Ray job screens several blocks whose outputs it must merge back into one run's order."""
    rows = [{n: p.row.get(n) for n in QA_SCHEMA.names} | {"run_id": run} for p in planted_items([])]
    for part in range(parts):
        store.put_bytes(layout.qa_prefix(run) + layout.part_name(part),
                        parquet_bytes(pa.Table.from_pylist(rows[part::parts], schema=QA_SCHEMA)))


def _outputs(store: ObjectStore | MemoryStore, run: str) -> dict[str, bytes]:
    """The bytes of QC's decisions for a run: kept items, removals with reasons, its index and key parts."""
    prefixes = [f"{layout.qc_table_prefix(table)}run_id={run}/" for table in layout.QC_TABLES]
    return {key: store.get_bytes(key) for prefix in prefixes for key in store.list_keys(prefix)}


def _on_ray_data(run: str, **params: str) -> QualityControlOperator:
    """The QC operator for ``run`` with its phases as Ray tasks however small the run (the default keeps small runs
    in the job's driver)."""
    return QualityControlOperator(task_id="qc", run_id=run, poll_seconds=0.5,
                                  stage_params={"distributed_min_items": "0", **params})


def _in_process(run: str) -> tuple[dict[str, object], dict[str, bytes]]:
    """The QC result and output bytes of ``run`` (the planted parts) in this process, on an in-memory lake."""
    store = MemoryStore()
    _put_run(store, run)
    result = qc_job(store, JobSpec(stage="qc", run_id=run, lake=LakeLocation(bucket=store.config.bucket)),  # type: ignore[arg-type]
                    on_ray=False)
    return result, _outputs(store, run)


def _context(try_number: int = 1) -> dict[str, object]:
    return {"ti": SimpleNamespace(dag_id="qa_synthesis", run_id="manual__it", task_id="qc", map_index=-1,
                                  try_number=try_number)}


async def _first_event(trigger: RayJobTrigger) -> dict[str, object]:
    async for event in trigger.run():
        return dict(event.payload)
    raise AssertionError("the trigger ended without an event")


def _run(operator: QualityControlOperator, context: dict[str, object]) -> dict[str, object]:
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute(context)
    event = asyncio.run(asyncio.wait_for(_first_event(deferred.value.trigger), timeout=300))  # type: ignore[arg-type]
    return operator.execute_complete(context, event)


def test_qc_runs_as_a_ray_job_with_the_same_result_as_in_process(lake: ObjectStore, stack: BoostqaSettings,
                                                                   caplog: pytest.LogCaptureFixture,
                                                                   capfd: pytest.CaptureFixture[str]) -> None:
    _put_run(lake, "synthesize_ray_1")
    assert sum(rows for _, rows in run_parts(lake, "synthesize_ray_1")) == len(planted_items([]))  # from footers
    caplog.set_level(logging.INFO)
    result = _run(_on_ray_data("synthesize_ray_1"), _context())

    expected, expected_bytes = _in_process("synthesize_ray_1")
    assert result == expected and result["items"] > 0 and result["kept"] > 0
    assert lake.get_bytes_or_none(layout.qc_marker("synthesize_ray_1")) is not None
    # Every phase a Ray task: the same bytes as one process writes.
    assert _outputs(lake, "synthesize_ray_1") == expected_bytes
    # The trigger logs through Airflow's logger (structlog in a test process: to stdout, in Airflow to the task log).
    logged = [r.getMessage() for r in caplog.records] + capfd.readouterr().out.splitlines()
    relayed = [line for line in logged if "ray> " in line]
    assert any("qc job for run synthesize_ray_1" in line for line in relayed), "the driver's log reached the task log"
    assert any("RayTasks" in line for line in relayed), "the phases ran as Ray tasks"

    # The same attempt again (a worker lost after submitting) attaches to its finished job: no second run.
    again = _run(_on_ray_data("synthesize_ray_1"), _context())
    assert again == result
    jobs = RayJobs(stack.ray_address)
    assert sum(1 for j in jobs.client.list_jobs() if j.metadata.get("run_id") == "synthesize_ray_1") == 1


def _alive_nodes(address: str) -> int:
    import json
    import urllib.request

    with urllib.request.urlopen(f"{address}/nodes?view=summary", timeout=5) as response:  # noqa: S310 - ours
        summary = json.load(response)["data"]["summary"]
    return sum(1 for node in summary if node["raylet"]["state"] == "ALIVE")


def test_on_two_nodes_the_qc_job_writes_the_same_bytes_as_on_one(lake: ObjectStore, stack: BoostqaSettings,
                                                                  capfd: pytest.CaptureFixture[str]) -> None:
    """One node gives the in-process bytes (the test above); two nodes must give them too."""
    from boostqa_dev.stack import ray_cluster
    from boostqa_dev.stack.process import start, stop

    (agent_port,) = free_ports(1, 0)
    node = ray_cluster.worker_service(stack, "node2", num_cpus=2, agent_port=agent_port)
    start(node)
    try:
        deadline = time.monotonic() + 180
        while _alive_nodes(stack.ray_address) < 2 and time.monotonic() < deadline:
            time.sleep(1)
        assert _alive_nodes(stack.ray_address) == 2, "the second node did not join"
        _put_run(lake, "synthesize_ray_two_nodes")
        capfd.readouterr()
        result = _run(_on_ray_data("synthesize_ray_two_nodes"), _context())
        relayed = [line for line in capfd.readouterr().out.splitlines() if "phases on Ray" in line]
        assert relayed and "2 node(s)" in relayed[-1], "the job's tasks ran on a cluster of both nodes"
        expected, expected_bytes = _in_process("synthesize_ray_two_nodes")
        assert result == expected and _outputs(lake, "synthesize_ray_two_nodes") == expected_bytes
    finally:
        stop(node)  # raises if any process of the node survives; the GCS notices the node left on its own


def test_a_config_error_in_the_job_fails_the_task_without_retry(lake: ObjectStore) -> None:
    from boostqa.qc.buckets import BUCKETS, KEYS
    from boostqa.qc.index import key_part_bytes

    # Index keys of an earlier run made with other shingle settings: this run's keys cannot be compared. The error
    # is raised in a Ray task and still fails the task at once.
    for bucket in range(BUCKETS):
        lake.put_bytes(layout.qc_bucket_part("index_keys", "synthesize_ray_earlier", bucket),
                       key_part_bytes(KEYS.empty_table(), "tokens-v0;k=4;seed=1;exact=question-v1"))
    _put_run(lake, "synthesize_ray_b", parts=1)
    with pytest.raises(AirflowFailException, match="rebuild-index"):
        _run(_on_ray_data("synthesize_ray_b"), _context())


def test_killing_the_deferred_task_stops_its_job(lake: ObjectStore, stack: BoostqaSettings) -> None:
    jobs = RayJobs(stack.ray_address)
    submission = f"boostqa-it-sleep-{time.time_ns()}"
    jobs.client.submit_job(entrypoint="python -c 'import time; time.sleep(300)'", submission_id=submission)
    deadline = time.monotonic() + 120
    while jobs.state(submission).status != "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.5)
    asyncio.run(RayJobTrigger("boostqa_ray", submission).on_kill())
    while not jobs.state(submission).terminal and time.monotonic() < deadline:
        time.sleep(0.5)
    assert jobs.state(submission).status == "STOPPED"


def test_an_unreachable_cluster_is_an_engine_error_worth_a_retry() -> None:
    (port,) = free_ports(1, 0)
    with pytest.raises(EngineError, match="cannot be reached"):
        RayJobs(f"http://127.0.0.1:{port}").state("anything")
