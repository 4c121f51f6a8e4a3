"""Token counts for the mixing ratio: every kept item and staged document counted once per tokenizer, with the
tokens the export will give it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from boostqa.export.packing import load_target_tokenizer
from boostqa.export.text import training_text
from boostqa.export.token_counts import count_tokens
from boostqa.lake import layout
from boostqa.lake.commits import commit_shard
from boostqa.lake.parquet import parquet_bytes, write_rows
from boostqa.lake.read import read_object
from boostqa.lake.tables import GENERAL_SCHEMA, KEPT_SCHEMA, QA_SCHEMA
from tests.boostqa.export.test_mixture import tokenizer_dir  # noqa: F401 - fixture
from tests.conftest import MemoryStore

QUESTIONS = {"a": "What is 2 + 4 ?", "b": "What is the sky ?", "c": "What is 5 + 6 ?", "x": "What is 3 ?"}


def _qa(store: MemoryStore, run: str, items: list[str], kept: list[str]) -> None:
    rows = [dict.fromkeys(QA_SCHEMA.names) | {"item_id": i, "run_id": run, "question": QUESTIONS[i],
                                                   "refined_answer": "blue", "language": "en"} for i in items]
    store.put_bytes(layout.qa_prefix(run) + layout.part_name(0),
                    parquet_bytes(pa.Table.from_pylist(rows, schema=QA_SCHEMA)))
    commit_shard(store, layout.qa_prefix(run), 0)
    write_rows(store, layout.qc_bucket_part("kept", run, 0),
               [{"item_id": i, "run_id": run, "exact_key": i} for i in kept], KEPT_SCHEMA)
    store.put_bytes(layout.qc_marker(run), b"")


def _general(store: MemoryStore, docs: dict[str, str]) -> None:
    rows = [{"doc_id": f"edition:{d}", "source": "edition", "text": t, "language": "en", "topic": None,
             "license": "CC-BY-4.0", "chars": len(t)} for d, t in docs.items()]
    write_rows(store, layout.general_corpus_part("edition"), rows, GENERAL_SCHEMA)


def _counts(store: MemoryStore, sha: str, run: str) -> dict[str, Any]:
    table = read_object(store, layout.token_counts_part(sha, run))
    return {r["sample_id"]: (r["tokens"], r["text_md5"]) for r in table.to_pylist()}


def test_each_candidate_is_counted_once_per_tokenizer_with_the_tokens_the_export_gives(
        memory_store: MemoryStore, tokenizer_dir: Path) -> None:  # noqa: F811
    tokenizer = load_target_tokenizer(tokenizer_dir)
    _qa(memory_store, "synthesize_1", ["a", "b", "x"], kept=["a", "b"])  # x did not pass QC
    _qa(memory_store, "synthesize_2", ["c", "a"], kept=["c", "a"])  # a again: the first run's item counts
    _general(memory_store, {"d1": "water boils at 100 degrees .", "d2": "the sky is blue ."})

    first = count_tokens(memory_store, "mixture_1", tokenizer)
    assert (first.boostqa, first.general, first.reused, first.tokenizer_sha256) == (3, 2, 0, tokenizer.sha256)
    counts = _counts(memory_store, tokenizer.sha256, "mixture_1")
    assert set(counts) == {"boostqa:a", "boostqa:b", "boostqa:c", "general:edition:d1", "general:edition:d2"}
    expected = tokenizer.token_counts([training_text({"source": "boostqa", "question": QUESTIONS["a"],
                                                      "refined_answer": "blue", "language": "en"})])
    assert counts["boostqa:a"] == (expected[0], None)
    assert counts["general:edition:d2"][0] == len(tokenizer.encode_batch(["the sky is blue ."])[0]) + 1  # + EOS

    again = count_tokens(memory_store, "mixture_2", tokenizer)
    assert (again.boostqa, again.general, again.reused) == (0, 0, 5)  # nothing new: an empty part
    assert _counts(memory_store, tokenizer.sha256, "mixture_2") == {}

    # a restaged document with new text and a new one; a new run's kept item
    _general(memory_store, {"d1": "water boils at 100 degrees .", "d2": "the sky is blue blue .", "d3": "5 + 6"})
    _qa(memory_store, "synthesize_3", ["x"], kept=["x"])
    third = count_tokens(memory_store, "mixture_3", tokenizer)
    assert set(_counts(memory_store, tokenizer.sha256, "mixture_3")) == {
        "boostqa:x", "general:edition:d2", "general:edition:d3"}
    before = memory_store.objects[layout.token_counts_part(tokenizer.sha256, "mixture_3")]
    assert count_tokens(memory_store, "mixture_3", tokenizer) == third  # a rerun counts the same again
    assert memory_store.objects[layout.token_counts_part(tokenizer.sha256, "mixture_3")] == before


def test_another_tokenizer_counts_everything_again(memory_store: MemoryStore, tokenizer_dir: Path,  # noqa: F811
                                                   tmp_path: Path) -> None:
    _qa(memory_store, "synthesize_1", ["a"], kept=["a"])
    _general(memory_store, {"d1": "the sky is blue ."})
    count_tokens(memory_store, "mixture_1", load_target_tokenizer(tokenizer_dir))
    other = tmp_path / "other"
    other.mkdir()
    for name in ("tokenizer.json", "tokenizer_config.json"):
        text = (tokenizer_dir / name).read_text()
        (other / name).write_text(text.replace('"sky"', '"skies"') if name == "tokenizer.json" else text)
    result = count_tokens(memory_store, "mixture_2", load_target_tokenizer(other))
    assert (result.boostqa, result.general, result.reused) == (1, 1, 0)


@pytest.mark.parametrize("kept", [[], ["a"]])
def test_a_lake_without_general_documents_or_kept_items_counts_what_there_is(
        memory_store: MemoryStore, tokenizer_dir: Path, kept: list[str]) -> None:  # noqa: F811
    _qa(memory_store, "synthesize_1", ["a"], kept=kept)
    result = count_tokens(memory_store, "mixture_1", load_target_tokenizer(tokenizer_dir))
    assert (result.boostqa, result.general) == (len(kept), 0)
