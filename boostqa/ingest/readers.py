"""Parse fetched source files into raw rows, one format each; rows that cannot be parsed carry their error.

One bad row, or one unreadable file, never stops a source: it becomes a row with an error (quarantined with its
reason) and the rest is read. Every row knows its file and where in it it starts (``line``: the 1-based line of a
CSV or JSONL row, the 1-based record of a JSON list, the 1-based row of a parquet file), so an operator can find a
quarantined row in the source.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from boostqa.ingest.config import SourceConfig
from boostqa.ingest.fetch import SourceBlob
from boostqa.vocabulary import QuarantineReason

BOM = b"\xef\xbb\xbf"
# No field is too large to read: a 50 MB answer is a row that validation quarantines as text_too_long (with the
# file and line), not a csv.Error that aborts the whole source.
csv.field_size_limit(sys.maxsize if sys.maxsize < 2**63 else 2**63 - 1)

Error = tuple[QuarantineReason, str]
Parsed = tuple[dict[str, Any] | None, str, Error | None, int]  # record, raw text, error, line
NOT_AN_OBJECT: Error = (QuarantineReason.UNPARSEABLE_ROW, "not an object")


@dataclass(frozen=True)
class RawRow:
    """One source row before validation; ``error`` is set when the row could not even be parsed."""

    row_number: int
    record: dict[str, Any] | None
    raw_text: str
    error: Error | None = None
    file: str | None = None  # the fetched file's name (a path, URL or key)
    line: int | None = None  # where the row starts in it (see the module docstring)


def _escaped(data: bytes) -> str:
    return data.decode("utf-8", errors="backslashreplace")


def _record_text(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, default=str, sort_keys=True)


def _jsonl_rows(data: bytes) -> Iterator[Parsed]:
    for number, line in enumerate(data.removeprefix(BOM).split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield None, _escaped(line), (QuarantineReason.INVALID_UTF8, str(exc)), number
            continue
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            yield None, text, (QuarantineReason.UNPARSEABLE_ROW, f"invalid JSON: {exc}"), number
            continue
        if not isinstance(value, dict):
            error = (QuarantineReason.UNPARSEABLE_ROW, f"expected an object, got {type(value).__name__}")
            yield None, text, error, number
            continue
        yield value, text, None, number


def _json_records(text: str, records_key: str | None) -> Iterator[Parsed]:
    """The records of a JSON document; a truncated list yields the records before the cut, then the cut as an error."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        if records_key is None and text.lstrip().startswith("["):
            yield from _salvaged_list(text)
            return
        yield None, text[:10_000], (QuarantineReason.UNPARSEABLE_ROW, f"not a JSON document: {exc}"), 1
        return
    records = document.get(records_key) if records_key and isinstance(document, dict) else document
    if not isinstance(records, list):
        detail = "expected a list of records (set json_records_key for an object document)"
        yield None, text[:10_000], (QuarantineReason.UNPARSEABLE_ROW, detail), 1
        return
    for number, value in enumerate(records, start=1):
        if isinstance(value, dict):
            yield value, _record_text(value), None, number
        else:
            yield None, json.dumps(value, ensure_ascii=False), NOT_AN_OBJECT, number


def _salvaged_list(text: str) -> Iterator[Parsed]:
    """A JSON list cut off (a truncated download): each whole record, then the rest as one unparseable row."""
    decoder, position, number = json.JSONDecoder(), text.index("[") + 1, 0
    while True:
        while position < len(text) and text[position] in " \t\r\n,":
            position += 1
        if position >= len(text) or text[position] == "]":
            return
        number += 1
        try:
            value, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as exc:
            detail = f"the document is cut off or broken at character {position} (record {number}): {exc.msg}"
            yield None, text[position:position + 10_000], (QuarantineReason.UNPARSEABLE_ROW, detail), number
            return
        if isinstance(value, dict):
            yield value, _record_text(value), None, number
        else:
            yield None, json.dumps(value, ensure_ascii=False), NOT_AN_OBJECT, number


def _json_rows(data: bytes, records_key: str | None) -> Iterator[Parsed]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        yield None, _escaped(data[:10_000]), (QuarantineReason.INVALID_UTF8, f"the document is not UTF-8: {exc}"), 1
        return
    yield from _json_records(text, records_key)


def _csv_rows(data: bytes, delimiter: str) -> Iterator[Parsed]:
    # surrogateescape keeps undecodable bytes visible per row instead of failing the whole file.
    text = data.decode("utf-8-sig", errors="surrogateescape")
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    if reader.fieldnames is not None and any(_has_surrogates(n) for n in reader.fieldnames):
        # A header with bytes that are not UTF-8: its columns get escaped names (b'\xff' -> "\\xff"), so the mapped
        # columns still match and the odd one is an unknown column, per row, in quarantine.
        reader.fieldnames = [_unescaped(n) for n in reader.fieldnames]
    end = reader.line_num
    for row in reader:
        start, end = end + 1, reader.line_num
        values = [v for v in row.values() if isinstance(v, str)]
        raw = json.dumps(row, ensure_ascii=False, default=str)
        if any(_has_surrogates(v) for v in values):
            escaped = raw.encode("utf-8", errors="surrogateescape").decode("utf-8", errors="backslashreplace")
            yield None, escaped, (QuarantineReason.INVALID_UTF8, "row contains bytes that are not UTF-8"), start
        elif None in row or any(v is None for v in row.values()):
            error = (QuarantineReason.UNPARSEABLE_ROW, "row has a different number of fields than the header")
            yield None, raw, error, start
        else:
            yield {k: (v if v != "" else None) for k, v in row.items()}, raw, None, start


def _has_surrogates(value: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in value)


def _unescaped(value: str) -> str:
    return value.encode("utf-8", errors="surrogateescape").decode("utf-8", errors="backslashreplace")


def _parquet_rows(data: bytes, name: str) -> Iterator[Parsed]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(io.BytesIO(data))
    except (pa.ArrowException, OSError) as exc:
        detail = f"not a readable parquet file ({len(data)} bytes): {exc}"
        yield None, f"<{name}: {len(data)} bytes>", (QuarantineReason.UNPARSEABLE_ROW, detail), 1
        return
    number = 0
    for group in range(parquet.num_row_groups):
        try:
            records = parquet.read_row_group(group).to_pylist()
        except (pa.ArrowException, OSError) as exc:  # a damaged row group: its rows as one row, the others read
            rows = parquet.metadata.row_group(group).num_rows
            detail = f"row group {group} ({rows} rows from row {number + 1}) cannot be read: {exc}"
            yield None, f"<{name}: row group {group}>", (QuarantineReason.UNPARSEABLE_ROW, detail), number + 1
            number += rows
            continue
        for record in records:
            number += 1
            yield record, _record_text(record), None, number


def _hf_rows(source: SourceConfig) -> Iterator[Parsed]:
    try:
        import datasets
    except ImportError as exc:  # pragma: no cover - depends on the venv
        from boostqa.errors import SourceError

        raise SourceError("hf sources need the `datasets` package in this environment") from exc
    options = source.hf
    dataset = datasets.load_dataset(
        source.location,
        options.config if options else None,
        split=options.split if options else "train",
        revision=options.revision if options else None,
        streaming=True,
    )
    for number, record in enumerate(dataset, start=1):
        yield dict(record), _record_text(dict(record)), None, number


def read_rows(source: SourceConfig, blobs: Iterable[SourceBlob]) -> Iterator[RawRow]:
    """Yield every row of the source with a running row number across its files, and its file and line."""
    row_number = 0
    for name, (record, raw_text, error, line) in _parsed(source, blobs):
        yield RawRow(row_number=row_number, record=record, raw_text=raw_text, error=error, file=name, line=line)
        row_number += 1


def _parsed(source: SourceConfig, blobs: Iterable[SourceBlob]) -> Iterator[tuple[str, Parsed]]:
    if source.kind == "hf":
        yield from ((source.location, parsed) for parsed in _hf_rows(source))
        return
    for blob in blobs:
        if not blob.data.strip():  # an empty file holds no rows (the runner decides whether that is alarming)
            continue
        if source.format == "jsonl":
            rows = _jsonl_rows(blob.data)
        elif source.format == "json":
            rows = _json_rows(blob.data, source.json_records_key)
        elif source.format == "csv":
            rows = _csv_rows(blob.data, source.csv_delimiter)
        else:
            rows = _parquet_rows(blob.data, blob.name)
        yield from ((blob.name, parsed) for parsed in rows)
