"""Parse fetched source files into raw rows, one format each; rows that cannot be parsed carry their error."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from boostqa.errors import SourceError
from boostqa.ingest.config import SourceConfig
from boostqa.ingest.fetch import SourceBlob
from boostqa.vocabulary import QuarantineReason


@dataclass(frozen=True)
class RawRow:
    """One source row before validation; ``error`` is set when the row could not even be parsed."""

    row_number: int
    record: dict[str, Any] | None
    raw_text: str
    error: tuple[QuarantineReason, str] | None = None


def _escaped(data: bytes) -> str:
    return data.decode("utf-8", errors="backslashreplace")


def _record_text(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, default=str, sort_keys=True)


def _jsonl_rows(data: bytes) -> Iterator[tuple[dict[str, Any] | None, str, tuple[QuarantineReason, str] | None]]:
    for line in data.split(b"\n"):
        if not line.strip():
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield None, _escaped(line), (QuarantineReason.INVALID_UTF8, str(exc))
            continue
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            yield None, text, (QuarantineReason.UNPARSEABLE_ROW, f"invalid JSON: {exc}")
            continue
        if not isinstance(value, dict):
            yield None, text, (QuarantineReason.UNPARSEABLE_ROW, f"expected an object, got {type(value).__name__}")
            continue
        yield value, text, None


def _json_rows(data: bytes, records_key: str | None, name: str) -> Iterator[tuple[Any, str, Any]]:
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SourceError(f"{name}: not a valid UTF-8 JSON document: {exc}") from exc
    records = document.get(records_key) if records_key and isinstance(document, dict) else document
    if not isinstance(records, list):
        raise SourceError(f"{name}: expected a list of records (set json_records_key for an object document)")
    for value in records:
        if isinstance(value, dict):
            yield value, _record_text(value), None
        else:
            yield None, json.dumps(value, ensure_ascii=False), (QuarantineReason.UNPARSEABLE_ROW, "not an object")


def _csv_rows(data: bytes, delimiter: str) -> Iterator[tuple[Any, str, Any]]:
    # surrogateescape keeps undecodable bytes visible per row instead of failing the whole file.
    text = data.decode("utf-8-sig", errors="surrogateescape")
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    for row in reader:
        values = [v for v in row.values() if isinstance(v, str)]
        raw = json.dumps(row, ensure_ascii=False, default=str)
        if any(_has_surrogates(v) for v in values):
            escaped = raw.encode("utf-8", errors="surrogateescape").decode("utf-8", errors="backslashreplace")
            yield None, escaped, (QuarantineReason.INVALID_UTF8, "row contains bytes that are not UTF-8")
        elif None in row or any(v is None for v in row.values()):
            yield None, raw, (QuarantineReason.UNPARSEABLE_ROW, "row has a different number of fields than the header")
        else:
            yield {k: (v if v != "" else None) for k, v in row.items()}, raw, None


def _has_surrogates(value: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in value)


def _parquet_rows(data: bytes) -> Iterator[tuple[Any, str, Any]]:
    import pyarrow.parquet as pq

    for record in pq.read_table(io.BytesIO(data)).to_pylist():
        yield record, _record_text(record), None


def _hf_rows(source: SourceConfig) -> Iterator[tuple[Any, str, Any]]:
    try:
        import datasets
    except ImportError as exc:  # pragma: no cover - depends on the venv
        raise SourceError("hf sources need the `datasets` package in this environment") from exc
    options = source.hf
    dataset = datasets.load_dataset(
        source.location,
        options.config if options else None,
        split=options.split if options else "train",
        revision=options.revision if options else None,
        streaming=True,
    )
    for record in dataset:
        yield dict(record), _record_text(dict(record)), None


def read_rows(source: SourceConfig, blobs: Iterable[SourceBlob]) -> Iterator[RawRow]:
    """Yield every row of the source with a running row number across its files."""
    row_number = 0
    for parsed in _parsed(source, blobs):
        record, raw_text, error = parsed
        yield RawRow(row_number=row_number, record=record, raw_text=raw_text, error=error)
        row_number += 1


def _parsed(source: SourceConfig, blobs: Iterable[SourceBlob]) -> Iterator[tuple[Any, str, Any]]:
    if source.kind == "hf":
        yield from _hf_rows(source)
        return
    for blob in blobs:
        if source.format == "jsonl":
            yield from _jsonl_rows(blob.data)
        elif source.format == "json":
            yield from _json_rows(blob.data, source.json_records_key, blob.name)
        elif source.format == "csv":
            yield from _csv_rows(blob.data, source.csv_delimiter)
        else:
            yield from _parquet_rows(blob.data)
