"""The fuzzed-seeds row: rows in every source format, many of them broken on purpose, ingested into the real lake.

Each row carries an id. A mutation breaks some rows the way real dumps are broken: oversized fields, invalid bytes,
control characters, missing or empty mapped columns, wrong types, options in odd shapes, a BOM. Structure-breaking
damage (an unclosed quote, a cut-off JSON document) is applied to a file's last row only, so that no other row's
boundaries depend on it. Every id must end exactly once: a seed, or a quarantined row naming its file and line.
"""

from __future__ import annotations

import io
import json
import random
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from boostqa.ingest.config import SourceConfig
from boostqa.ingest.runner import ingest_source
from boostqa.lake import layout
from boostqa.lake.read import read_object
from boostqa.lake.store import ObjectStore
from boostqa_dev.faults.rows import FaultRow, outcome_counts

DAY = date(2026, 1, 2)
FORMATS = ("jsonl", "csv", "json", "parquet")
MAPPING = {"source_row_id": "id", "question": "q", "answer": "a", "options": "opts", "language": "lang"}
Row = dict[str, Any]


def _good(rng: random.Random, row_id: str) -> Row:
    a, b = rng.randrange(1, 99), rng.randrange(1, 99)
    row: Row = {"id": row_id, "q": f"What is {a} plus {b}?", "a": str(a + b), "lang": "en"}
    if rng.random() < 0.3:
        row["opts"] = [str(a + b), str(a + b + 1), str(a - b), str(a * b)]
    return row


MUTATIONS: dict[str, Callable[[random.Random, Row], Row]] = {
    "none": lambda rng, r: r,
    "huge_answer": lambda rng, r: r | {"a": "x" * 200_000},
    "huge_question": lambda rng, r: r | {"q": "Why? " * 40_000},
    "no_question": lambda rng, r: {k: v for k, v in r.items() if k != "q"},
    "empty_question": lambda rng, r: r | {"q": "  "},
    "no_language": lambda rng, r: {k: v for k, v in r.items() if k != "lang"},
    "control_chars": lambda rng, r: r | {"q": r["q"] + "\x00\x07\x1b"},
    "number_question": lambda rng, r: r | {"q": 12345},
    "letter_options": lambda rng, r: r | {"opts": {"A": "1", "B": "2", "C": "3", "D": "4"}},
    "one_option": lambda rng, r: r | {"opts": ["only"]},
    "unicode": lambda rng, r: r | {"q": r["q"] + " — 你好 \U0001f600"},
    "null_answer": lambda rng, r: r | {"a": None},
}


