from __future__ import annotations

import io
import json

import pyarrow as pa
import pyarrow.parquet as pq

from boostqa.ingest.config import FieldMapping, SourceConfig
from boostqa.ingest.fetch import SourceBlob
from boostqa.ingest.readers import read_rows
from boostqa.schemas import QuarantineReason


def _source(fmt: str, **extra: object) -> SourceConfig:
    return SourceConfig(name="unit", kind="local", location="/dev/null", format=fmt,  # type: ignore[arg-type]
                        mapping=FieldMapping(question="q", answer="a"), constants={"language": "en", "license": "x"},
                        **extra)  # type: ignore[arg-type]


def test_jsonl_keeps_bad_lines_as_errors_and_numbers_rows_across_files() -> None:
    first = b'{"q": "one", "a": "1"}\n\n{"q": "bad \xff", "a": "2"}\n'
    second = b'{"q": "three"\n["not", "an", "object"]\n'
    rows = list(read_rows(_source("jsonl"), [SourceBlob("f1", first), SourceBlob("f2", second)]))
    assert [r.row_number for r in rows] == [0, 1, 2, 3]
    assert rows[0].record == {"q": "one", "a": "1"} and rows[0].error is None
    assert rows[1].error is not None and rows[1].error[0] == QuarantineReason.INVALID_UTF8
    assert "\\xff" in rows[1].raw_text
    assert rows[2].error is not None and rows[2].error[0] == QuarantineReason.UNPARSEABLE_ROW
    assert rows[3].error is not None and rows[3].error[0] == QuarantineReason.UNPARSEABLE_ROW


def test_csv_flags_invalid_utf8_and_ragged_rows_and_maps_empty_to_none() -> None:
    data = b"q,a\nok,1\n" + b"bad \xfe,2\n" + b"too,many,fields\nempty,\n"
    rows = list(read_rows(_source("csv"), [SourceBlob("f.csv", data)]))
    assert rows[0].record == {"q": "ok", "a": "1"}
    assert rows[1].error is not None and rows[1].error[0] == QuarantineReason.INVALID_UTF8
    assert rows[2].error is not None and rows[2].error[0] == QuarantineReason.UNPARSEABLE_ROW
    assert rows[3].record == {"q": "empty", "a": None}


def test_json_reads_records_under_a_key() -> None:
    document = json.dumps({"data": [{"q": "x", "a": "y"}, 5]}).encode()
    rows = list(read_rows(_source("json", json_records_key="data"), [SourceBlob("f.json", document)]))
    assert rows[0].record == {"q": "x", "a": "y"}
    assert rows[1].error is not None and rows[1].error[0] == QuarantineReason.UNPARSEABLE_ROW


def test_json_that_is_not_json_is_one_quarantined_row_and_the_other_files_are_read() -> None:
    good = json.dumps([{"q": "x", "a": "y"}]).encode()
    rows = list(read_rows(_source("json"), [SourceBlob("bad.json", b"{nope"), SourceBlob("good.json", good)]))
    assert rows[0].error is not None and rows[0].error[0] == QuarantineReason.UNPARSEABLE_ROW
    assert (rows[0].file, rows[0].line) == ("bad.json", 1) and "not a JSON document" in rows[0].error[1]
    assert (rows[1].record, rows[1].file, rows[1].line) == ({"q": "x", "a": "y"}, "good.json", 1)


def test_parquet_rows_become_records() -> None:
    buffer = io.BytesIO()
    pq.write_table(pa.table({"q": ["a", "b"], "a": ["1", "2"]}), buffer)
    rows = list(read_rows(_source("parquet"), [SourceBlob("f.parquet", buffer.getvalue())]))
    assert [r.record for r in rows] == [{"q": "a", "a": "1"}, {"q": "b", "a": "2"}]
