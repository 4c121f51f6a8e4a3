"""Fixtures of the annotate tests: a lake with two ingested sources, scripted annotator replies, a run driver."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from boostqa.annotate.config import AnnotateRunConfig
from boostqa.annotate.finish import AnnotateResult, finish_run
from boostqa.annotate.runner import annotate_shard
from boostqa.annotate.taxonomy import load_taxonomy
from boostqa.annotate.worklist import freeze_worklist
from boostqa.ingest.config import get_source
from boostqa.ingest.runner import ingest_source
from boostqa.llm.cache import ResponseCache
from boostqa.llm.client import LlmClient
from boostqa.llm.fake import FakeTransport
from boostqa.llm.types import LlmEndpoint
from boostqa.settings import RESOURCES
from tests.conftest import MemoryStore

GOOD = json.dumps({"discipline": "chemistry", "difficulty": 2, "grade_band": "middle_school", "rationale": "r"})
BAD = json.dumps({"discipline": "alchemy", "difficulty": 2, "grade_band": "middle_school", "rationale": "r"})
SEEDS = 102  # distinct seeds of the two sources below


def reply(messages: list[dict[str, str]]) -> str:
    # Questions mentioning 化学 get an out-of-taxonomy label, every time (re-ask included).
    return BAD if "化学" in messages[0]["content"] else GOOD


def ingest(store: MemoryStore, *names: str) -> None:
    for name in names:
        ingest_source(get_source(RESOURCES / "seed_sources.yaml", name), date(2026, 11, 25), store)


@pytest.fixture
def lake(memory_store: MemoryStore) -> MemoryStore:
    ingest(memory_store, "cn_exam_zh", "community_dump")
    return memory_store


def client(tmp_path: Path, transport: FakeTransport, run_id: str = "a1") -> LlmClient:
    endpoint = LlmEndpoint(role="annotator", base_url="http://fake/v1", model="tiny", max_attempts=2)
    return LlmClient(endpoint, transport, ResponseCache(tmp_path / "cache.sqlite"), run_id=run_id, backoff_s=0.001)


def rows(store: MemoryStore, prefix: str) -> list[dict[str, object]]:
    found: list[dict[str, object]] = []
    for key in store.list_keys(prefix):
        if key.endswith(".parquet"):
            found += pq.read_table(io.BytesIO(store.objects[key])).to_pylist()
    return found


def run_all(store: MemoryStore, run_id: str, config: AnnotateRunConfig, llm: LlmClient) -> AnnotateResult:
    """The DAG's three steps in one process: freeze, every shard in turn, finish."""
    frozen = freeze_worklist(store, run_id, config)
    task = config.task(load_taxonomy())
    results = [annotate_shard(store, run_id, shard, task, llm) for shard in frozen.shard_ids()]
    return finish_run(store, run_id, results)