def _jsonl(rows: list[Row], last: str) -> bytes:
    lines = [json.dumps(r, ensure_ascii=False).encode() for r in rows]
    if last == "cut":
        lines[-1] = lines[-1][: len(lines[-1]) // 2]
    return b"\xef\xbb\xbf" + b"\n".join(lines) + b"\n"


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    text = json.dumps(value) if isinstance(value, list | dict) else str(value)
    return '"' + text.replace('"', '""') + '"'


def _csv(rows: list[Row], last: str) -> bytes:
    header = ["id", "q", "a", "lang", "opts"]
    lines = [",".join(header).encode() + b"\xff"]  # an invalid byte in the header
    for row in rows:
        lines.append(",".join(_csv_cell(row.get(c)) for c in header).encode("utf-8", "surrogateescape"))
    if last == "cut":
        lines[-1] = lines[-1] + b',"unclosed'
    return b"\n".join(lines) + b"\n"


def _json(rows: list[Row], last: str) -> bytes:
    text = json.dumps(rows, ensure_ascii=False).encode()
    return text[: len(text) - 40] if last == "cut" else text


def _parquet(rows: list[Row], last: str) -> bytes:
    columns = sorted({k for r in rows for k in r})  # every row's keys: a row without one reads as null there
    table = pa.Table.from_pylist([{k: (json.dumps(v) if isinstance(v, list | dict) else None if v is None else str(v))
                                   for k, v in r.items()} for r in rows],
                                 schema=pa.schema([(c, pa.string()) for c in columns]))
    buffer = io.BytesIO()
    pq.write_table(table, buffer, row_group_size=50)
    return buffer.getvalue()


WRITERS = {"jsonl": _jsonl, "csv": _csv, "json": _json, "parquet": _parquet}


def write_fuzzed(folder: Path, rows: int, seed: int) -> tuple[dict[str, list[str]], dict[str, str]]:
    """``rows`` rows over the four formats, one file each; returns each format's row ids and each id's mutation."""
    rng = random.Random(seed)
    ids: dict[str, list[str]] = {}
    mutation: dict[str, str] = {}
    names = list(MUTATIONS)
    for n, fmt in enumerate(FORMATS):
        count = rows // len(FORMATS) + (1 if n < rows % len(FORMATS) else 0)
        batch = []
        for i in range(count):
            row_id, name = f"{fmt}-{i:05d}", rng.choice(names)
            batch.append(MUTATIONS[name](rng, _good(rng, row_id)))
            mutation[row_id] = name
        last = "cut" if fmt != "parquet" else ""
        if last:
            mutation[batch[-1]["id"]] = "cut"
        (folder / f"seeds.{fmt}").write_bytes(WRITERS[fmt](batch, last))
        ids[fmt] = [r["id"] for r in batch]
    return ids, mutation


def _source(folder: Path, fmt: str) -> SourceConfig:
    options_shape = "list" if fmt == "jsonl" else "json_list"
    return SourceConfig.model_validate({
        "name": f"fuzz_{fmt}", "kind": "local", "location": str(folder / f"seeds.{fmt}"), "format": fmt,
        "mapping": MAPPING, "constants": {"license": "CC-BY-4.0"}, "unknown_columns": "ignore",
        "options_shape": options_shape})


def fuzz_row(store: ObjectStore, folder: Path, rows: int = 1000, seed: int = 0) -> FaultRow:
    """Ingest the fuzzed files; every row id must end once, as a seed or a quarantined row."""
    folder.mkdir(parents=True, exist_ok=True)
    ids, mutation = write_fuzzed(folder, rows, seed)
    started = time.monotonic()
    completed: list[str] = []
    quarantined: list[tuple[str, str]] = []
    located = True
    for fmt in FORMATS:
        ingest_source(_source(folder, fmt), DAY, store, decontaminator=None)
        for key in store.list_keys(layout.raw_seed_prefix(f"fuzz_{fmt}", DAY)):
            if key.endswith(".parquet"):
                completed += read_object(store, key, ["source_row_id"])["source_row_id"].to_pylist()
        prefix = layout.quarantine_prefix("ingest", layout.ingest_run_id(DAY), f"fuzz_{fmt}")
        for key in store.list_keys(prefix):
            table = read_object(store, key, ["source_row_id", "reason", "raw_record", "source_file", "source_line"])
            for row in table.to_pylist():
                row_id = row["source_row_id"] or _id_in(row["raw_record"], ids[fmt])
                quarantined.append((row_id, row["reason"]))
                located &= bool(row["source_file"]) and row["source_line"] is not None
    job_ids = [i for fmt in FORMATS for i in ids[fmt]]
    done, reasons, lost, duplicated = outcome_counts(job_ids, completed, quarantined)
    clean = {i for i, m in mutation.items() if m in ("none", "unicode")}
    dropped_clean = clean - set(completed) - {i for i, reason in quarantined if reason == "duplicate_content"}
    return FaultRow(fault=f"{rows} fuzzed seed rows (4 formats)",
                    injected=sum(1 for m in mutation.values() if m not in ("none", "unicode")), jobs=len(job_ids),
                    completed=done, quarantined=reasons, lost=lost, duplicated=duplicated,
                    expect_reasons=sorted(reasons), wall_s=round(time.monotonic() - started, 1),
                    checks={"every quarantined row names its file and line": located,
                            "every unbroken row ingested": not dropped_clean})


def _id_in(raw: str | None, ids: list[str]) -> str:
    """The id inside a row the reader could not map (its raw text), or ``?`` (counted as not one of the jobs)."""
    text = raw or ""
    found = [i for i in ids if f'"{i}"' in text or text.startswith(i)]
    return found[0] if len(found) == 1 else "?"
