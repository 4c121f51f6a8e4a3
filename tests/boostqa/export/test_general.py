"""The general corpus: the project's edition staged in the lake; a bad config is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from boostqa.errors import ConfigError
from boostqa.export.general import load_general_sources, stage_general_corpus
from tests.conftest import MemoryStore, lake_rows


def test_the_local_edition_is_staged_with_ids_languages_and_lengths(memory_store: MemoryStore) -> None:
    (source,) = load_general_sources()  # the Hub source is disabled on the embedded stack
    assert stage_general_corpus(memory_store, source) == 160
    rows = lake_rows(memory_store, "raw/general/source=local_edition/")
    assert len({r["doc_id"] for r in rows}) == 160
    assert {r["language"] for r in rows} == {"en", "zh"} and all(r["chars"] == len(r["text"]) for r in rows)


def test_a_config_enabling_nothing_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "general.yaml"
    config.write_text("sources:\n  - {name: x, kind: local, location: x.jsonl, enabled: false}\n")
    with pytest.raises(ConfigError, match="enables no general-corpus source"):
        load_general_sources(config)
