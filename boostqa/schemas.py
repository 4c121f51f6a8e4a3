"""Core records shared by every stage: seeds, quarantine rows and manifests (pydantic, one source of truth)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from boostqa.vocabulary import Language, QuarantineReason

SEED_SCHEMA_VERSION = "seed.v1"


class SeedRecord(BaseModel):
    """A validated, normalized seed question in the canonical schema (``raw/seeds`` rows)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    seed_id: str = Field(description="sha256 of normalized question + options + answer")
    source: str
    source_row_id: str
    row_number: int = Field(ge=0, description="0-based position of the row in the fetched source")
    question: str
    options: list[str] | None = Field(default=None, description="multiple-choice options, in order")
    answer: str = Field(description="option letter for multiple choice, free text otherwise")
    subject_hint: str | None = None
    difficulty_hint: int | None = Field(default=None, ge=1, le=5)
    language: Language
    license: str
    ingest_date: date
    run_id: str
    schema_version: str = SEED_SCHEMA_VERSION


class QuarantineRecord(BaseModel):
    """A row that failed a stage, kept verbatim with the first reason it failed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    run_id: str
    stage: str
    source: str
    ingest_date: date
    row_number: int
    source_row_id: str | None
    reason: QuarantineReason
    detail: str
    raw_record: str = Field(description="the original row as text (undecodable bytes backslash-escaped)")
    schema_version: str = SEED_SCHEMA_VERSION
    source_file: str | None = Field(default=None, description="the fetched file the row came from")
    source_line: int | None = Field(default=None, description="where the row starts in it: the 1-based line (csv, "
                                    "jsonl), record (json) or row (parquet)")


class PartInfo(BaseModel):
    """One object written by a stage, with what a reader needs to verify it."""

    key: str
    rows: int
    bytes: int
    sha256: str


class IngestManifest(BaseModel):
    """``_manifest.json`` of one source partition: written last, so it doubles as the completion marker."""

    schema_version: str = SEED_SCHEMA_VERSION
    source: str
    ingest_date: date
    run_id: str
    location: str
    source_sha256: str = Field(description="sha256 of the fetched source bytes (all files, in order)")
    config_sha256: str = Field(description="sha256 of the source's configuration")
    rows_read: int
    rows_valid: int
    rows_quarantined: int
    quarantine_reasons: dict[str, int]
    parts: list[PartInfo]
    quarantine_parts: list[PartInfo]


class AnnotationRecord(BaseModel):
    """Labels of one seed or QA item from the annotator role (``annotations/`` rows)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    item_id: str
    category: str
    discipline_id: str
    difficulty: int = Field(ge=1, le=5)
    grade_band: str
    rationale: str
    annotator_model: str
    prompt_version: str
    taxonomy_version: str
    request_id: str
    run_id: str
    sample_index: int = Field(default=0, ge=0, description="which of the configured samples per item (0 when one)")


class LlmQuarantineRecord(BaseModel):
    """An LLM output that stayed invalid after the re-ask budget, kept raw with its reason."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    run_id: str
    stage: str
    item_id: str
    reason: str
    detail: str
    raw_output: str
    model: str
    request_id: str
    prompt_version: str
