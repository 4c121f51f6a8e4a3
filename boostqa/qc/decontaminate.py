"""Benchmark decontamination: n-gram overlap of an item's normalized text with any benchmark item."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from itertools import accumulate

from pydantic import BaseModel, Field

from boostqa.annotate.task import PROMPTS as ANNOTATE_PROMPTS
from boostqa.benchmarks.loader import BenchmarkItem, BenchmarkSource, SourceKind, load_items
from boostqa.lake.store import LakeConfig
from boostqa.qc.text import ngrams, tokens
from boostqa.synthesize.strategies import PROMPTS as SYNTHESIS_PROMPTS

log = logging.getLogger(__name__)


class DecontaminationConfig(BaseModel):
    """How much overlap with a benchmark item makes a training item contaminated."""

    ngram: int = Field(default=13, ge=4, le=64, description="n-gram size in normalized tokens (a CJK character "
                                                           "is one token)")
    min_tokens: int = Field(default=8, ge=1, description="a benchmark item shorter than ngram contaminates only "
                                                        "when it has at least this many tokens and appears whole")
    max_item_frequency: int = Field(default=10, ge=1, description="an n-gram found in more benchmark items than "
                                                                  "this is template boilerplate and never matches")


@dataclass(frozen=True)
class Contamination:
    """The first benchmark item an item overlaps, and the matching n-gram (normalized text)."""

    benchmark: str
    benchmark_item_id: str
    ngram: str
    overlapping_ngrams: int


class Decontaminator:
    """An n-gram index of benchmark items, minus boilerplate, queried one training item at a time."""

    def __init__(self, items: Iterable[BenchmarkItem], config: DecontaminationConfig | None = None,
                 boilerplate: Iterable[str] = ()) -> None:
        self.config = config or DecontaminationConfig()
        n = self.config.ngram
        self._items = list(items)
        self._short: dict[int, dict[tuple[str, ...], int]] = defaultdict(dict)
        words_of = [tokens(item.text) for item in self._items]
        owners: dict[tuple[str, ...], set[int]] = defaultdict(set)
        for index, words in enumerate(words_of):
            for gram in ngrams(words, n):
                owners[gram].add(index)
        ignored = {gram for text in boilerplate for gram in ngrams(tokens(text), n)}
        ignored |= {gram for gram, who in owners.items() if len(who) > self.config.max_item_frequency}
        # Boilerplate is cut out of benchmark items: only n-grams wholly outside it are evidence.
        self._index: dict[tuple[str, ...], int] = {}
        for index, words in enumerate(words_of):
            if len(words) < n:
                if len(words) >= self.config.min_tokens:
                    self._short[len(words)].setdefault(tuple(words), index)
                continue
            grams = list(ngrams(words, n))
            covered = [False] * len(words)
            for start, gram in enumerate(grams):
                if gram in ignored:
                    covered[start : start + n] = [True] * n
            inside = list(accumulate(covered, initial=0))  # covered tokens before each position
            for start, gram in enumerate(grams):
                if inside[start + n] == inside[start]:
                    self._index.setdefault(gram, index)
        self.ignored_ngrams = len(ignored & owners.keys())
        log.info("decontamination index: %d benchmark items, %d %d-grams (%d boilerplate n-grams cut out), "
                 "%d short items matched whole", len(self._items), len(self._index), n, self.ignored_ngrams,
                 sum(len(v) for v in self._short.values()))

    def __len__(self) -> int:
        return len(self._items)

    def find(self, text: str) -> Contamination | None:
        """The benchmark item ``text`` overlaps most (ties: the first registered), or None when it is clean."""
        words = tokens(text)
        hits: dict[int, int] = defaultdict(int)
        first_gram: dict[int, tuple[str, ...]] = {}
        for gram in ngrams(words, self.config.ngram):
            owner = self._index.get(gram)
            if owner is not None:
                hits[owner] += 1
                first_gram.setdefault(owner, gram)
        for length, short in self._short.items():
            for gram in ngrams(words, length):
                owner = short.get(gram)
                if owner is not None:
                    hits[owner] += 1
                    first_gram.setdefault(owner, gram)
        if not hits:
            return None
        owner = max(sorted(hits), key=lambda i: hits[i])
        item = self._items[owner]
        return Contamination(item.benchmark, item.item_id, " ".join(first_gram[owner]), hits[owner])



def prompt_boilerplate() -> list[str]:
    """Our prompt templates' text: n-grams from it are instructions, never evidence of contamination."""
    return [p.read_text(encoding="utf-8") for d in (SYNTHESIS_PROMPTS, ANNOTATE_PROMPTS) for p in sorted(d.glob("*"))]


def benchmark_decontaminator(config: DecontaminationConfig | None = None,
                             source: BenchmarkSource | SourceKind = "local",
                             items: Iterable[BenchmarkItem] | None = None, lake: LakeConfig | None = None
                             ) -> Decontaminator:
    """A decontaminator over every registered benchmark's scored and few-shot items.

    The items come from ``source`` (our editions, the Hub or a mirror; ``lake`` signs an ``s3://`` mirror's reads)
    unless given; our prompt templates are the boilerplate.
    """
    chosen = items if items is not None else load_items(source, splits="all", lake=lake)
    return Decontaminator(chosen, config, boilerplate=prompt_boilerplate())


def decontaminator_for(source: BenchmarkSource, lake: LakeConfig | None = None) -> Decontaminator:
    """The decontaminator over ``source``'s benchmarks with default settings (the local editions' is built once)."""
    return default_decontaminator() if source.kind == "local" else benchmark_decontaminator(source=source, lake=lake)


@cache
def default_decontaminator() -> Decontaminator:
    """The decontaminator over the local editions with default settings, built once per process."""
    return benchmark_decontaminator()
