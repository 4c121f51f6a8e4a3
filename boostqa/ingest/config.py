"""Seed sources as typed YAML configuration: where each source lives and how its fields map to the seed schema."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from boostqa.errors import ConfigError

SourceKind = Literal["local", "http", "s3", "hf"]
SourceFormat = Literal["jsonl", "json", "csv", "parquet"]
# How a source spells a question's options: a list (or several columns), an object from letter to text
# ({"A": "...", "B": "..."}), or a JSON-encoded list in one text cell (CSV). Other shapes are invalid_options.
OptionsShape = Literal["list", "letter_object", "json_list"]
MAPPABLE_FIELDS = (
    "source_row_id",
    "question",
    "options",
    "answer",
    "subject_hint",
    "difficulty_hint",
    "language",
    "license",
)


class FieldMapping(BaseModel):
    """Canonical seed field -> source column. ``options`` may name one list column or several columns in order."""

    model_config = ConfigDict(extra="forbid")

    source_row_id: str | None = None
    question: str
    options: str | list[str] | None = None
    answer: str
    subject_hint: str | None = None
    difficulty_hint: str | None = None
    language: str | None = None
    license: str | None = None

    def source_columns(self) -> set[str]:
        """Every source column the mapping reads."""
        columns: set[str] = set()
        for name in MAPPABLE_FIELDS:
            value = getattr(self, name)
            if isinstance(value, list):
                columns.update(value)
            elif value:
                columns.add(value)
        return columns


class LengthLimits(BaseModel):
    """Upper bounds in characters; longer rows are quarantined as ``text_too_long``."""

    model_config = ConfigDict(extra="forbid")

    question: int = Field(default=4000, gt=0)
    answer: int = Field(default=8000, gt=0)
    option: int = Field(default=1000, gt=0)


class HfOptions(BaseModel):
    """Hugging Face dataset coordinates (production sources; needs the hub and the ``datasets`` package)."""

    model_config = ConfigDict(extra="forbid")

    config: str | None = None
    split: str = "train"
    revision: str | None = None


class SourceConfig(BaseModel):
    """One seed source."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{1,62}$")
    kind: SourceKind
    location: str = Field(description="path or glob (local), URL (http), s3://bucket/prefix (s3), dataset id (hf)")
    format: SourceFormat
    mapping: FieldMapping
    constants: dict[str, str | int] = Field(default_factory=dict, description="values for unmapped fields")
    ignore_columns: list[str] = Field(default_factory=list, description="known columns we deliberately drop")
    unknown_columns: Literal["quarantine", "ignore"] = "quarantine"
    limits: LengthLimits = LengthLimits()
    csv_delimiter: str = Field(default=",", min_length=1, max_length=1)
    json_records_key: str | None = Field(default=None, description="for json: key holding the list of records")
    options_shape: OptionsShape = Field(default="list", description="how the options column holds the options")
    allow_empty: bool = Field(default=False, description="a day without rows is normal for this source (else 0 rows "
                              "after a day with rows fails the ingest and keeps what is in the lake)")
    hf: HfOptions | None = None
    enabled: bool = True

    @model_validator(mode="after")
    def _check_fields_covered(self) -> SourceConfig:
        for required in ("language", "license"):
            if getattr(self.mapping, required) is None and required not in self.constants:
                raise ValueError(f"source {self.name!r}: map {required!r} to a column or set it in constants")
        unknown = set(self.constants) - set(MAPPABLE_FIELDS)
        if unknown:
            raise ValueError(f"source {self.name!r}: constants for unknown fields {sorted(unknown)}")
        if self.kind == "hf" and self.format != "parquet":
            raise ValueError(f"source {self.name!r}: hf sources are read as records; set format: parquet")
        return self

    def fingerprint(self) -> str:
        """sha256 of the configuration, recorded in the manifest so a config change is visible."""
        return hashlib.sha256(json.dumps(self.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()


class SourcesFile(BaseModel):
    """The whole seed-sources YAML file."""

    model_config = ConfigDict(extra="forbid")

    version: Literal[1] = 1
    sources: list[SourceConfig]

    @model_validator(mode="after")
    def _unique_names(self) -> SourcesFile:
        names = [s.name for s in self.sources]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ValueError(f"duplicate source names: {duplicated}")
        return self


def load_sources(path: Path) -> list[SourceConfig]:
    """Load the enabled sources from YAML; relative local locations resolve against the file's folder.

    Raises:
        ConfigError: the file is missing or does not match the schema (the message names the field).
    """
    if not path.is_file():
        raise ConfigError(f"seed sources file not found: {path} (set BOOSTQA_SEED_SOURCES)")
    try:
        parsed = SourcesFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (ValidationError, yaml.YAMLError) as exc:
        raise ConfigError(f"invalid seed sources file {path}: {exc}") from exc
    sources = []
    for source in parsed.sources:
        if source.kind == "local" and not Path(source.location).is_absolute():
            source = source.model_copy(update={"location": str((path.parent / source.location).resolve())})
        if source.enabled:
            sources.append(source)
    return sources


def get_source(path: Path, name: str) -> SourceConfig:
    """Return one enabled source by name.

    Raises:
        ConfigError: no enabled source has that name.
    """
    for source in load_sources(path):
        if source.name == name:
            return source
    raise ConfigError(f"no enabled seed source named {name!r} in {path}")
