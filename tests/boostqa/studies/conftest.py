"""A word-level tokenizer and a lake holding a mixture selection and a general corpus, for the study tests."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from boostqa.export.mixture import SELECTION_NAME
from boostqa.lake import layout
from boostqa.lake.parquet import parquet_bytes, write_rows
from boostqa.lake.tables import GENERAL_SCHEMA
from tests.conftest import MemoryStore, word_tokenizer

WORDS = ["<unk>", "</s>", "Question", "Answer", ":", ".", "what", "is", "the", "sky", "blue", "water", "boils", "A",
         "B", "C", "D", "2", "4", "6", "cold", "warm", "stars", "shine"]


@pytest.fixture
def tokenizer_dir(tmp_path: Path) -> Path:
    return word_tokenizer(tmp_path / "model", WORDS)


def selection_rows(items: int = 40) -> list[dict[str, object]]:
    """BoostQA items of two buckets and the mixture's general documents, as dbt's selection holds them."""
    rows: list[dict[str, object]] = []
    for i in range(items):
        rows.append({"sample_id": f"boostqa:q{i}", "item_id": f"q{i}", "source": "boostqa", "sample_order": i,
                     "discipline_id": "physics" if i % 2 else "mathematics", "difficulty": 2 + i % 2,
                     "strategy": "multi_grade", "language": "en", "question": "what is 2 + 4 ? " * (1 + i % 3),
                     "options": ["2", "4", "6", "C"], "refined_answer": "6", "refined_option": "C", "text": None})
    rows.append({"sample_id": "general:x", "item_id": "x", "source": "general", "sample_order": items,
                 "discipline_id": None, "difficulty": None, "strategy": None, "language": "en", "question": None,
                 "options": None, "refined_answer": None, "refined_option": None, "text": "the sky is blue ."})
    return rows


@pytest.fixture
def study_lake(memory_store: MemoryStore) -> MemoryStore:
    """Mixture ``v1``'s selection and 60 staged general documents."""
    memory_store.put_bytes(layout.mixture_prefix("v1") + SELECTION_NAME,
                           parquet_bytes(pa.Table.from_pylist(selection_rows())))
    docs = [{"doc_id": f"local:{i}", "source": "local", "text": "water boils . the stars shine warm . " * (1 + i % 4),
             "language": "en", "topic": None, "license": "x", "chars": 10} for i in range(60)]
    write_rows(memory_store, layout.general_corpus_part("local"), docs, GENERAL_SCHEMA)
    return memory_store
