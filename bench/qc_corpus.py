"""P9's QA corpus: QcItem rows streamed to a run's parquet parts with planted problems and their ground truth."""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bench.dedup_corpus import ground_truth, near_copy, vocabulary
from boostqa.lake import layout
from boostqa.lake.commits import commit_shard
from boostqa.lake.parquet import parquet_bytes
from boostqa.lake.store import ObjectStore
from boostqa.lake.tables import QA_SCHEMA
from boostqa.qc.decontaminate import benchmark_decontaminator
from boostqa.qc.filters import run_filters
from boostqa.qc.minhash import MinHasher
from boostqa.qc.records import QcConfig, QcItem
from boostqa.qc.text import item_text, tokens

# Items per parquet part, and all the generator holds at a time. Synthesis writes a part per shard of jobs (smaller
# still); QC's Ray job screens with at most one worker per part, so one 100k part would screen on one core.
PART_ROWS = 10_000
NORMAL, FILTERED, CONTAMINATED = 0, 1, 2  # an item's planted kind
NEAR_SHARE, CONTAMINATED_SHARE, BROKEN_SHARE, OPTIONS_SHARE = 0.15, 0.005, 0.005, 0.2
SOURCES_PER_PART, SOURCES_CAP = 1_000, 5_000  # singletons kept for a later run's cross-run copies
DEDUP_STEPS = ("exact_dedup", "near_dedup")
_LETTERS = "ABCD"


@dataclass(frozen=True)
class Source:
    """An item of an earlier run that no duplicate touches: what a later run's cross-run copy copies."""

    item_id: str
    words: list[str]
    options: list[str] | None
    answer: str
    option: str | None


