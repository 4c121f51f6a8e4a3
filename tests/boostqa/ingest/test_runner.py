from __future__ import annotations

import hashlib
import io
import json
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq

from boostqa.benchmarks.loader import load_items
from boostqa.ingest.config import get_source
from boostqa.ingest.runner import ingest_source
from boostqa.schemas import IngestManifest
from boostqa.settings import RESOURCES
from tests.conftest import MemoryStore

DAY = date(2026, 11, 25)
SOURCES = RESOURCES / "seed_sources.yaml"
EXPECTED_BAD_REASONS = {
    "duplicate_content": 1,
    "duplicate_source_row_id": 1,
    "invalid_options": 1,
    "invalid_utf8": 1,
    "invalid_value": 2,
    "missing_answer": 1,
    "missing_question": 2,
    "text_too_long": 1,
    "unknown_columns": 1,
    "unparseable_row": 1,
    "wrong_type": 3,
}


def _manifest(store: MemoryStore, source: str) -> IngestManifest:
    key = f"raw/seeds/source={source}/ingest_date={DAY}/_manifest.json"
    return IngestManifest.model_validate_json(store.objects[key])


def test_bad_row_fixture_lands_in_quarantine_with_every_reason(memory_store: MemoryStore) -> None:
    result = ingest_source(get_source(SOURCES, "community_dump"), DAY, memory_store)
    assert result.rows_read == 17
    assert result.rows_valid == 2
    assert result.quarantine_reasons == EXPECTED_BAD_REASONS
    q_key = f"quarantine/ingest/run_id=ingest_{DAY}/source=community_dump/part-00000.parquet"
    quarantined = pq.read_table(io.BytesIO(memory_store.objects[q_key])).to_pylist()
    assert len(quarantined) == 15
    assert all(row["reason"] and row["detail"] and row["raw_record"] for row in quarantined)
    utf8 = next(r for r in quarantined if r["reason"] == "invalid_utf8")
    assert "\\xff\\xfe" in utf8["raw_record"]


def test_manifest_records_counts_and_part_checksums(memory_store: MemoryStore) -> None:
    ingest_source(get_source(SOURCES, "stem_exam_en"), DAY, memory_store, rows_per_part=50)
    manifest = _manifest(memory_store, "stem_exam_en")
    assert (manifest.rows_read, manifest.rows_valid, manifest.rows_quarantined) == (120, 120, 0)
    assert [p.rows for p in manifest.parts] == [50, 50, 20]
    for part in manifest.parts + manifest.quarantine_parts:
        data = memory_store.objects[part.key]
        assert part.sha256 == hashlib.sha256(data).hexdigest()
        assert part.bytes == len(data)
    assert manifest.quarantine_parts[0].rows == 0  # an empty part keeps the schema visible to readers


def test_rerun_rewrites_identical_objects_and_removes_stale_parts(memory_store: MemoryStore) -> None:
    source = get_source(SOURCES, "open_stem_qa")
    ingest_source(source, DAY, memory_store, rows_per_part=30)
    first = dict(memory_store.objects)
    assert len([k for k in first if "raw/seeds" in k and k.endswith(".parquet")]) == 4
    ingest_source(source, DAY, memory_store, rows_per_part=30)
    assert memory_store.objects == first
    ingest_source(source, DAY, memory_store, rows_per_part=100)
    raw_parts = sorted(k for k in memory_store.objects if "raw/seeds" in k and k.endswith(".parquet"))
    assert raw_parts == [f"raw/seeds/source=open_stem_qa/ingest_date={DAY}/part-00000.parquet"]
    assert _manifest(memory_store, "open_stem_qa").rows_valid == 100


def test_seed_ids_are_stable_across_dates(memory_store: MemoryStore) -> None:
    source = get_source(SOURCES, "cn_exam_zh")
    ingest_source(source, DAY, memory_store)
    ingest_source(source, date(2026, 11, 26), memory_store)

    def ids(day: date) -> list[str]:
        key = f"raw/seeds/source=cn_exam_zh/ingest_date={day}/part-00000.parquet"
        return pq.read_table(io.BytesIO(memory_store.objects[key])).column("seed_id").to_pylist()

    assert ids(DAY) == ids(date(2026, 11, 26))
    assert len(set(ids(DAY))) == 100


def test_a_seed_copying_a_benchmark_item_is_quarantined_with_the_benchmark_item(
        memory_store: MemoryStore, tmp_path: Path) -> None:
    arc = next(i for i in load_items(names=["arc_challenge"]) if len(i.question.split()) >= 14)
    rows = [{"id": "ok-1", "q": "What is the chemical symbol of sodium, the soft alkali metal?", "a": "Na",
             "topic": "chemistry", "level": 1, "lang": "en"},
            {"id": "leak-1", "q": arc.question, "opts": list(arc.choices or []), "a": "A", "topic": "physics",
             "level": 2, "lang": "en"}]
    (tmp_path / "dump.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    source = get_source(SOURCES, "community_dump").model_copy(update={"location": str(tmp_path / "dump.jsonl")})

    result = ingest_source(source, DAY, memory_store)

    assert result.rows_valid == 1 and result.quarantine_reasons == {"benchmark_contaminated": 1}
    q_key = f"quarantine/ingest/run_id=ingest_{DAY}/source=community_dump/part-00000.parquet"
    (row,) = pq.read_table(io.BytesIO(memory_store.objects[q_key])).to_pylist()
    assert row["source_row_id"] == "leak-1" and arc.item_id in row["detail"]
