from __future__ import annotations

from pathlib import Path

import pytest

from boostqa.errors import ConfigError
from boostqa.ingest.config import get_source, load_sources
from boostqa.settings import RESOURCES


def test_shipped_sources_cover_three_formats_and_resolve_paths() -> None:
    sources = load_sources(RESOURCES / "seed_sources.yaml")
    assert {s.format for s in sources} >= {"jsonl", "csv", "parquet"}
    assert all(Path(s.location).is_file() for s in sources)


def test_get_source_unknown_name_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="no enabled seed source named 'nope'"):
        get_source(RESOURCES / "seed_sources.yaml", "nope")


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "sources.yaml"
    path.write_text(body)
    return path


def test_source_without_language_is_rejected_with_the_field_named(tmp_path: Path) -> None:
    path = _write(tmp_path, """
version: 1
sources:
  - {name: a_src, kind: local, location: x.jsonl, format: jsonl, mapping: {question: q, answer: a},
     constants: {license: MIT}}
""")
    with pytest.raises(ConfigError, match="map 'language'"):
        load_sources(path)


def test_duplicate_source_names_are_rejected(tmp_path: Path) -> None:
    entry = ("  - {name: dup, kind: local, location: x.jsonl, format: jsonl, mapping: {question: q, answer: a},"
             " constants: {license: MIT, language: en}}\n")
    with pytest.raises(ConfigError, match="duplicate source names"):
        load_sources(_write(tmp_path, "version: 1\nsources:\n" + entry + entry))


def test_disabled_sources_are_skipped_and_relative_paths_resolve(tmp_path: Path) -> None:
    path = _write(tmp_path, """
version: 1
sources:
  - {name: on_src, kind: local, location: data/x.jsonl, format: jsonl, mapping: {question: q, answer: a},
     constants: {license: MIT, language: en}}
  - {name: off_src, kind: local, location: y.jsonl, format: jsonl, mapping: {question: q, answer: a},
     constants: {license: MIT, language: en}, enabled: false}
""")
    sources = load_sources(path)
    assert [s.name for s in sources] == ["on_src"]
    assert sources[0].location == str(tmp_path / "data" / "x.jsonl")
