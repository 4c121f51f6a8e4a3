"""Airflow submits, Ray runs: the QC, token count and export operators' jobs on the stack's real Ray cluster (one
node and two), followed by their trigger, with the bytes one process writes; attach on a re-run of the same attempt,
a configuration error without retry, on_kill stopping a running job."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import random
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from airflow.sdk.exceptions import AirflowFailException, TaskDeferred

from boostqa.errors import EngineError
from boostqa.export.general import load_general_sources, stage_general_corpus
from boostqa.export.mixture import SELECTION_NAME, export_mixture
from boostqa.export.packing import load_target_tokenizer
from boostqa.export.token_counts import count_tokens
from boostqa.jobs.cluster import RayJobs
from boostqa.jobs.spec import JobSpec, LakeLocation
from boostqa.jobs.stages import qc_job
from boostqa.lake import layout
from boostqa.lake.commits import commit_shard
from boostqa.lake.parquet import parquet_bytes, write_rows
from boostqa.lake.read import read_prefix
from boostqa.lake.store import ObjectStore
from boostqa.lake.tables import KEPT_SCHEMA, QA_SCHEMA
from boostqa.qc.run import run_parts
from boostqa.settings import BoostqaSettings
from boostqa_airflow.operators.mixture import CountTokensOperator, ExportMixtureOperator
from boostqa_airflow.operators.qc import QualityControlOperator
from boostqa_airflow.operators.ray_job import RayJobOperator
from boostqa_airflow.triggers.ray_job import RayJobTrigger
from boostqa_dev.stack.airflow_home import connections
from boostqa_dev.stack.ports import free_ports
from boostqa_dev.stack.seaweedfs import lake_config
from tests.boostqa.export.test_mixture import tokenizer_dir  # noqa: F401 - fixture
from tests.boostqa.export.test_shards import _mixture_rows
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
        commit_shard(store, layout.qa_prefix(run), part)


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


def _run(operator: RayJobOperator, context: dict[str, object]) -> dict[str, object]:
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


def test_on_two_nodes_the_qc_and_export_jobs_write_the_same_bytes_as_on_one(
        lake: ObjectStore, stack: BoostqaSettings, tokenizer_dir: Path, tmp_path: Path,  # noqa: F811
        capfd: pytest.CaptureFixture[str]) -> None:
    """One node gives the in-process bytes (the tests of each job alone); two nodes must give them too."""
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

        reset_lake_prefixes(lake, EXPORT_PREFIXES)
        rows = _put_export_inputs(lake, "mixture_ray_two_nodes", seed=2)
        capfd.readouterr()
        counted, _ = _export_on_ray("mixture_ray_two_nodes", tokenizer_dir, _context())
        written = [line for line in capfd.readouterr().out.splitlines() if "shards written on Ray" in line]
        cpus = (stack.ray.num_cpus or os.cpu_count() or 1) + 2
        assert written and f"up to {cpus} workers" in written[-1], "the export saw both nodes' CPUs"
        expected_export = _exported_in_process(lake, rows, "mixture_ray_two_nodes", tokenizer_dir, tmp_path / "here")
        assert _export_outputs(lake, "mixture_ray_two_nodes", str(counted["tokenizer_sha256"])) == expected_export
    finally:
        reset_lake_prefixes(lake, EXPORT_PREFIXES)
        stop(node)  # raises if any process of the node survives; the GCS notices the node left on its own


EXPORT_PREFIXES = ["qa/", "qc/", "mixtures/", "raw/general/"]
SIZES = {"seq_len": 16, "rows_per_shard": 17, "sequences_per_shard": 4}


@pytest.fixture
def export_lake(lake: ObjectStore) -> Iterator[ObjectStore]:
    """The stack's lake without mixtures, token counts, general corpus, QA or QC state."""
    reset_lake_prefixes(lake, EXPORT_PREFIXES)
    yield lake
    reset_lake_prefixes(lake, EXPORT_PREFIXES)


def _put_export_inputs(store: ObjectStore, version: str, seed: int) -> list[dict[str, object]]:
    """A selection of 150 samples as dbt exports it (in row groups of 20, its rows out of order), and the candidates
    a token count reads: a run's QA parts, 10 of them kept, and the project's general corpus edition."""
    rows = [r | {"sample_order": i + 1} for i, r in enumerate(_mixture_rows(150, seed))]
    in_file = list(rows)
    random.Random(seed).shuffle(in_file)
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(in_file), buffer, row_group_size=20)
    store.put_bytes(layout.mixture_prefix(version) + SELECTION_NAME, buffer.getvalue())
    run = f"synthesize_{version}"
    _put_run(store, run)
    items = read_prefix(store, layout.qa_prefix(run), ["item_id", "run_id"])
    assert items is not None and items.num_rows > 10
    write_rows(store, layout.qc_bucket_part("kept", run, 0),
               [r | {"exact_key": r["item_id"]} for r in items.to_pylist()[:10]], KEPT_SCHEMA)
    store.put_bytes(layout.qc_marker(run), b"")  # the run's QC is committed
    for source in load_general_sources():
        stage_general_corpus(store, source)
    return rows


