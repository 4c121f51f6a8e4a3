from __future__ import annotations

import json
from pathlib import Path

import pytest

from boostqa.annotate.config import AnnotateRunConfig
from boostqa.annotate.finish import AnnotateRunSummary, finish_run
from boostqa.annotate.runner import AnnotateShardResult, annotate_shard
from boostqa.annotate.task import AnnotationTask
from boostqa.annotate.taxonomy import load_taxonomy
from boostqa.annotate.worklist import freeze_worklist
from boostqa.errors import LakeError, RunIncomplete
from boostqa.llm.fake import FakeTransport
from tests.boostqa.annotate.conftest import SEEDS, client, reply, rows, run_all
from tests.conftest import MemoryStore

MARKER = "annotations/run_id=a1/_SUCCESS"


def test_the_summary_marker_is_written_only_once_every_shard_is_finished(lake: MemoryStore, tmp_path: Path) -> None:
    frozen = freeze_worklist(lake, "a1", AnnotateRunConfig(shard_size=25))
    task, llm = AnnotationTask(load_taxonomy()), client(tmp_path, FakeTransport(reply))
    results = [annotate_shard(lake, "a1", shard, task, llm) for shard in frozen.shard_ids()[:-1]]
    with pytest.raises(RunIncomplete, match="1 of 5 shards unfinished \\(4\\); 0 stopped at the spend cap"):
        finish_run(lake, "a1", results)
    assert MARKER not in lake.objects

    results.append(annotate_shard(lake, "a1", 4, task, llm))
    result = finish_run(lake, "a1", results)
    summary = AnnotateRunSummary.model_validate_json(lake.objects[MARKER])
    # a fresh run: the summary's totals are this DAG run's counts, which add up to the parts in the lake
    assert (summary.annotated, summary.quarantined, summary.quarantined_by_reason, summary.llm_calls) == (
        result.annotated, result.quarantined, result.quarantined_by_reason, result.llm_calls)
    assert (summary.seeds, summary.shards, summary.shard_size, summary.cache_hits) == (SEEDS, 5, 25, 0)
    assert summary.annotated == len(rows(lake, "annotations/run_id=a1/"))
    assert summary.quarantined == len(rows(lake, "quarantine/annotate/run_id=a1/")) > 0
    assert (result.pending, result.shards, result.shards_skipped) == (SEEDS, 5, 0)
    assert result.annotations_uri == "s3://test-bucket/annotations/run_id=a1/"
    assert json.loads(lake.objects[MARKER]) == summary.model_dump()


def test_a_resumed_run_counts_its_own_work_while_the_summary_holds_the_run_totals(
        lake: MemoryStore, tmp_path: Path) -> None:
    frozen = freeze_worklist(lake, "a1", AnnotateRunConfig(shard_size=25))
    task = AnnotationTask(load_taxonomy())
    for shard in frozen.shard_ids()[:3]:  # the first DAG run got this far
        annotate_shard(lake, "a1", shard, task, client(tmp_path, FakeTransport(reply)))
    resumed = run_all(lake, "a1", AnnotateRunConfig(shard_size=25), client(tmp_path, FakeTransport(reply)))
    summary = AnnotateRunSummary.model_validate_json(lake.objects[MARKER])
    assert resumed.shards_skipped == 3 and resumed.annotated + resumed.quarantined == 27  # shards 3 and 4
    assert summary.annotated + summary.quarantined == SEEDS


def test_a_run_stopped_at_the_cap_is_not_marked_complete(lake: MemoryStore) -> None:
    freeze_worklist(lake, "a1", AnnotateRunConfig(limit=4, shard_size=2))
    capped = AnnotateShardResult(run_id="a1", shard=0, seeds=2, stopped_at_cap="run tokens cap")
    with pytest.raises(RunIncomplete, match="2 of 2 shards unfinished \\(0, 1\\); 1 stopped at the spend cap"):
        finish_run(lake, "a1", [capped])
    assert MARKER not in lake.objects


def test_an_empty_run_is_complete_with_zero_counts(memory_store: MemoryStore) -> None:
    freeze_worklist(memory_store, "a1", AnnotateRunConfig())
    result = finish_run(memory_store, "a1", [])
    assert (result.pending, result.shards, result.annotated, result.quarantined_by_reason) == (0, 0, 0, {})
    assert json.loads(memory_store.objects[MARKER])["annotated"] == 0


def test_finishing_a_run_never_frozen_fails(memory_store: MemoryStore) -> None:
    with pytest.raises(LakeError, match="no frozen shards"):
        finish_run(memory_store, "a1", [])
