"""Load a benchmark's items, normalized and labelled with discipline and difficulty: our edition, the Hub, a mirror."""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, model_validator

from boostqa.annotate.taxonomy import TAXONOMY_DIR
from boostqa.benchmarks.formats import BenchmarkRowError, math_difficulty, parse_row
from boostqa.benchmarks.mirror import BenchmarkMirror, MirrorLayout, open_mirror
from boostqa.benchmarks.registry import BENCHMARKS, BenchmarkSpec, subject_difficulty
from boostqa.errors import ConfigError
from boostqa.lake.store import LakeConfig
from boostqa.settings import RESOURCES

EDITIONS_DIR = RESOURCES / "benchmarks"
SourceKind = Literal["local", "hub", "mirror"]
log = logging.getLogger(__name__)


class BenchmarkSource(BaseModel):
    """Where benchmark rows come from: our ``local`` editions, the ``hub`` (network), or a Hub ``mirror``.

    A mirror is a folder or ``s3://`` prefix holding the benchmarks' Hub repositories (boostqa/benchmarks/mirror.py).
    """

    model_config = ConfigDict(frozen=True)

    kind: SourceKind = "local"
    mirror: str = ""

    @model_validator(mode="after")
    def _mirror_only_with_mirror(self) -> BenchmarkSource:
        if (self.kind == "mirror") != bool(self.mirror):
            raise ValueError(f"benchmark source {self.kind!r} with mirror {self.mirror!r}: the source 'mirror' "
                             "needs the mirror's folder or s3:// prefix, and only it takes one")
        return self

    def __str__(self) -> str:
        return f"mirror {self.mirror}" if self.kind == "mirror" else self.kind


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


def mirror_editions(mirror: BenchmarkMirror, layout: MirrorLayout = "hub") -> int:
    """Write our editions into ``mirror`` in the Hub's layout; returns the rows written.

    Every config and split production loads gets a file, empty where our edition holds none of it (the edition has
    6 of MMLU's 57 subjects), so the mirror is complete and a reader's check for missing configs holds.
    """
    written = 0
    for spec in BENCHMARKS:
        for split in filter(None, (spec.eval_split, spec.fewshot_split)):
            for config in subjects_of(spec):
                path = EDITIONS_DIR / spec.name / split / f"{config}.jsonl"
                rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
                        if line.strip()] if path.is_file() else []
                mirror.write(spec, config, split, rows, layout)
                written += len(rows)
    return written


def load_mirrored(mirror: BenchmarkMirror, spec: BenchmarkSpec, split: str | None = None) -> list[BenchmarkItem]:
    """Items of the benchmark's Hub repository in ``mirror``: every config production loads, none skipped.

    Raises:
        ConfigError: a config or split is missing from the mirror (an incomplete copy must not narrow the checks).
    """
    split = split or spec.eval_split
    items: list[BenchmarkItem] = []
    empty = []
    for config in subjects_of(spec):
        rows = mirror.rows(spec, config, split)
        empty += [] if rows else [config]
        items.extend(normalize_rows(spec, split, config, rows))
    if empty:
        log.warning("benchmark mirror %s: %s %s has no rows in %d of %d configs: %s", mirror.root, spec.name, split,
                    len(empty), len(subjects_of(spec)), ", ".join(empty))
    return items


def load_items(source: BenchmarkSource | SourceKind = "local", names: Iterable[str] | None = None,
               splits: str = "eval", lake: LakeConfig | None = None) -> list[BenchmarkItem]:
    """Items of several benchmarks (all by default) from our editions, the Hub or a mirror (see BenchmarkSource).

    ``splits`` is ``eval`` (the scored split) or ``all`` (the scored split and the few-shot split). ``lake`` signs
    reads of an ``s3://`` mirror.
    """
    if isinstance(source, str):
        if source not in ("local", "hub"):
            raise ConfigError(f"benchmark source must be 'local', 'hub' or a mirror, got {source!r}")
        source = BenchmarkSource(kind=source)
    mirror = open_mirror(source.mirror, lake) if source.kind == "mirror" else None
    wanted = set(names) if names is not None else None
    items: list[BenchmarkItem] = []
    for spec in BENCHMARKS:
        if wanted is not None and spec.name not in wanted:
            continue
        chosen = [spec.eval_split] + ([spec.fewshot_split] if splits == "all" and spec.fewshot_split else [])
        for split in chosen:
            if mirror is not None:
                items.extend(load_mirrored(mirror, spec, split))
            elif source.kind == "hub":
                items.extend(load_production(spec, split))
            elif edition_files(spec, split):
                items.extend(load_local(spec, split))
            elif split == spec.eval_split:
                raise ConfigError(f"benchmark {spec.name} has no local edition of its {split} split")
    return items