def _export_outputs(store: ObjectStore | MemoryStore, version: str, tokenizer: str) -> dict[str, bytes]:
    """Every object the export and the token count wrote for a version (not dbt's selection)."""
    keys = [k for k in store.list_keys(layout.mixture_prefix(version)) if not k.endswith(SELECTION_NAME)]
    keys += [layout.mixture_lineage_part(version), layout.token_counts_part(tokenizer, version)]
    return {key: store.get_bytes(key) for key in keys}


def _exported_in_process(lake: ObjectStore, rows: list[dict[str, object]], version: str, model: Path,
                         out: Path) -> dict[str, bytes]:
    """The bytes one process writes for the same inputs: the export of the selection, the count of the candidates."""
    store, tokenizer = MemoryStore(lake.config.bucket), load_target_tokenizer(model)
    for key in (k for prefix in ("qa/", "qc/", "raw/general/") for k in lake.list_keys(prefix)):
        store.put_bytes(key, lake.get_bytes(key))
    count_tokens(store, version, tokenizer)  # type: ignore[arg-type]
    export_mixture(store, rows, version, tokenizer, out, **SIZES)  # type: ignore[arg-type]
    return _export_outputs(store, version, tokenizer.sha256)


def _export_on_ray(version: str, model: Path, context: dict[str, object]) -> tuple[dict[str, object], ...]:
    """The DAG's count_tokens and export_mixture tasks for ``version``, on Ray Data however small the work."""
    params = {"tokenizer_dir": str(model), "distributed_min_samples": "0", **{k: str(v) for k, v in
                                                                                      SIZES.items()}}
    counted = _run(CountTokensOperator(task_id="count_tokens", run_id=version, poll_seconds=0.5,  # type: ignore[arg-type]
                                       stage_params=params), context)
    exported = _run(ExportMixtureOperator(task_id="export_mixture", run_id=version, poll_seconds=0.5,  # type: ignore[arg-type]
                                          stage_params=params), context)
    return counted, exported


def test_the_token_count_and_export_jobs_write_the_in_process_bytes_on_ray_data(
        export_lake: ObjectStore, tokenizer_dir: Path, tmp_path: Path,  # noqa: F811
        capfd: pytest.CaptureFixture[str]) -> None:
    rows = _put_export_inputs(export_lake, "mixture_ray_1", seed=1)
    capfd.readouterr()
    counted, exported = _export_on_ray("mixture_ray_1", tokenizer_dir, _context())
    relayed = [line for line in capfd.readouterr().out.splitlines() if "ray> " in line]
    assert any("counted on Ray" in line for line in relayed), "the token count ran as a Ray Data job"
    assert any("shards written on Ray" in line for line in relayed), "the shards were written by Ray Data workers"

    expected = _exported_in_process(export_lake, rows, "mixture_ray_1", tokenizer_dir, tmp_path / "here")
    assert (counted["boostqa"], exported["samples"], exported["reused"]) == (10, 150, False)
    assert len([k for k in expected if "/packed/" in k]) > 3 and len([k for k in expected if "/data/" in k]) == 9
    assert _export_outputs(export_lake, "mixture_ray_1", str(counted["tokenizer_sha256"])) == expected

    # A retry of the finished export (a new attempt) submits nothing: the version is complete.
    again = ExportMixtureOperator(task_id="export_mixture", run_id="mixture_ray_1",
                                  stage_params={"tokenizer_dir": str(tokenizer_dir)}).execute(_context(try_number=2))
    assert again == {"mixture_version": "mixture_ray_1", "manifest_sha256": exported["manifest_sha256"],
                     "reused": True}


def test_a_config_error_in_the_job_fails_the_task_without_retry(lake: ObjectStore) -> None:
    from boostqa.qc.buckets import BUCKETS, KEYS
    from boostqa.qc.index import key_part_bytes

    # Index keys of an earlier run made with other shingle settings: this run's keys cannot be compared. The error
    # is raised in a Ray task and still fails the task at once.
    for bucket in range(BUCKETS):
        lake.put_bytes(layout.qc_bucket_part("index_keys", "synthesize_ray_earlier", bucket),
                       key_part_bytes(KEYS.empty_table(), "tokens-v0;k=4;seed=1;exact=question-v1"))
    lake.put_bytes(layout.qc_marker("synthesize_ray_earlier"), b"")  # its QC finished: its keys are in the index
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
