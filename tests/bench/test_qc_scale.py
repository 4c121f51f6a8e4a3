"""P9 (bench/qc_scale.py): its corpus and ground truth against in-process QC, its goals' judging, its --quick run."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from bench import qc_corpus
from bench.qc_corpus import CorpusGenerator
from bench.qc_scale import BASE, DATATROVE_AT, LINEAR_AT, anchor_checks, bench_name, incremental_items, scale_checks
from bench.qc_scale_datatrove import DatatroveRun
from bench.qc_scale_jobs import JobRun, Peaks
from bench.record import BenchRecord, verdict
from boostqa.lake import layout
from boostqa.lake.read import read_object, read_prefix
from boostqa.qc.config import QcRunConfig
from boostqa.qc.run import run_qc
from tests.bench.test_quick_runs import PIPELINE_PYTHON, quick
from tests.conftest import MemoryStore

CONFIG = QcRunConfig().qc_config()


def _parts(store: MemoryStore, run: str) -> dict[str, bytes]:
    return {k: v for k, v in store.objects.items() if k.startswith(layout.qa_prefix(run)) and k.endswith(".parquet")}


def test_the_corpus_is_streamed_in_parts_and_deterministic(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(qc_corpus, "PART_ROWS", 1_000)
    first, second = MemoryStore(), MemoryStore()
    truth = CorpusGenerator(CONFIG, seed=3).write_run(first, "r", 2_500, "a-")
    CorpusGenerator(CONFIG, seed=3).write_run(second, "r", 2_500, "a-")
    assert _parts(first, "r") == _parts(second, "r") and len(_parts(first, "r")) == 3
    assert all(layout.shard_marker(layout.qa_prefix("r"), n) in first.objects for n in range(3))  # as synthesis
    counts = truth.counts()
    assert counts["items"] == 2_500 and counts["filtered"] and counts["contaminated"] and counts["duplicates"]
    rows = pa.concat_tables(read_object(first, k) for k in sorted(_parts(first, "r")))  # type: ignore[arg-type]
    assert rows.column("item_id").to_pylist() == [f"a-{i:09d}" for i in range(2_500)]


def test_qc_in_process_meets_the_planted_truth_and_the_increment_is_caught_by_the_index(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Every planted removal made and nothing else, in a run of several parts and in an incremental run whose
    cross-run copies only the first run's index can catch."""
    monkeypatch.setattr(qc_corpus, "PART_ROWS", 1_500)
    store, generator = MemoryStore(), CorpusGenerator(CONFIG, seed=5)
    for run, items, prefix, cross in (("r1", 3_000, "a-", 0.0), ("r2", 1_500, "b-", 0.1)):
        truth = generator.write_run(store, run, items, prefix, cross)
        result = run_qc(store, run, CONFIG)  # type: ignore[arg-type]
        removals = read_prefix(store, f"{layout.qc_table_prefix('removals')}run_id={run}/",  # type: ignore[arg-type]
                               ["item_id", "step", "rank"])
        scores = truth.score(removals)
        assert result.items == items and all(v == 1.0 for v in scores.values()), (run, scores)
    assert truth.sizes.max() >= 2 and len(generator.sources) > 0
    cross_run = [i for i, c in enumerate(truth.cluster) if c >= 0 and truth.sizes[c] > (truth.cluster == c).sum()]
    assert cross_run, "the incremental run holds copies of the first run's items"


def test_wrong_removals_lower_recall_and_precision() -> None:
    store = MemoryStore()
    truth = CorpusGenerator(CONFIG, seed=7).write_run(store, "r", 1_000, "c-")
    clean = [f"c-{i:09d}" for i in range(1_000) if truth.kind[i] == 0 and truth.cluster[i] < 0][:10]
    removals = pa.table({"item_id": clean, "step": ["near_dedup"] * 10, "rank": [1] * 10})
    scores = truth.score(removals)
    assert scores["dedup_precision"] == 0.0 and scores["dedup_recall"] == 0.0 and scores["filter_recall"] == 0.0
    with pytest.raises(ValueError, match="outside this run"):
        truth.positions(pa.array(["x-000000001"]))


def _qc_run(items: int, seconds: float, driver: float) -> JobRun:
    return JobRun(phase="qc", items=items, seconds=seconds, result={}, peaks=Peaks(driver_mib=driver))


