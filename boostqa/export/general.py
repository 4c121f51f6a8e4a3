"""Stage the general corpus of the mixture in the lake: the local edition, or a production source on the Hub."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field

from boostqa.errors import ConfigError
from boostqa.lake import layout
from boostqa.lake.parquet import write_rows
from boostqa.lake.store import ObjectStore
from boostqa.lake.tables import GENERAL_SCHEMA
from boostqa.settings import RESOURCES

GENERAL_SOURCES = RESOURCES / "general_corpus.yaml"


class GeneralSource(BaseModel):
    """One general-corpus source: a jsonl edition shipped with the project, or a Hub dataset (streamed)."""

    name: str = Field(pattern=r"^[a-z0-9_]+$")
    kind: Literal["local", "hf"]
    location: str = Field(description="jsonl path relative to the config file (local) or a dataset id (hf)")
    hf_config: str | None = None
    split: str = "train"
    text_field: str = "text"
    language: str = "en"
    license: str = "unknown"
    max_docs: int | None = Field(default=None, ge=1, description="take at most this many documents")
    enabled: bool = True


def load_general_sources(path: Path = GENERAL_SOURCES) -> list[GeneralSource]:
    """The enabled general-corpus sources of a YAML file."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    sources = [GeneralSource.model_validate(s) for s in raw.get("sources", [])]
    resolved = [s.model_copy(update={"location": str((path.parent / s.location).resolve())})
                if s.kind == "local" else s for s in sources if s.enabled]
    if not resolved:
        raise ConfigError(f"{path} enables no general-corpus source")
    return resolved


def _rows(source: GeneralSource) -> Iterator[dict[str, Any]]:
    if source.kind == "local":
        with Path(source.location).open(encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    yield json.loads(line)
    else:
        from datasets import load_dataset  # noqa: PLC0415 - production only, needs network

        yield from load_dataset(source.location, source.hf_config, split=source.split, streaming=True)


def stage_general_corpus(store: ObjectStore, source: GeneralSource) -> int:
    """Write the source's documents to ``raw/general/source=<name>/part-00000.parquet`` (replacing it)."""
    docs = []
    for index, row in enumerate(_rows(source)):
        if source.max_docs is not None and index >= source.max_docs:
            break
        text = str(row.get(source.text_field) or "").strip()
        if not text:
            continue
        doc_id = str(row.get("id") or hashlib.sha256(text.encode()).hexdigest()[:16])
        docs.append({"doc_id": f"{source.name}:{doc_id}", "source": source.name, "text": text,
                     "language": row.get("language") or source.language, "topic": row.get("topic"),
                     "license": row.get("license") or source.license, "chars": len(text)})
    write_rows(store, layout.general_corpus_part(source.name), docs, GENERAL_SCHEMA)
    logging.getLogger(__name__).info("general corpus %s: %d documents staged", source.name, len(docs))
    return len(docs)
