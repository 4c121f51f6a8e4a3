"""The shipped sample corpus meets the spine issue's bar: size, disciplines, bands, languages, formats."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import date

from boostqa.annotate.taxonomy import TAXONOMY_DIR as TAXONOMY
from boostqa.ingest.config import load_sources
from boostqa.ingest.fetch import fetch_source
from boostqa.ingest.runner import split_rows
from boostqa.schemas import SeedRecord
from boostqa.settings import RESOURCES


def _valid_seeds() -> list[SeedRecord]:
    seeds: list[SeedRecord] = []
    for source in load_sources(RESOURCES / "seed_sources.yaml"):
        valid, quarantined = split_rows(source, fetch_source(source), date(2026, 1, 1), "r")
        if source.name != "community_dump":
            assert quarantined == [], f"{source.name} should be clean: {quarantined[:1]}"
        seeds.extend(valid)
    return seeds


def _discipline_of() -> dict[str, str]:
    with (TAXONOMY / "taxonomy_disciplines.csv").open() as handle:
        mapping = {row["discipline_id"]: row["discipline_id"] for row in csv.DictReader(handle)}
    with (TAXONOMY / "taxonomy_subject_map.csv").open() as handle:
        mapping.update({row["subject"]: row["discipline_id"] for row in csv.DictReader(handle)})
    return mapping


def test_sample_corpus_is_large_diverse_and_bilingual() -> None:
    seeds = _valid_seeds()
    assert len(seeds) >= 300
    assert len({s.seed_id for s in seeds}) == len(seeds)
    discipline_of = _discipline_of()
    unmapped = {s.subject_hint for s in seeds if s.subject_hint not in discipline_of}
    assert not unmapped, f"subject hints outside the taxonomy: {unmapped}"
    assert len({discipline_of[s.subject_hint] for s in seeds if s.subject_hint}) >= 12
    assert set(Counter(s.difficulty_hint for s in seeds)) == {1, 2, 3, 4, 5}
    languages = Counter(s.language for s in seeds)
    assert languages["en"] >= 100 and languages["zh"] >= 100
    assert any(s.options for s in seeds) and any(not s.options for s in seeds)
