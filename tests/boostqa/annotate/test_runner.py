from __future__ import annotations

from pathlib import Path

import pytest

from boostqa.annotate.config import AnnotateRunConfig
from boostqa.annotate.runner import annotate_shard
from boostqa.annotate.task import AnnotationTask
from boostqa.annotate.taxonomy import load_taxonomy
from boostqa.annotate.worklist import freeze_worklist, seeds_to_annotate
from boostqa.errors import ConfigError
from boostqa.llm.budget import SpendBudget, SpendGuard
from boostqa.llm.client import LlmUnavailable
from boostqa.llm.fake import FakeTransport
from boostqa.llm.prices import Price, PriceList
from boostqa.llm.transport import TransientError
from tests.boostqa.annotate.conftest import GOOD, SEEDS, client, reply, rows, run_all
from tests.conftest import MemoryStore

PRICES = PriceList("p1", {}, default=Price(1.0, 1.0))
OUTPUTS = ("annotations/", "quarantine/annotate/", "llm/ledger/stage=annotate/")


def test_every_seed_is_annotated_or_quarantined_and_a_rerun_makes_no_calls(lake: MemoryStore, tmp_path: Path) -> None:
    config = AnnotateRunConfig(shard_size=25)
    result = run_all(lake, "a1", config, client(tmp_path, FakeTransport(reply)))
    assert (result.pending, result.shards, result.shards_skipped) == (SEEDS, 5, 0) and result.quarantined > 0
    assert result.annotated + result.quarantined == SEEDS
    assert result.quarantined_by_reason == {"invalid_output": result.quarantined}
    annotations = rows(lake, "annotations/run_id=a1/")
    quarantined = rows(lake, "quarantine/annotate/run_id=a1/")
    assert len(annotations) == result.annotated and len(quarantined) == result.quarantined
    seeds = seeds_to_annotate(lake, "a1", "annotate_v3")
    assert {r["item_id"] for r in annotations} | {r["item_id"] for r in quarantined} == {s.seed_id for s in seeds}
    assert all(r["reason"] == "invalid_output" and "alchemy" in str(r["raw_output"]) for r in quarantined)
    assert len(rows(lake, "llm/ledger/stage=annotate/run_id=a1/")) == result.llm_calls

    before = dict(lake.objects)
    again = run_all(lake, "a1", config, client(tmp_path, FakeTransport(reply)))
    assert (again.shards_skipped, again.llm_calls, again.annotated) == (5, 0, 0)
    assert lake.objects == before  # a rerun of a finished run rewrites nothing, its summary included
    assert seeds_to_annotate(lake, "a2", "annotate_v3") == []  # a later run finds nothing left


def test_a_failed_shard_retries_alone_and_resumes_without_duplicates(lake: MemoryStore, tmp_path: Path) -> None:
    frozen = freeze_worklist(lake, "a1", AnnotateRunConfig(shard_size=25))
    task = AnnotationTask(load_taxonomy())
    outage_after: dict[str, int | None] = {"calls": None}

    def flaky(messages: list[dict[str, str]]) -> str | TransientError:
        # the server goes away after shard 2's first 10 calls, and comes back once shard 2 has failed
        after = outage_after["calls"]
        return TransientError("connection refused") if after is not None and len(transport.calls) > after \
            else reply(messages)

    transport = FakeTransport(flaky)
    llm = client(tmp_path, transport)
    failed = []
    for shard in frozen.shard_ids():  # mapped tasks: one failing shard does not stop the others
        outage_after["calls"] = len(transport.calls) + 10 if shard == 2 else None
        try:
            annotate_shard(lake, "a1", shard, task, llm)
        except LlmUnavailable:
            failed.append(shard)
    assert failed == [2]
    finished = {k: v for k, v in lake.objects.items() if k.startswith(OUTPUTS)}
    assert "annotations/run_id=a1/_SUCCESS.00002" not in finished and len(finished) == 4 * 4

    retry = annotate_shard(lake, "a1", 2, task, client(tmp_path, FakeTransport(reply)))
    assert not retry.skipped and retry.cache_hits > 0  # the calls made before the outage replay from the cache
    assert retry.llm_calls + retry.cache_hits == 25
    assert all(lake.objects[k] == v for k, v in finished.items())  # the other shards are untouched
    ids = [r["item_id"] for r in rows(lake, "annotations/run_id=a1/") + rows(lake, "quarantine/annotate/run_id=a1/")]
    assert len(ids) == len(set(ids)) == SEEDS


def test_several_samples_give_one_labelled_row_each_with_distinct_seeds(lake: MemoryStore, tmp_path: Path) -> None:
    transport = FakeTransport(lambda messages: GOOD)
    result = run_all(lake, "s1", AnnotateRunConfig(limit=4, shard_size=2, samples=3), client(tmp_path, transport))
    assert (result.annotated, result.quarantined, result.llm_calls, result.shards) == (12, 0, 12, 2)
    seeds = seeds_to_annotate(lake, "s1", "annotate_v3")
    assert sorted((r["item_id"], r["sample_index"]) for r in rows(lake, "annotations/run_id=s1/")) == sorted(
        (s.seed_id, k) for s in seeds for k in range(3))
    # Sampled, with a seed per sample: identical prompts are still three distinct cached requests.
    task = AnnotationTask(load_taxonomy(), samples=3)
    assert [s.seed for s in task.sampling] == [0, 1, 2] and all(s.temperature > 0 for s in task.sampling)
    assert len(transport.calls) == 12


def test_a_shard_the_spend_guard_cuts_off_writes_nothing_and_resumes_from_the_cache(
        lake: MemoryStore, tmp_path: Path) -> None:
    frozen = freeze_worklist(lake, "a1", AnnotateRunConfig(limit=6, shard_size=6))
    task = AnnotationTask(load_taxonomy())
    # Calls long enough to overlap (the client runs up to 4 at once): their reservations (prompt estimate + max
    # tokens, about two fit under the cap) are what the guard refuses. With instant calls each one settles before
    # the next reserves, and six small fake calls fit under the cap.
    transport = FakeTransport(reply, delay_s=0.2)
    capped = client(tmp_path, transport)
    capped.guard = SpendGuard(SpendBudget(run_tokens=2500), PRICES, label="annotate a1")  # about two calls
    result = annotate_shard(lake, "a1", 0, task, capped)
    assert result.stopped_at_cap and "run tokens cap" in result.stopped_at_cap
    assert (result.annotated, result.skipped) == (0, False) and 0 < len(transport.calls) < 6
    assert not [k for k in lake.objects if k.startswith(OUTPUTS)]

    made = len(transport.calls)
    resumed = annotate_shard(lake, "a1", 0, task, client(tmp_path, transport))
    assert (resumed.cache_hits, resumed.llm_calls, resumed.annotated + resumed.quarantined) == (made, 6 - made, 6)
    assert frozen.shard_ids() == [0] and "annotations/run_id=a1/_SUCCESS.00000" in lake.objects


def test_a_shard_refuses_a_task_other_than_the_frozen_one(lake: MemoryStore, tmp_path: Path) -> None:
    freeze_worklist(lake, "a1", AnnotateRunConfig(limit=2))
    transport = FakeTransport(reply)
    with pytest.raises(ConfigError, match="frozen with prompt_version=annotate_v3, samples=1"):
        annotate_shard(lake, "a1", 0, AnnotationTask(load_taxonomy(), samples=2), client(tmp_path, transport))
    assert transport.calls == []


def test_samples_must_be_positive() -> None:
    with pytest.raises(ValueError, match="samples"):
        AnnotationTask(load_taxonomy(), samples=0)