@dataclass(frozen=True)
class Truth:
    """One run's ground truth as one number per item (no per-item Python objects, so 10M items fit)."""

    prefix: str  # item ids are the prefix and 9 digits
    kind: np.ndarray  # int8 per item: NORMAL, FILTERED or CONTAMINATED
    cluster: np.ndarray  # int32 per item: its near-duplicate cluster, -1 outside any
    sizes: np.ndarray  # int64 per cluster: its members, those of earlier runs (never removed) included

    def counts(self) -> dict[str, int]:
        """What was planted: items, filter failures, contaminated items, clusters and the duplicates they hold."""
        return {"items": len(self.kind), "filtered": int((self.kind == FILTERED).sum()),
                "contaminated": int((self.kind == CONTAMINATED).sum()), "clusters": len(self.sizes),
                "duplicates": int((self.sizes - 1).sum()), "clustered_items": int((self.cluster >= 0).sum())}

    def positions(self, item_ids: pa.ChunkedArray | pa.Array) -> np.ndarray:
        """Item ids of this run -> their positions."""
        if len(item_ids) and not pc.all(pc.starts_with(item_ids, self.prefix)).as_py():
            raise ValueError(f"item ids outside this run (prefix {self.prefix!r})")
        digits = pc.utf8_slice_codeunits(item_ids, len(self.prefix))
        return np.asarray(pc.cast(digits, pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64)

    def dedup_score(self, removed: np.ndarray) -> tuple[int, int, int]:
        """(right, should, removed) of duplicate removals: every member but one of a cluster should go."""
        labels = self.cluster[removed]
        per_cluster = np.bincount(labels[labels >= 0], minlength=len(self.sizes))
        right = int(np.minimum(per_cluster, self.sizes - 1).sum())
        return right, int((self.sizes - 1).sum()), len(removed)

    def score(self, removals: pa.Table) -> dict[str, float]:
        """Recall and precision of QC's removals (first reasons) per planted kind and over all of them."""
        first = removals.filter(pc.equal(removals.column("rank"), 1))
        where = self.positions(first.column("item_id"))
        steps = first.column("step").to_numpy(zero_copy_only=False)
        parts = {"dedup": self.dedup_score(where[np.isin(steps, DEDUP_STEPS)])}
        for name, step, kind in (("filter", "filter", FILTERED), ("contamination", "decontaminate", CONTAMINATED)):
            taken = where[steps == step]
            parts[name] = (int((self.kind[taken] == kind).sum()), int((self.kind == kind).sum()), len(taken))
        right, should = sum(p[0] for p in parts.values()), sum(p[1] for p in parts.values())
        parts["all"] = (right, should, len(where))
        scores: dict[str, float] = {}
        for name, (hit, want, took) in parts.items():
            scores[f"{name}_recall"] = hit / max(want, 1)
            scores[f"{name}_precision"] = hit / max(took, 1)
        return scores


def contamination_snippets(config: QcConfig, count: int = 200) -> list[list[str]]:
    """Token runs of English benchmark items that QC's decontaminator finds, inside an item that passes the filters."""
    found = benchmark_decontaminator(config.decontamination, config.benchmarks())
    length = config.decontamination.ngram + 3
    snippets = []
    for bench in found._items:  # noqa: SLF001 - the very items QC's index holds
        words = tokens(bench.text)
        if bench.language != "en" or len(words) < length:
            continue
        snippet = words[:length]
        item = _item("x", "practice " + " ".join(snippet) + "?", None, "an answer", None)
        if not run_filters(item, config.filters) and found.find(item_text(item.question, None, "an answer")):
            snippets.append(snippet)
        if len(snippets) == count:
            break
    if not snippets:
        raise SystemExit("no benchmark item gives a contamination snippet: are the local editions installed?")
    return snippets


def _item(item_id: str, question: str, options: list[str] | None, answer: str, option: str | None) -> QcItem:
    return QcItem(item_id=item_id, run_id="check", strategy="multi_grade", discipline_id="mathematics",
                  target_difficulty=3, verified_difficulty=3, language="en", question=question, options=options,
                  refined_answer=answer, refined_option=option)


class CorpusGenerator:
    """Deterministic from its seed: a run's part always has the same rows, whatever was generated before it."""

    def __init__(self, config: QcConfig, seed: int) -> None:
        self.config, self.seed = config, seed
        self.vocab = vocabulary(random.Random(seed), 30_000)
        self.snippets = contamination_snippets(config)
        self.hasher = MinHasher(config.minhash)
        self.sources: list[Source] = []  # singletons of the runs written so far

    def write_run(self, store: ObjectStore, run_id: str, items: int, prefix: str, cross_share: float = 0.0) -> Truth:
        """Write ``items`` items as the run's parts (PART_ROWS each); ``cross_share`` of them copy earlier runs'."""
        parts, found = -(-items // PART_ROWS), list[Source]()
        kinds, clusters, sizes = [], [], list[int]()
        for part, first in enumerate(range(0, items, PART_ROWS)):
            # Each source is copied within one part only, so the ground truth of every cluster lies in one part.
            table, kind, cluster, part_sizes, singles = self._part(
                run_id, prefix, part, first, min(PART_ROWS, items - first), self.sources[part::parts], cross_share,
                len(sizes))
            store.put_bytes(layout.qa_prefix(run_id) + layout.part_name(part), parquet_bytes(table))
            commit_shard(store, layout.qa_prefix(run_id), part)  # as synthesis commits each shard
            kinds.append(kind)
            clusters.append(cluster)
            sizes += part_sizes
            found += singles[: max(0, SOURCES_CAP - len(found))]
        self.sources += found
        return Truth(prefix, np.concatenate(kinds), np.concatenate(clusters), np.asarray(sizes, dtype=np.int64))

    def _part(self, run_id: str, prefix: str, part: int, first: int, n: int, earlier: list[Source],
              cross_share: float, next_cluster: int
              ) -> tuple[pa.Table, np.ndarray, np.ndarray, list[int], list[Source]]:
        rng, vocab = random.Random(f"{self.seed}/{run_id}/{part}"), self.vocab
        ids = [f"{prefix}{first + i:09d}" for i in range(n)]
        words_of: list[list[str]] = []
        options: list[list[str] | None] = []
        answers: list[str] = []
        letters: list[str | None] = []
        kind = np.zeros(n, dtype=np.int8)
        families: dict[int, list[int]] = {}  # root (a local position, or n + j for earlier runs' source j) -> copies
        root_of: dict[int, int] = {}
        eligible: list[int] = []  # what an in-run copy may copy: clean items of this part
        used: dict[str, int] = {}  # earlier source id -> its position after the part's items
        for i in range(n):
            draw = rng.random()
            if draw < CONTAMINATED_SHARE:
                kind[i] = CONTAMINATED
                words = (rng.choices(vocab, k=rng.randint(5, 20)) + rng.choice(self.snippets)
                         + rng.choices(vocab, k=rng.randint(5, 20)))
                row: tuple[list[str] | None, str, str | None] = (None, self._answer(rng), None)
            elif draw < CONTAMINATED_SHARE + BROKEN_SHARE:
                kind[i] = FILTERED
                words, row = self._broken(rng, ids[i])
            elif earlier and draw < CONTAMINATED_SHARE + BROKEN_SHARE + cross_share:
                source = rng.choice(earlier)
                root = n + used.setdefault(source.item_id, len(used))
                words, row = near_copy(rng, source.words, vocab), (source.options, source.answer, source.option)
                families.setdefault(root, [root]).append(i)
            elif eligible and draw < CONTAMINATED_SHARE + BROKEN_SHARE + cross_share + NEAR_SHARE:
                source_at = rng.choice(eligible)
                root = root_of.get(source_at, source_at)
                words = near_copy(rng, words_of[source_at], vocab)
                row = (options[source_at], answers[source_at], letters[source_at])
                families.setdefault(root, [root]).append(i)
                root_of[i] = root
                eligible.append(i)
            else:
                words, row = rng.choices(vocab, k=rng.randint(30, 90)), self._fresh(rng)
                eligible.append(i)
            words_of.append(words)
            options.append(row[0])
            answers.append(row[1])
            letters.append(row[2])
        by_id = {s.item_id: s for s in earlier}
        extra = [by_id[item_id] for item_id in used]  # in position order: dicts keep insertion order
        texts = [item_text(_question(w), o) for w, o in zip(words_of, options, strict=True)]
        texts += [item_text(_question(s.words), s.options) for s in extra]
        cluster = np.full(n, -1, dtype=np.int32)
        sizes = []
        for members in ground_truth(self.hasher, texts, list(families.values()), self.config.minhash.threshold):
            cluster[[m for m in members if m < n]] = next_cluster + len(sizes)
            sizes.append(len(members))
        touched = {m for family in families.values() for m in family}
        singles = [Source(ids[i], words_of[i], options[i], answers[i], letters[i]) for i in eligible
                   if i not in touched][:SOURCES_PER_PART]
        return self._table(run_id, ids, words_of, options, answers, letters, rng), kind, cluster, sizes, singles

    def _answer(self, rng: random.Random) -> str:
        return " ".join(rng.choices(self.vocab, k=rng.randint(3, 12)))

    def _fresh(self, rng: random.Random) -> tuple[list[str] | None, str, str | None]:
        """(options, answer, option letter): a multiple-choice item OPTIONS_SHARE of the time."""
        if rng.random() < OPTIONS_SHARE:
            choices = [" ".join(rng.choices(self.vocab, k=3)) for _ in _LETTERS]
            return choices, self._answer(rng), rng.choice(_LETTERS)
        return None, self._answer(rng), None

    def _broken(self, rng: random.Random, item_id: str) -> tuple[list[str], tuple[list[str] | None, str, str | None]]:
        """An item that fails a filter (a few kinds in turn), checked against the filters themselves."""
        words, answer = rng.choices(self.vocab, k=rng.randint(30, 90)), self._answer(rng)
        options: list[str] | None = None
        option: str | None = None
        which = rng.randrange(5)
        if which == 0:
            answer = "  "  # missing_answer
        elif which == 1:
            options, option = list(_LETTERS), "A"  # malformed_options: bare labels
        elif which == 2:
            words = [rng.choice(self.vocab)]  # length_out_of_bounds: a one-word question
        elif which == 3:
            answer = f"<think>{answer}</think> {answer}"  # reasoning_leftover
        else:
            answer = "I'm sorry, I cannot help with that."  # refusal
        if not run_filters(_item(item_id, _question(words), options, answer, option), self.config.filters):
            raise AssertionError(f"planted filter failure {item_id} passes the filters")
        return words, (options, answer, option)

    @staticmethod
    def _table(run_id: str, ids: list[str], words_of: list[list[str]], options: list[list[str] | None],
               answers: list[str], letters: list[str | None], rng: random.Random) -> pa.Table:
        """The part's rows with QA_SCHEMA's columns (QC reads QcItem's; the rest are typed nulls or constants)."""
        n = len(ids)
        target = [rng.randint(1, 5) for _ in range(n)]
        columns = {
            "item_id": ids, "run_id": [run_id] * n, "plan_id": ["plan_qc_scale"] * n, "strategy": ["multi_grade"] * n,
            "discipline_id": ["mathematics"] * n, "language": ["en"] * n, "target_difficulty": target,
            "verified_difficulty": [max(1, min(5, t + rng.randint(-1, 1))) for t in target],
            "question": [_question(w) for w in words_of], "options": options, "draft_answer": answers,
            "refined_answer": answers, "draft_option": letters, "refined_option": letters,
        }
        return pa.table({f.name: columns.get(f.name, pa.nulls(n, f.type)) for f in QA_SCHEMA}, schema=QA_SCHEMA)


def _question(words: list[str]) -> str:
    return " ".join(words) + "?"
