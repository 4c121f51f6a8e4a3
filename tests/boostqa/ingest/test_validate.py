from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from boostqa.ingest.config import FieldMapping, SourceConfig
from boostqa.ingest.readers import RawRow
from boostqa.ingest.validate import validate_row
from boostqa.schemas import QuarantineReason, QuarantineRecord, SeedRecord

DAY = date(2026, 11, 25)


def _source(**overrides: Any) -> SourceConfig:
    config: dict[str, Any] = {
        "name": "unit",
        "kind": "local",
        "location": "/dev/null",
        "format": "jsonl",
        "mapping": FieldMapping(source_row_id="id", question="q", options="opts", answer="a", difficulty_hint="d",
                                language="lang"),
        "constants": {"license": "CC-BY-4.0"},
    }
    config.update(overrides)
    return SourceConfig(**config)


def _validate(record: dict[str, Any], source: SourceConfig | None = None) -> SeedRecord | QuarantineRecord:
    return validate_row(RawRow(row_number=7, record=record, raw_text=str(record)), source or _source(), DAY, "run-1")


def test_valid_multiple_choice_row_is_normalized() -> None:
    seed = _validate({"id": 1, "q": "  Which is a prime? ", "opts": ["A. 4", "B. 7"], "a": "(b)", "d": "3",
                      "lang": "EN"})
    assert isinstance(seed, SeedRecord)
    assert seed.question == "Which is a prime?"
    assert seed.options == ["4", "7"]
    assert seed.answer == "B"
    assert seed.source_row_id == "1"
    assert seed.difficulty_hint == 3
    assert seed.language == "en"
    assert seed.license == "CC-BY-4.0"
    assert seed.row_number == 7


def test_missing_source_row_id_falls_back_to_row_number() -> None:
    seed = _validate({"q": "What is 2+2?", "a": 4, "lang": "en"})
    assert isinstance(seed, SeedRecord)
    assert seed.source_row_id == "row-7"
    assert seed.answer == "4"


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ({"id": "x", "a": "1", "lang": "en"}, QuarantineReason.MISSING_QUESTION),
        ({"id": "x", "q": " ", "a": "1", "lang": "en"}, QuarantineReason.MISSING_QUESTION),
        ({"id": "x", "q": "Q?", "lang": "en"}, QuarantineReason.MISSING_ANSWER),
        ({"id": "x", "q": 42, "a": "1", "lang": "en"}, QuarantineReason.WRONG_TYPE),
        ({"id": "x", "q": "Q?", "opts": "a;b", "a": "A", "lang": "en"}, QuarantineReason.WRONG_TYPE),
        ({"id": "x", "q": "Q?", "a": "1", "d": "hard", "lang": "en"}, QuarantineReason.WRONG_TYPE),
        ({"id": "x", "q": "Q?", "a": True, "lang": "en"}, QuarantineReason.WRONG_TYPE),
        ({"id": "x", "q": "Q" * 5000, "a": "1", "lang": "en"}, QuarantineReason.TEXT_TOO_LONG),
        ({"id": "x", "q": "Q?", "opts": ["a", "b"], "a": "C", "lang": "en"}, QuarantineReason.INVALID_OPTIONS),
        ({"id": "x", "q": "Q?", "opts": ["a", "a"], "a": "A", "lang": "en"}, QuarantineReason.INVALID_OPTIONS),
        ({"id": "x", "q": "Q?", "opts": ["a"], "a": "A", "lang": "en"}, QuarantineReason.INVALID_OPTIONS),
        ({"id": "x", "q": "Q?", "a": "1", "lang": "fr"}, QuarantineReason.INVALID_VALUE),
        ({"id": "x", "q": "Q?", "a": "1", "d": 9, "lang": "en"}, QuarantineReason.INVALID_VALUE),
        ({"id": "x", "q": "Q?", "a": "1", "lang": "en", "extra": 1}, QuarantineReason.UNKNOWN_COLUMNS),
    ],
)
def test_bad_rows_are_quarantined_with_their_reason(record: dict[str, Any], reason: QuarantineReason) -> None:
    result = _validate(record)
    assert isinstance(result, QuarantineRecord)
    assert result.reason == reason
    assert result.detail
    assert result.raw_record == str(record)
    assert result.source_row_id == "x"


def test_unknown_columns_can_be_ignored_by_policy() -> None:
    result = _validate({"q": "Q?", "a": "1", "lang": "en", "extra": 1}, _source(unknown_columns="ignore"))
    assert isinstance(result, SeedRecord)


def test_parse_errors_from_the_reader_are_kept() -> None:
    row = RawRow(row_number=3, record=None, raw_text="{broken", error=(QuarantineReason.UNPARSEABLE_ROW, "bad json"))
    result = validate_row(row, _source(), DAY, "run-1")
    assert isinstance(result, QuarantineRecord)
    assert (result.reason, result.detail) == (QuarantineReason.UNPARSEABLE_ROW, "bad json")
    assert result.raw_record == "{broken"
