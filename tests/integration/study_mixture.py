"""A mixture for the study tests, written straight into the lake: dbt's selection of the English seed questions as
BoostQA items, and the general corpus's local edition staged as the export stages it (no LLM server needed)."""

from __future__ import annotations

import json

import pyarrow as pa

from boostqa.export.general import load_general_sources, stage_general_corpus
from boostqa.export.mixture import SELECTION_NAME
from boostqa.lake import layout
from boostqa.lake.parquet import parquet_bytes
from boostqa.lake.store import ObjectStore
from boostqa.settings import RESOURCES


def write_study_mixture(store: ObjectStore, version: str) -> int:
    """Write mixture ``version``'s selection and stage the general corpus; returns the BoostQA items."""
    rows = []
    for order, line in enumerate((RESOURCES / "seeds" / "stem_exam_en.jsonl").read_text().splitlines()):
        seed = json.loads(line)
        option = seed["answer"]
        rows.append({"sample_id": f"boostqa:{seed['uid']}", "item_id": seed["uid"], "source": "boostqa",
                     "sample_order": order, "discipline_id": seed["subject"], "difficulty": seed["difficulty"],
                     "strategy": "multi_grade", "language": "en", "question": seed["question"],
                     "options": seed["choices"], "refined_option": option,
                     "refined_answer": seed["choices"][ord(option) - 65], "text": None})
    store.put_bytes(layout.mixture_prefix(version) + SELECTION_NAME, parquet_bytes(pa.Table.from_pylist(rows)))
    stage_general_corpus(store, load_general_sources()[0])
    return len(rows)