def test_scale_goals_compare_with_the_100k_record_and_wait_for_it() -> None:
    ten_million = _qc_run(LINEAR_AT, seconds=1_100.0, driver=600.0)
    assert scale_checks(BASE, _qc_run(BASE, 10.0, 400.0), None, quick=False) == []  # the baseline itself
    pending = scale_checks(LINEAR_AT, ten_million, None, quick=False)
    assert [c.goal for c in pending] == ["<= 1.2", "<= 1.5"] and all(c.pending and c.passed is None for c in pending)
    baseline = BenchRecord.create(bench="qc_scale", title="t", quick=False, params={"items": BASE},
                                  samples={"qc_seconds": [10.0], "qc_driver_peak_mib": [500.0]})
    judged = scale_checks(LINEAR_AT, ten_million, baseline, quick=False)
    assert [round(c.value or 0, 2) for c in judged] == [1.1, 1.2] and all(c.passed for c in judged)
    informational = scale_checks(1_000_000, _qc_run(1_000_000, 200.0, 900.0), baseline, quick=False)
    assert [c.goal for c in informational] == [None, None] and informational[0].value == 2.0
    assert verdict(baseline, pending[0]).startswith("pending: no qc_scale record")
    assert [incremental_items(n) for n in (5_000, BASE, LINEAR_AT)] == [500, 10_000, 100_000]
    assert [bench_name(n, False) for n in (BASE, 1_000_000, LINEAR_AT)] == ["qc_scale", "qc_scale_1m", "qc_scale_10m"]


def test_the_datatrove_goal_is_judged_at_1m_and_pending_when_datatrove_failed() -> None:
    qc = _qc_run(DATATROVE_AT, seconds=400.0, driver=900.0)
    samples = {"datatrove_items_per_s": [2_000.0], "datatrove_recall": [1.0], "datatrove_precision": [0.5],
               "qc_dedup_recall": [1.0], "qc_dedup_precision": [1.0]}
    run = DatatroveRun(seconds=500.0, workers=2, removed=pa.array([], pa.string()))
    ratio, *information = anchor_checks(DATATROVE_AT, qc, run, samples, quick=False)
    assert (ratio.goal, ratio.value, ratio.passed) == (">= 1.0", 1.25, True)
    assert len(information) == 2 and all(c.goal is None for c in information)
    (failed,) = anchor_checks(DATATROVE_AT, qc, "datatrove failed: OSError()", samples, quick=False)
    assert failed.passed is None and failed.pending == "datatrove failed: OSError()"
    assert anchor_checks(BASE, qc, None, samples, quick=False) == []


@pytest.mark.integration  # a private SeaweedFS and Ray head, two QC jobs and datatrove: about a minute and a half
def test_qc_scale_quick(tmp_path: Path) -> None:
    record = quick(PIPELINE_PYTHON, "qc_scale.py", tmp_path)
    assert record.bench == "qc_scale" and record.skipped is None and record.params["items"] == 5_000
    for phase, items in (("qc", 5_000), ("qc_incremental", 500)):
        assert record.params["phases"][phase]["result"]["items"] == items
        assert record.samples[f"{phase}_seconds"][0] > 0 and record.samples[f"{phase}_driver_peak_mib"][0] > 50
        assert record.samples[f"{phase}_worker_peak_mib"], "the Ray workers were sampled"
        assert record.samples[f"{phase}_all_recall"] == [1.0] and record.samples[f"{phase}_all_precision"] == [1.0]
    titles = {w["title"] for w in record.params["phases"]["qc"]["workers"]}
    phases = ("screen_chunk", "settle_exact", "candidate_pairs", "attach_a", "score_pairs", "clusters", "finalize",
              "write_item_bucket", "write_key_bucket")  # a worker's title is the last task it ran
    assert any(t.removeprefix("ray::") in phases for t in titles), "QC's phases ran as Ray tasks"
    assert record.samples["datatrove_items_per_s"][0] > 0 and record.samples["datatrove_recall"][0] > 0.9
    export = record.params["phases"]["export"]  # the kept items, exported by the Ray Data job
    assert export["result"]["samples"] == export["items"] == record.params["phases"]["qc"]["result"]["kept"] > 4_000
    assert export["result"]["tokens"] > export["items"] and record.samples["export_tokens_per_s"][0] > 0
    counted = [c for c in record.checks if c.goal is not None]
    assert len(counted) == 3 and all(c.passed for c in counted)  # QC's items counted, the export's samples written
