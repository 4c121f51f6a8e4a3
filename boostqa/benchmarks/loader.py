"""Load a benchmark's items, normalized and labelled with discipline and difficulty, from our edition or the Hub."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from boostqa.annotate.taxonomy import TAXONOMY_DIR
from boostqa.benchmarks.formats import BenchmarkRowError, math_difficulty, parse_row
from boostqa.benchmarks.registry import BENCHMARKS, BenchmarkSpec, subject_difficulty
from boostqa.errors import ConfigError
from boostqa.settings import RESOURCES

EDITIONS_DIR = RESOURCES / "benchmarks"


class BenchmarkItem(BaseModel):
    """One benchmark item in the normalized form QC and eval share; ``row`` keeps the original for prompting."""

    model_config = ConfigDict(frozen=True)

    benchmark: str
    item_id: str  # <benchmark>:<split>:<config>:<row index>, stable across loads
    split: str
    config: str
    question: str
    choices: tuple[str, ...] | None
    answer_index: int | None
    answer: str
    reference: str | None
    language: str
    discipline_id: str | None
    difficulty: int
    row: dict[str, Any]

    @property
    def text(self) -> str:
        """Question, choices and answer (and worked solution): everything a training item must not copy."""
        return "\n".join([self.question, *(self.choices or ()), self.reference or self.answer])


@cache
def subject_disciplines(directory: Path = TAXONOMY_DIR) -> dict[tuple[str, str], str]:
    """(benchmark, subject) -> discipline id, from the taxonomy's subject map (the dbt seed)."""
    with (directory / "taxonomy_subject_map.csv").open(encoding="utf-8", newline="") as handle:
        return {(r["benchmark"], r["subject"]): r["discipline_id"] for r in csv.DictReader(handle)}


def subjects_of(spec: BenchmarkSpec) -> tuple[str, ...]:
    """Hub configs of a benchmark: its fixed configs, or every subject the taxonomy maps for it."""
    if spec.configs is not None:
        return spec.configs
    return tuple(sorted(subject for bench, subject in subject_disciplines() if bench == spec.name))


def normalize_rows(spec: BenchmarkSpec, split: str, config: str, rows: Iterable[Mapping[str, Any]]
                   ) -> Iterator[BenchmarkItem]:
    """Normalize the rows of one (split, config) of a benchmark, labelled with our taxonomy buckets.

    Raises:
        BenchmarkRowError: a row is malformed; the message names the item.
    """
    mapped = subject_disciplines().get((spec.name, config)) if spec.by_subject else None
    for index, row in enumerate(rows):
        item_id = f"{spec.name}:{split}:{config}:{index}"
        try:
            parsed = parse_row(spec.row_format, row)
        except BenchmarkRowError as exc:
            raise BenchmarkRowError(f"{item_id}: {exc}") from exc
        if spec.by_subject:
            difficulty = subject_difficulty(config, spec.default_difficulty)
        elif spec.row_format == "math":
            difficulty = math_difficulty(row, spec.default_difficulty)
        else:
            difficulty = spec.default_difficulty
        yield BenchmarkItem(benchmark=spec.name, item_id=item_id, split=split, config=config,
                            question=parsed.question, choices=parsed.choices, answer_index=parsed.answer_index,
                            answer=parsed.answer, reference=parsed.reference, language=spec.language,
                            discipline_id=mapped or spec.default_discipline, difficulty=difficulty, row=dict(row))


def edition_files(spec: BenchmarkSpec, split: str, directory: Path = EDITIONS_DIR) -> list[Path]:
    """The local edition's files of one split, one per config, in name order."""
    return sorted((directory / spec.name / split).glob("*.jsonl"))


def load_local(spec: BenchmarkSpec, split: str | None = None, directory: Path = EDITIONS_DIR
               ) -> list[BenchmarkItem]:
    """Items of our local edition (the evaluation split unless ``split`` says otherwise).

    Raises:
        ConfigError: the edition has no file for that split.
    """
    split = split or spec.eval_split
    files = edition_files(spec, split, directory)
    if not files:
        raise ConfigError(f"benchmark {spec.name} has no local edition for split {split!r} under "
                          f"{directory / spec.name / split}")
    items: list[BenchmarkItem] = []
    for path in files:
        with path.open(encoding="utf-8") as handle:
            rows = [json.loads(line) for line in handle if line.strip()]
        items.extend(normalize_rows(spec, split, path.stem, rows))
    return items


def load_production(spec: BenchmarkSpec, split: str | None = None) -> Iterator[BenchmarkItem]:
    """Items of the benchmark's public source on the Hub, loaded with ``datasets``.

    Needs network and the pipeline environment; the embedded stack uses :func:`load_local`.
    """
    from datasets import load_dataset  # noqa: PLC0415 - heavy, optional, production-only

    split = split or spec.eval_split
    for config in subjects_of(spec):
        yield from normalize_rows(spec, split, config, load_dataset(spec.hf_path, config, split=split))


def load_items(source: str = "local", names: Iterable[str] | None = None, splits: str = "eval"
               ) -> list[BenchmarkItem]:
    """Items of several benchmarks (all by default) from ``local`` editions or ``hub``.

    ``splits`` is ``eval`` (the scored split) or ``all`` (the scored split and the few-shot split).
    """
    if source not in ("local", "hub"):
        raise ConfigError(f"benchmark source must be 'local' or 'hub', got {source!r}")
    wanted = set(names) if names is not None else None
    items: list[BenchmarkItem] = []
    for spec in BENCHMARKS:
        if wanted is not None and spec.name not in wanted:
            continue
        chosen = [spec.eval_split] + ([spec.fewshot_split] if splits == "all" and spec.fewshot_split else [])
        for split in chosen:
            if source == "hub":
                items.extend(load_production(spec, split))
            elif edition_files(spec, split):
                items.extend(load_local(spec, split))
            elif split == spec.eval_split:
                raise ConfigError(f"benchmark {spec.name} has no local edition of its {split} split")
    return items
