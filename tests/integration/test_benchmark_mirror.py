"""Production benchmark sets from a Hub-layout mirror on the lake's S3: built from our editions, read by the QC Ray
job (its params name the mirror) and by evaluation, with the same decisions and prompts as the editions give."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest
from airflow.sdk.exceptions import AirflowFailException

from boostqa.benchmarks.loader import BenchmarkSource, load_items, mirror_editions
from boostqa.benchmarks.mirror import open_mirror
from boostqa.eval.runner import ModelRuntime, ModelTarget, evaluate_model
from boostqa.eval.tasks import EvalTaskSettings, load_docs, model_requests
from boostqa.jobs.spec import JobSpec, LakeLocation
from boostqa.jobs.stages import qc_job
from boostqa.lake import layout
from boostqa.lake.commits import commit_shard
from boostqa.lake.parquet import parquet_bytes
from boostqa.lake.store import ObjectStore
from boostqa.lake.tables import QA_SCHEMA
from boostqa.settings import BoostqaSettings
from boostqa_airflow.operators.qc import QualityControlOperator
from boostqa_dev.stack.airflow_home import connections
from boostqa_dev.stack.llm_server import ensure_model
from boostqa_dev.stack.seaweedfs import lake_config
from tests.boostqa.qc.planted import planted_items
from tests.conftest import MemoryStore, lake_rows, reset_lake_prefixes
from tests.integration.test_ray_jobs import _context, _outputs, _run

pytestmark = pytest.mark.integration
MIRROR_PREFIX = "mirrors/hub/"
RUN = "synthesize_mirror_1"


@pytest.fixture
def lake(stack: BoostqaSettings, monkeypatch: pytest.MonkeyPatch) -> Iterator[ObjectStore]:
    """The stack's lake with an empty QC index and no parts of this test's run, and the stack's connections here.

    Only this run's ``qa/`` parts go, never other runs' shard markers: their ledger parts would turn uncommitted
    under an incremental mart that already holds them.
    """
    for name, value in connections(stack).items():
        monkeypatch.setenv(name, value)
    store = ObjectStore(lake_config(stack))
    prefixes = ["qc/", layout.qa_prefix(RUN)]
    reset_lake_prefixes(store, prefixes)
    yield store
    reset_lake_prefixes(store, prefixes)


@pytest.fixture
def mirror(lake: ObjectStore) -> Iterator[BenchmarkSource]:
    """Our editions as a Hub-layout mirror under an S3 prefix of the stack's lake."""
    reset_lake_prefixes(lake, [MIRROR_PREFIX])
    root = f"s3://{lake.config.bucket}/{MIRROR_PREFIX.rstrip('/')}"
    assert mirror_editions(open_mirror(root, lake.config)) == len(load_items(splits="all"))
    yield BenchmarkSource(kind="mirror", mirror=root)
    reset_lake_prefixes(lake, [MIRROR_PREFIX])


def _put_planted(store: ObjectStore | MemoryStore) -> int:
    """The planted run, with items copied from benchmark questions; returns how many must be found contaminated."""
    planted = planted_items(load_items(splits="all"))
    rows = [{n: p.row.get(n) for n in QA_SCHEMA.names} | {"run_id": RUN} for p in planted]
    store.put_bytes(layout.qa_prefix(RUN) + layout.part_name(0),
                    parquet_bytes(pa.Table.from_pylist(rows, schema=QA_SCHEMA)))
    commit_shard(store, layout.qa_prefix(RUN), 0)
    return sum(p.expected_reason == "benchmark_contaminated" for p in planted)


def test_the_qc_ray_job_decontaminates_against_the_mirror_named_in_its_params(
        lake: ObjectStore, mirror: BenchmarkSource) -> None:
    contaminated = _put_planted(lake)
    operator = QualityControlOperator(task_id="qc", run_id=RUN, poll_seconds=0.5, stage_params={
        "distributed_min_items": "0", "benchmark_source": "mirror", "benchmark_mirror": mirror.mirror})
    result = _run(operator, _context())
    assert result["reasons"]["benchmark_contaminated"] == contaminated > 0  # type: ignore[index]

    local = MemoryStore()  # the same run against our editions, in this process
    _put_planted(local)
    expected = qc_job(local, JobSpec(stage="qc", run_id=RUN, lake=LakeLocation(bucket=local.config.bucket)),
                      on_ray=False)
    assert result == expected
    assert _outputs(lake, RUN) == _outputs(local, RUN)  # every decision, byte for byte

    broken = QualityControlOperator(task_id="qc", run_id=RUN, poll_seconds=0.5, stage_params={
        "force": "True", "benchmark_source": "mirror", "benchmark_mirror": mirror.mirror + "-missing"})
    with pytest.raises(AirflowFailException, match="has no 'test' data of cais/mmlu config 'abstract_algebra'"):
        _run(broken, _context(try_number=2))  # a new attempt: a new job, not the finished one


def test_evaluation_scores_the_mirror_s_items_with_the_editions_prompts(
        lake: ObjectStore, mirror: BenchmarkSource, stack: BoostqaSettings, tmp_path: Path) -> None:
    settings = EvalTaskSettings(limit=2)  # C-Eval 5-shot: its few-shot split comes from the mirror too
    target = ModelTarget(model_id="mirror_eval", hf_folder=str(ensure_model(stack)))
    benchmarks = ["arc_easy", "ceval"]
    try:
        results = evaluate_model(lake, target, benchmarks, settings, tmp_path, "mirror", mirror,
                                 ModelRuntime(device="cpu"))
        assert [(r.benchmark, r.items) for r in results] == [("arc_easy", 2), ("ceval", 2)]
        for name in benchmarks:
            sent = [json.loads(line) for line in
                    (tmp_path / target.answers_key / name / "requests.jsonl").read_text().splitlines()]
            assert sent == model_requests(load_docs(name, settings), settings.max_new_tokens)
            rows = lake_rows(lake, layout.eval_part("items", "mirror_eval", name))
            assert sorted(r["item_id"] for r in rows) == sorted(d.item.item_id for d in load_docs(name, settings))
    finally:
        reset_lake_prefixes(lake, [layout.eval_part("items", "mirror_eval", b) for b in benchmarks]
                            + [layout.eval_part("scores", "mirror_eval", b) for b in benchmarks])
