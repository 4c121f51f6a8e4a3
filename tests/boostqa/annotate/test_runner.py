from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from boostqa.annotate.runner import annotate_seeds, seeds_to_annotate
from boostqa.annotate.task import AnnotationTask
from boostqa.annotate.taxonomy import load_taxonomy
from boostqa.ingest.config import get_source
from boostqa.ingest.runner import ingest_source
from boostqa.llm.cache import ResponseCache
from boostqa.llm.client import LlmClient, LlmUnavailable
from boostqa.llm.fake import FakeTransport
from boostqa.llm.transport import TransientError
from boostqa.llm.types import LlmEndpoint
from boostqa.settings import RESOURCES
from tests.conftest import MemoryStore

GOOD = json.dumps({"discipline": "chemistry", "difficulty": 2, "grade_band": "middle_school", "rationale": "r"})
BAD = json.dumps({"discipline": "alchemy", "difficulty": 2, "grade_band": "middle_school", "rationale": "r"})


def _reply(messages: list[dict[str, str]]) -> str:
    # Questions mentioning 化学 get an out-of-taxonomy label, every time (re-ask included).
    return BAD if "化学" in messages[0]["content"] else GOOD


@pytest.fixture
def lake(memory_store: MemoryStore) -> MemoryStore:
    for name in ("cn_exam_zh", "community_dump"):
        ingest_source(get_source(RESOURCES / "seed_sources.yaml", name), date(2026, 11, 25), memory_store)
    return memory_store


def _client(tmp_path: Path, transport: FakeTransport) -> LlmClient:
    endpoint = LlmEndpoint(role="annotator", base_url="http://fake/v1", model="tiny", max_attempts=2)
    return LlmClient(endpoint, transport, ResponseCache(tmp_path / "cache.sqlite"), run_id="a1", backoff_s=0.001)


def _rows(store: MemoryStore, prefix: str) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for key in store.list_keys(prefix):
        if key.endswith(".parquet"):
            rows += pq.read_table(io.BytesIO(store.objects[key])).to_pylist()
    return rows


def test_every_seed_is_annotated_or_quarantined_and_a_rerun_makes_no_calls(lake: MemoryStore, tmp_path: Path) -> None:
    task = AnnotationTask(load_taxonomy())
    seeds = seeds_to_annotate(lake, "a1", task.prompt_version)
    assert len(seeds) == 102 and len({s.seed_id for s in seeds}) == 102
    result = annotate_seeds(seeds, task, _client(tmp_path, FakeTransport(_reply)), lake, "a1", shard_size=25)
    assert result.shards == 5 and result.quarantined > 0
    assert result.annotated + result.quarantined == 102
    annotations = _rows(lake, "annotations/run_id=a1/")
    quarantined = _rows(lake, "quarantine/annotate/run_id=a1/")
    assert len(annotations) == result.annotated and len(quarantined) == result.quarantined
    assert {r["item_id"] for r in annotations} | {r["item_id"] for r in quarantined} == {s.seed_id for s in seeds}
    assert all(r["reason"] == "invalid_output" and "alchemy" in str(r["raw_output"]) for r in quarantined)
    assert len(_rows(lake, "llm/ledger/stage=annotate/run_id=a1/")) == result.llm_calls

    again = annotate_seeds(seeds, task, _client(tmp_path, FakeTransport(_reply)), lake, "a1", shard_size=25)
    assert (again.shards_skipped, again.llm_calls) == (5, 0)
    assert seeds_to_annotate(lake, "a2", task.prompt_version) == []  # a later run finds nothing left


def test_a_run_killed_by_an_outage_resumes_without_duplicates(lake: MemoryStore, tmp_path: Path) -> None:
    task = AnnotationTask(load_taxonomy())
    seeds = seeds_to_annotate(lake, "a1", task.prompt_version)
    calls = {"n": 0}

    def flaky(messages: list[dict[str, str]]) -> str | TransientError:
        calls["n"] += 1
        return TransientError("connection refused") if calls["n"] > 60 else _reply(messages)

    with pytest.raises(LlmUnavailable):
        annotate_seeds(seeds, task, _client(tmp_path, FakeTransport(flaky)), lake, "a1", shard_size=25)
    finished = [k for k in lake.objects if k.startswith("annotations/run_id=a1/_SUCCESS")]
    assert 0 < len(finished) < 5

    resumed_seeds = seeds_to_annotate(lake, "a1", task.prompt_version)
    assert resumed_seeds == seeds  # the run's own output does not shift its shards
    result = annotate_seeds(resumed_seeds, task, _client(tmp_path, FakeTransport(_reply)), lake, "a1", shard_size=25)
    assert result.shards_skipped == len(finished)
    annotations = _rows(lake, "annotations/run_id=a1/")
    quarantined = _rows(lake, "quarantine/annotate/run_id=a1/")
    ids = [r["item_id"] for r in annotations + quarantined]
    assert len(ids) == len(set(ids)) == 102


def test_several_samples_give_one_labelled_row_each_with_distinct_seeds(lake: MemoryStore, tmp_path: Path) -> None:
    task = AnnotationTask(load_taxonomy(), samples=3)
    seeds = seeds_to_annotate(lake, "s1", task.prompt_version, limit=4)
    transport = FakeTransport(lambda messages: GOOD)
    client = _client(tmp_path, transport)
    result = annotate_seeds(seeds, task, client, lake, "s1", shard_size=2)
    assert (result.annotated, result.quarantined, result.llm_calls) == (12, 0, 12)
    rows = _rows(lake, "annotations/run_id=s1/")
    assert sorted((r["item_id"], r["sample_index"]) for r in rows) == sorted(
        (s.seed_id, k) for s in seeds for k in range(3))
    # Sampled, with a seed per sample: identical prompts are still three distinct cached requests.
    assert [s.seed for s in task.sampling] == [0, 1, 2] and all(s.temperature > 0 for s in task.sampling)
    assert len(transport.calls) == 12


def test_samples_must_be_positive() -> None:
    with pytest.raises(ValueError, match="samples"):
        AnnotationTask(load_taxonomy(), samples=0)
