"""Mixture export: HF parquet + card, packed shards the trainer reads, lineage that points at each sample."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from boostqa.errors import ConfigError, LakeError
from boostqa.export.mixture import export_mixture, fetch_packed, publish_mixture
from boostqa.export.packing import load_target_tokenizer
from boostqa.export.text import qa_text
from boostqa.lake.versions import read_pointer
from tests.conftest import MemoryStore, word_tokenizer
from training.data import PackedMixture

WORDS = ["<unk>", "</s>", "Question", "Answer", ":", ".", "What", "is", "2", "+", "4", "?", "A", "B", "C", "D",
         "the", "sky", "blue", "water", "boils", "at", "100", "degrees", "5", "6", "3"]


@pytest.fixture
def tokenizer_dir(tmp_path: Path) -> Path:
    return word_tokenizer(tmp_path / "model", WORDS)


def _selection() -> list[dict[str, object]]:
    qa = {"source": "boostqa", "synthesis_run_id": "synthesize_20261125", "strategy": "multi_grade",
          "discipline_id": "mathematics", "difficulty": 2, "language": "en", "text": None}
    general = {"source": "general", "synthesis_run_id": None, "strategy": None, "discipline_id": None,
               "difficulty": None, "language": "en", "question": None, "options": None, "refined_answer": None,
               "refined_option": None}
    return [
        qa | {"sample_id": "boostqa:q1", "item_id": "q1", "question": "What is 2 + 4 ?",
              "options": ["5", "6", "3", "4"], "refined_answer": "6", "refined_option": "B"},
        general | {"sample_id": "general:d1", "item_id": "d1", "text": "water boils at 100 degrees ."},
        qa | {"sample_id": "boostqa:q2", "item_id": "q2", "question": "What is the sky ?", "options": None,
              "refined_answer": "blue", "refined_option": None},
        general | {"sample_id": "general:d2", "item_id": "d2", "text": "the sky is blue ."},
    ]


def test_export_writes_parquet_card_packed_shards_and_lineage(memory_store: MemoryStore, tokenizer_dir: Path,
                                                              tmp_path: Path) -> None:
    out = tmp_path / "v1"
    result = export_mixture(memory_store, _selection(), "v1", load_target_tokenizer(tokenizer_dir), out, seq_len=8,
                            rows_per_shard=3, sequences_per_shard=2)

    assert (result.samples, result.boostqa_samples, result.general_samples) == (4, 2, 2)
    manifest = json.loads((out / "manifest.json").read_text())
    assert [p["rows"] for p in manifest["parquet"]] == [3, 1]
    assert manifest["counts"]["by_source"] == {"boostqa": 2, "general": 2}
    assert manifest["synthesis_runs"] == ["synthesize_20261125"] and manifest["tokens"] == result.tokens
    rows = pq.read_table(out / manifest["parquet"][0]["path"]).to_pylist()
    assert rows[0]["text"] == "Question: What is 2 + 4 ?\nA. 5\nB. 6\nC. 3\nD. 4\nAnswer: B. 6"
    assert rows[0]["mixture_version"] == "v1" and rows[1]["text"] == "water boils at 100 degrees ."
    card = (out / "README.md").read_text()
    assert card.startswith("---\nconfigs:") and "data/train-00000-of-00002.parquet" in card and "License" in card

    mixture = PackedMixture(out / "manifest.json")  # the trainer's reader verifies every shard's sha256
    stream = [int(t) for i in range(len(mixture)) for t in mixture.sequence(i)]
    assert sum(1 for t in stream if t == 1) >= 4  # every sample ends with EOS
    lineage = pq.read_table(out / "lineage.parquet").to_pylist()
    for row in lineage:  # each sample's tokens start where the lineage says
        start = (row["packed_shard"] * 2 + row["packed_sequence"]) * 8 + row["token_offset"]
        assert stream[start + row["tokens"] - 1] == 1
    assert lineage[3]["sample_id"] == "general:d2" and lineage[3]["parquet_shard"].endswith("00001-of-00002.parquet")

    assert {"mixtures/v1/manifest.json", "mixtures/v1/README.md",
            "mixtures/lineage/run_id=v1/part-00000.parquet"} <= set(memory_store.objects)
    before = dict(memory_store.objects)
    with pytest.raises(LakeError, match="immutable"):  # a complete version is never rewritten
        export_mixture(memory_store, _selection(), "v1", load_target_tokenizer(tokenizer_dir), tmp_path / "again",
                       seq_len=8, rows_per_shard=3, sequences_per_shard=2)
    export_mixture(memory_store, _selection(), "v2", load_target_tokenizer(tokenizer_dir), tmp_path / "v2",
                   seq_len=8, rows_per_shard=3, sequences_per_shard=2)
    assert {k: v for k, v in memory_store.objects.items() if k in before} == before  # v1 byte-identical

    pointer = publish_mixture(memory_store, "v2")
    assert pointer["version"] == "v2" and read_pointer(memory_store, "mixtures")["version"] == "v2"
    assert (pointer["samples"], pointer["boostqa_samples"]) == (4, 2)  # what the multi-day table reads
    assert pointer["manifest_sha256"] == hashlib.sha256(memory_store.objects["mixtures/v2/manifest.json"]).hexdigest()
    with pytest.raises(LakeError, match="did not finish"):
        publish_mixture(memory_store, "v3")


def test_chinese_items_read_with_chinese_labels() -> None:
    assert qa_text("1+1等于几？", None, "2", None, "zh") == "问题：1+1等于几？\n答案：2"


def test_a_model_folder_without_a_tokenizer_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no tokenizer.json"):
        load_target_tokenizer(tmp_path)


def test_a_local_trainer_gets_the_packed_shards_and_manifest_of_an_export_made_elsewhere(
        memory_store: MemoryStore, tokenizer_dir: Path, tmp_path: Path) -> None:
    export_mixture(memory_store, _selection(), "v1", load_target_tokenizer(tokenizer_dir), tmp_path / "export",
                   seq_len=8, sequences_per_shard=2)
    manifest = fetch_packed(memory_store, "v1", tmp_path / "here")
    assert manifest.read_bytes() == memory_store.objects["mixtures/v1/manifest.json"]
    assert len(PackedMixture(manifest)) > 2  # every shard there, as the manifest's sha256 say
    shard = tmp_path / "here" / "packed" / "shard-00001.bin"
    shard.write_bytes(b"corrupt")
    manifest.unlink()  # an interrupted fetch: no manifest yet
    fetch_packed(memory_store, "v1", tmp_path / "here")
    PackedMixture(manifest)  # the corrupt shard was fetched again
    with pytest.raises(LakeError, match="did not finish"):
        fetch_packed(memory_store, "v2", tmp_path / "v2")
