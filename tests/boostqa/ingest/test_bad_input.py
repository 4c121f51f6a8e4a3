"""Bad input never blocks a source: each bad row is quarantined with its reason, file and line; the rest is ingested."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from boostqa.errors import SourceError
from boostqa.ingest.config import SourceConfig
from boostqa.ingest.runner import ingest_source
from tests.conftest import MemoryStore

DAY = date(2026, 12, 1)


def _source(tmp_path: Path, name: str, fmt: str, **extra: Any) -> SourceConfig:
    mapping = {"source_row_id": "id", "question": "q", "answer": "a", "options": "opts", "language": "lang"}
    return SourceConfig.model_validate({
        "name": "bad_input", "kind": "local", "location": str(tmp_path / name), "format": fmt,
        "mapping": mapping | extra.pop("mapping", {}), "constants": {"license": "CC-BY-4.0"},
        "unknown_columns": "ignore", **extra})


def _ingest(store: MemoryStore, source: SourceConfig, day: date = DAY) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    result = ingest_source(source, day, store, decontaminator=None)
    seeds = [pq.read_table(io.BytesIO(v)).to_pylist() for k, v in store.objects.items()
             if k.startswith(f"raw/seeds/source=bad_input/ingest_date={day}/") and k.endswith(".parquet")]
    quarantined = [pq.read_table(io.BytesIO(v)).to_pylist() for k, v in store.objects.items()
                   if k.startswith(f"quarantine/ingest/run_id=ingest_{day}/source=bad_input/")]
    return {"result": result, "seeds": [r for part in seeds for r in part]}, [r for part in quarantined for r in part]


def test_a_csv_with_a_200kb_field_a_50mb_row_and_a_bad_header_byte_ingests_the_rest(memory_store: MemoryStore,
                                                                                   tmp_path: Path) -> None:
    rows = [b"id,q,a,lang,note\xff", b"1,What is 2+2?,4,en,", b'2,"What is', b'3+3?",6,en,',
            b"3,Long answer?," + b"x" * 200_000 + b",en,", b"4,Huge row?," + b"y" * 50_000_000 + b",en,",
            b"5,What is 5+5?,10,,", b"6,What is 6+6?,12,en,"]
    (tmp_path / "seeds.csv").write_bytes(b"\n".join(rows) + b"\n")
    out, quarantined = _ingest(memory_store, _source(tmp_path, "seeds.csv", "csv", mapping={"options": None}))
    assert sorted(s["source_row_id"] for s in out["seeds"]) == ["1", "2", "6"]  # the header's bad byte blocks nothing
    by_id = {q["source_row_id"]: q for q in quarantined}
    assert by_id["3"]["reason"] == by_id["4"]["reason"] == "text_too_long"
    assert (by_id["3"]["source_line"], by_id["4"]["source_line"]) == (5, 6)  # row 2 spans lines 3 and 4
    assert by_id["4"]["source_file"].endswith("seeds.csv") and len(by_id["4"]["raw_record"]) > 50_000_000
    assert by_id["5"]["reason"] == "missing_language" and "'lang' is absent or empty" in by_id["5"]["detail"]
    assert out["result"].rows_read == 6


def test_boms_empty_lines_and_a_truncated_json_list(memory_store: MemoryStore, tmp_path: Path) -> None:
    first = {"id": "a", "q": "What is 1+1?", "a": "2", "lang": "en"}
    (tmp_path / "seeds.jsonl").write_bytes(b"\xef\xbb\xbf" + json.dumps(first).encode() + b"\n\n")
    out, quarantined = _ingest(memory_store, _source(tmp_path, "seeds.jsonl", "jsonl"))
    assert [s["source_row_id"] for s in out["seeds"]] == ["a"] and quarantined == []  # the BOM is not a bad row

    records = [first | {"id": str(i), "q": f"What is {i}+{i}?", "a": str(2 * i)} for i in range(1, 4)]
    cut = json.dumps(records)[:-25]  # a download cut off inside the third record
    (tmp_path / "seeds.json").write_bytes(b"\xef\xbb\xbf" + cut.encode())
    out, quarantined = _ingest(memory_store, _source(tmp_path, "seeds.json", "json"), DAY + timedelta(days=1))
    assert sorted(s["source_row_id"] for s in out["seeds"]) == ["1", "2"]
    (tail,) = quarantined
    assert tail["reason"] == "unparseable_row" and "cut off or broken" in tail["detail"] and tail["source_line"] == 3


def test_a_truncated_parquet_file_is_one_quarantined_row_and_the_other_files_ingest(memory_store: MemoryStore,
                                                                                   tmp_path: Path) -> None:
    table = pa.table({"id": ["p1"], "q": ["What is 7+7?"], "a": ["14"], "lang": ["en"]})
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    (tmp_path / "a.parquet").write_bytes(buffer.getvalue())
    (tmp_path / "b.parquet").write_bytes(buffer.getvalue()[:-40])
    out, quarantined = _ingest(memory_store, _source(tmp_path, "*.parquet", "parquet", mapping={"options": None}))
    assert [s["source_row_id"] for s in out["seeds"]] == ["p1"]
    (broken,) = quarantined
    assert broken["reason"] == "unparseable_row" and broken["source_file"].endswith("b.parquet")


@pytest.mark.parametrize(("shape", "cell", "expected"), [
    ("letter_object", {"B": "4", "a": "3", "C": "5"}, ["3", "4", "5"]),
    ("json_list", '["3", "4", "5"]', ["3", "4", "5"]),
    ("list", ["3", "4", "5"], ["3", "4", "5"]),
])
def test_options_in_the_configured_shape_are_read(memory_store: MemoryStore, tmp_path: Path, shape: str,
                                                  cell: Any, expected: list[str]) -> None:
    good = {"id": "o1", "q": "What is 2+2?", "opts": cell, "a": "B", "lang": "en"}
    odd = good | {"id": "o2", "q": "What is 1+2?", "opts": {"A": "3", "C": "4"} if shape != "list" else "3|4"}
    (tmp_path / "seeds.jsonl").write_text("\n".join(json.dumps(r) for r in (good, odd)) + "\n")
    out, quarantined = _ingest(memory_store, _source(tmp_path, "seeds.jsonl", "jsonl", options_shape=shape))
    (seed,) = out["seeds"]
    assert (seed["options"], seed["answer"]) == (expected, "B")
    assert [(q["source_row_id"], q["reason"]) for q in quarantined] == [("o2", "invalid_options" if shape != "list"
                                                                         else "wrong_type")]


def test_a_constant_is_the_default_of_a_row_without_the_column(memory_store: MemoryStore, tmp_path: Path) -> None:
    (tmp_path / "seeds.jsonl").write_text(json.dumps({"id": "c1", "q": "What is 3+3?", "a": "6"}) + "\n")
    source = _source(tmp_path, "seeds.jsonl", "jsonl")
    source = source.model_copy(update={"constants": {"license": "CC-BY-4.0", "language": "en"}})
    out, quarantined = _ingest(memory_store, source)
    assert [s["language"] for s in out["seeds"]] == ["en"] and quarantined == []


def test_an_empty_download_after_a_day_with_rows_fails_and_keeps_the_parts(memory_store: MemoryStore,
                                                                         tmp_path: Path) -> None:
    path = tmp_path / "seeds.jsonl"
    path.write_text(json.dumps({"id": "e1", "q": "What is 4+4?", "a": "8", "lang": "en"}) + "\n")
    source = _source(tmp_path, "seeds.jsonl", "jsonl")
    _ingest(memory_store, source)
    before = dict(memory_store.objects)
    path.write_text("")
    with pytest.raises(SourceError, match="yielded 0 rows .* read 1: nothing was written or deleted"):
        ingest_source(source, DAY, memory_store, decontaminator=None)  # a rerun of the day: its parts stay
    with pytest.raises(SourceError, match="allow_empty"):
        ingest_source(source, DAY + timedelta(days=1), memory_store, decontaminator=None)  # the next day alerts too
    assert memory_store.objects == before
    allowed = source.model_copy(update={"allow_empty": True})
    assert ingest_source(allowed, DAY + timedelta(days=1), memory_store, decontaminator=None).rows_read == 0


def test_annotate_reads_only_committed_partitions(memory_store: MemoryStore, tmp_path: Path) -> None:
    """A partition whose ingest stopped before its manifest, or a part no manifest names, is not read."""
    from boostqa.errors import LakeError
    from boostqa.ingest.committed import read_committed_seeds

    (tmp_path / "seeds.jsonl").write_text(json.dumps({"id": "k1", "q": "What is 9+9?", "a": "18", "lang": "en"}) + "\n")
    _ingest(memory_store, _source(tmp_path, "seeds.jsonl", "jsonl"))
    half = f"raw/seeds/source=bad_input/ingest_date={DAY + timedelta(days=1)}/part-00000.parquet"
    memory_store.objects[half] = next(v for k, v in memory_store.objects.items() if k.endswith("part-00000.parquet")
                                      and "raw/seeds" in k)  # a later ingest that stopped before its manifest
    seeds = read_committed_seeds(memory_store, ["seed_id", "question"])  # type: ignore[arg-type]
    assert seeds is not None and seeds.num_rows == 1
    committed = next(k for k in memory_store.objects if k.startswith(f"raw/seeds/source=bad_input/ingest_date={DAY}/")
                     and k.endswith(".parquet"))
    memory_store.objects[committed] = memory_store.objects[committed] + b"x"  # replaced outside an ingest
    with pytest.raises(LakeError, match="differs from the sha256"):
        read_committed_seeds(memory_store, ["seed_id"])  # type: ignore[arg-type]
