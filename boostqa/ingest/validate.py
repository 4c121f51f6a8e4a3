"""Validate one raw row against the canonical seed schema; return a normalized seed or a quarantine record."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from boostqa.ingest.config import MAPPABLE_FIELDS, SourceConfig
from boostqa.ingest.normalize import (
    answer_letter,
    normalize_language,
    normalize_text,
    options_list,
    seed_id,
    strip_option_label,
)
from boostqa.ingest.readers import RawRow
from boostqa.schemas import QuarantineRecord, SeedRecord
from boostqa.vocabulary import QuarantineReason

INGEST_STAGE = "ingest"


class SeedInput(BaseModel):
    """The mapped row before normalization; strict types, so a number where text belongs is ``wrong_type``."""

    model_config = ConfigDict(strict=True, extra="forbid")

    source_row_id: str | None = None
    question: str
    options: list[str] | None = Field(default=None, min_length=2, max_length=10)
    answer: str
    subject_hint: str | None = None
    difficulty_hint: int | None = None
    language: str
    license: str

    @field_validator("source_row_id", mode="before")
    @classmethod
    def _int_ids_are_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("answer", mode="before")
    @classmethod
    def _numeric_answers_are_text(cls, value: Any) -> Any:
        # Open-ended numeric answers (``42``) are legitimate; booleans and containers are not.
        return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value

    @field_validator("difficulty_hint", mode="before")
    @classmethod
    def _difficulty_from_text(cls, value: Any) -> Any:
        return int(value) if isinstance(value, str) and value.strip().isdigit() else value


class RowRejected(Exception):
    """Internal signal: the row goes to quarantine for ``reason``."""

    def __init__(self, reason: QuarantineReason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def _mapped(record: dict[str, Any], source: SourceConfig) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for field in MAPPABLE_FIELDS:
        column = getattr(source.mapping, field)
        if isinstance(column, list):
            picked = [record.get(c) for c in column]
            values[field] = None if all(v is None for v in picked) else picked
        elif column is not None:
            values[field] = record.get(column)
        if _blank(values.get(field)) and field in source.constants:  # a constant is the per-row default
            values[field] = source.constants[field]
    return values


def _with_options_list(values: dict[str, Any], source: SourceConfig) -> dict[str, Any]:
    """The mapped values with the options read in the source's ``options_shape``."""
    if values.get("options") is None:
        return values
    try:
        return values | {"options": options_list(values["options"], source.options_shape)}
    except ValueError as exc:
        raise RowRejected(QuarantineReason.INVALID_OPTIONS, f"{exc} (options_shape {source.options_shape})") from exc


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _check_columns(record: dict[str, Any], source: SourceConfig) -> None:
    if source.unknown_columns == "ignore":
        return
    unknown = set(record) - source.mapping.source_columns() - set(source.ignore_columns)
    if unknown:
        raise RowRejected(QuarantineReason.UNKNOWN_COLUMNS, f"columns not in the mapping: {sorted(unknown)}")


REQUIRED = {"question": QuarantineReason.MISSING_QUESTION, "answer": QuarantineReason.MISSING_ANSWER,
            "language": QuarantineReason.MISSING_LANGUAGE, "license": QuarantineReason.MISSING_LICENSE}


def _parse_input(values: dict[str, Any], source: SourceConfig) -> SeedInput:
    for field, reason in REQUIRED.items():
        value = values.get(field)
        if value is None or (isinstance(value, str) and not value.strip()):
            column = getattr(source.mapping, field)
            where = f"its column {column!r} is absent or empty" if column else "it is not mapped"
            raise RowRejected(reason, f"{field} is missing: {where}, and the source sets no constant for it")
    try:
        return SeedInput.model_validate(values)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(p) for p in error["loc"])
        is_type = error["type"].endswith("_type") or error["type"] in {"int_from_float", "int_parsing"}
        if is_type:
            raise RowRejected(QuarantineReason.WRONG_TYPE, f"{field}: {error['msg']}") from exc
        if field.startswith("options"):
            raise RowRejected(QuarantineReason.INVALID_OPTIONS, f"{field}: {error['msg']}") from exc
        raise RowRejected(QuarantineReason.INVALID_VALUE, f"{field}: {error['msg']}") from exc


def _check_length(field: str, text: str, limit: int) -> None:
    if len(text) > limit:
        raise RowRejected(QuarantineReason.TEXT_TOO_LONG, f"{field} has {len(text)} characters (limit {limit})")


def _normalized(parsed: SeedInput, source: SourceConfig) -> dict[str, Any]:
    limits = source.limits
    question = normalize_text(parsed.question)
    answer = normalize_text(parsed.answer)
    _check_length("question", question, limits.question)
    _check_length("answer", answer, limits.answer)
    options = None
    if parsed.options is not None:
        options = [strip_option_label(normalize_text(o), i) for i, o in enumerate(parsed.options)]
        for index, option in enumerate(options):
            _check_length(f"options[{index}]", option, limits.option)
        if any(not o for o in options) or len(set(options)) != len(options):
            raise RowRejected(QuarantineReason.INVALID_OPTIONS, "options are empty or repeated")
        letter = answer_letter(answer, options)
        if letter is None:
            raise RowRejected(QuarantineReason.INVALID_OPTIONS, f"answer {answer!r} names none of the options")
        answer = letter
    language = normalize_language(parsed.language)
    if language is None:
        raise RowRejected(QuarantineReason.INVALID_VALUE, f"unsupported language {parsed.language!r}")
    difficulty = parsed.difficulty_hint
    if difficulty is not None and not 1 <= difficulty <= 5:
        raise RowRejected(QuarantineReason.INVALID_VALUE, f"difficulty_hint {difficulty} is outside 1..5")
    subject = normalize_text(parsed.subject_hint) if parsed.subject_hint else None
    return {
        "question": question,
        "options": options,
        "answer": answer,
        "subject_hint": subject or None,
        "difficulty_hint": difficulty,
        "language": language,
        "license": normalize_text(parsed.license),
        "source_row_id": parsed.source_row_id,
    }


def validate_row(row: RawRow, source: SourceConfig, ingest_date: date, run_id: str) -> SeedRecord | QuarantineRecord:
    """Turn one raw row into a seed, or into a quarantine record carrying the first reason it failed."""
    source_row_id = None
    try:
        if row.error is not None:
            raise RowRejected(*row.error)
        assert row.record is not None
        values = _mapped(row.record, source)
        raw_id = values.get("source_row_id")
        source_row_id = str(raw_id) if isinstance(raw_id, str | int) and not isinstance(raw_id, bool) else None
        _check_columns(row.record, source)
        fields = _normalized(_parse_input(_with_options_list(values, source), source), source)
    except RowRejected as rejected:
        return QuarantineRecord(
            run_id=run_id,
            stage=INGEST_STAGE,
            source=source.name,
            ingest_date=ingest_date,
            row_number=row.row_number,
            source_row_id=source_row_id,
            reason=rejected.reason,
            detail=rejected.detail,
            raw_record=row.raw_text,
            source_file=row.file,
            source_line=row.line,
        )
    fields["source_row_id"] = fields["source_row_id"] or f"row-{row.row_number}"
    return SeedRecord(
        seed_id=seed_id(fields["question"], fields["options"], fields["answer"]),
        source=source.name,
        row_number=row.row_number,
        ingest_date=ingest_date,
        run_id=run_id,
        **fields,
    )
