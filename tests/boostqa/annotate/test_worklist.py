from __future__ import annotations

import json

import pytest

from boostqa.annotate.config import AnnotateRunConfig
from boostqa.annotate.worklist import (
    FrozenShards,
    freeze_worklist,
    load_frozen,
    open_seeds,
    seeds_to_annotate,
    shard_seeds,
    unfinished_shards,
)
from boostqa.errors import ConfigError, LakeError
from tests.boostqa.annotate.conftest import SEEDS, ingest
from tests.conftest import MemoryStore

SHARDS = "annotate/worklists/run_id=a1/shards.json"
SEEDS_KEY = "annotate/worklists/run_id=a1/seeds.parquet"


def test_freezing_writes_the_seeds_then_the_shard_boundaries(lake: MemoryStore) -> None:
    frozen = freeze_worklist(lake, "a1", AnnotateRunConfig(shard_size=25))
    assert (frozen.seeds, frozen.shard_size, frozen.prompt_version, frozen.samples) == (SEEDS, 25, "annotate_v3", 1)
    assert frozen.bounds == [(0, 25), (25, 50), (50, 75), (75, 100), (100, 102)]
    assert frozen.shard_ids() == [0, 1, 2, 3, 4]
    assert FrozenShards.model_validate_json(lake.objects[SHARDS]) == frozen == load_frozen(lake, "a1")
    seeds = seeds_to_annotate(lake, "a1", "annotate_v3")
    assert [s.seed_id for s in shard_seeds(lake, frozen, 4)] == [s.seed_id for s in seeds[100:]]
    assert unfinished_shards(lake, frozen) == [0, 1, 2, 3, 4] and open_seeds(lake, frozen) == SEEDS


def test_a_rerun_or_resume_keeps_the_frozen_list_and_boundaries(lake: MemoryStore) -> None:
    freeze_worklist(lake, "a1", AnnotateRunConfig(shard_size=25))
    before = {key: lake.objects[key] for key in (SHARDS, SEEDS_KEY)}
    ingest(lake, "stem_exam_en")  # new seeds arrive; the resume asks for other sizes
    again = freeze_worklist(lake, "a1", AnnotateRunConfig(shard_size=10, limit=3))
    assert again.bounds[-1] == (100, 102) and again.shard_size == 25
    assert {key: lake.objects[key] for key in (SHARDS, SEEDS_KEY)} == before  # not rewritten
    assert freeze_worklist(lake, "a2", AnnotateRunConfig(limit=3, shard_size=2)).bounds == [(0, 2), (2, 3)]


def test_a_frozen_run_refuses_another_prompt_version_or_sample_count(lake: MemoryStore) -> None:
    freeze_worklist(lake, "a1", AnnotateRunConfig(limit=4))
    with pytest.raises(ConfigError, match="frozen with prompt_version=annotate_v3, samples=1"):
        freeze_worklist(lake, "a1", AnnotateRunConfig(limit=4, samples=3))
    with pytest.raises(ConfigError, match="annotate_v1"):
        load_frozen(lake, "a1").check("annotate_v1", 1)


def test_a_run_frozen_before_shard_lists_existed_gets_its_boundaries_from_its_seeds(lake: MemoryStore) -> None:
    seeds = seeds_to_annotate(lake, "a1", "annotate_v3", limit=7)  # what the single annotate task froze
    ingest(lake, "stem_exam_en")  # seeds that arrived since do not join it
    frozen = freeze_worklist(lake, "a1", AnnotateRunConfig(shard_size=3))
    assert frozen.seeds == 7 and frozen.bounds == [(0, 3), (3, 6), (6, 7)]
    assert [s.seed_id for s in shard_seeds(lake, frozen, 2)] == [seeds[6].seed_id]


def test_an_empty_lake_freezes_a_run_without_shards(memory_store: MemoryStore) -> None:
    frozen = freeze_worklist(memory_store, "a1", AnnotateRunConfig())
    assert (frozen.seeds, frozen.bounds, frozen.shard_ids()) == (0, [], [])
    assert json.loads(memory_store.objects[SHARDS])["bounds"] == []


def test_an_unfrozen_run_or_a_shard_out_of_range_is_refused(lake: MemoryStore) -> None:
    with pytest.raises(LakeError, match="freeze its work list first"):
        load_frozen(lake, "a1")
    frozen = freeze_worklist(lake, "a1", AnnotateRunConfig(limit=4, shard_size=2))
    with pytest.raises(ConfigError, match="shards 0..1, not 2"):
        shard_seeds(lake, frozen, 2)
