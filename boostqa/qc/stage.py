"""The QC stage of one synthesis run: filters, decontamination, exact and near dedup; decisions to the lake."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel

from boostqa.benchmarks.loader import BenchmarkItem
from boostqa.lake import layout
from boostqa.lake.parquet import write_rows
from boostqa.lake.read import read_prefix
from boostqa.lake.store import ObjectStore
from boostqa.lake.tables import KEPT_SCHEMA, REMOVAL_SCHEMA
from boostqa.qc.decontaminate import benchmark_decontaminator
from boostqa.qc.dedup import exact_duplicates, exact_key, near_duplicates
from boostqa.qc.filters import run_filters
from boostqa.qc.index import DedupIndex, load_index, write_index_part
from boostqa.qc.minhash import MinHasher, Shingled
from boostqa.qc.records import QcConfig, QcItem, Removal
from boostqa.qc.text import item_text, tokens

log = logging.getLogger(__name__)
EXACT_KEY_VERSION = "exact=question-v1"


class QcResult(BaseModel):
    """Small, XCom-friendly summary of one run's QC."""

    run_id: str
    skipped: bool
    items: int
    kept: int
    removed: int
    reasons: dict[str, int]


def load_run_items(store: ObjectStore, run_id: str) -> list[QcItem]:
    """The synthesized items of a run, in item id order."""
    table = read_prefix(store, layout.qa_prefix(run_id), list(QcItem.model_fields))
    items = [QcItem.model_validate(row) for row in table.to_pylist()] if table is not None else []
    return sorted(items, key=lambda i: i.item_id)


def keep_order(items: Sequence[QcItem]) -> list[QcItem]:
    """The deterministic rule for which member of a duplicate cluster stays.

    Items of earlier runs (the index) first, then the higher verified difficulty, then the smaller item id.
    """
    return sorted(items, key=lambda i: (-i.verified_difficulty, i.item_id))


@dataclass(frozen=True)
class Screened:
    """What the row-level steps left: survivors in keep order, then the filter and decontamination removals."""

    survivors: list[QcItem]
    filtered: list[Removal]
    contaminated: list[Removal]

    @classmethod
    def merge(cls, parts: Sequence[Screened]) -> Screened:
        """Screened partitions of one run as if screened whole (items in id order, as ``load_run_items`` reads)."""
        return cls(survivors=keep_order([i for p in parts for i in p.survivors]),
                   filtered=sorted((r for p in parts for r in p.filtered), key=lambda r: (r.item_id, r.rank)),
                   contaminated=sorted((r for p in parts for r in p.contaminated), key=lambda r: r.item_id))


@dataclass(frozen=True)
class QcOutcome:
    """What QC decided for one run.

    Kept items with their exact keys and shingle sets (the run's index entries), and every removal.
    """

    kept: list[tuple[QcItem, str]]
    removals: list[Removal]
    kept_shingles: list[np.ndarray]


class QualityControl:
    """Applies the QC steps in order; each step only sees the items every earlier step kept."""

    def __init__(self, config: QcConfig, benchmark_items: Sequence[BenchmarkItem] | None = None) -> None:
        self.config = config
        self.decontaminator = benchmark_decontaminator(config.decontamination, config.benchmark_source,
                                                       benchmark_items)
        self.hasher = MinHasher(config.minhash)
        # What index entries depend on: the shingle settings and what the exact key hashes.
        self.index_fingerprint = f"{self.hasher.shingle_fingerprint};{EXACT_KEY_VERSION}"

    def filter(self, items: Sequence[QcItem], removals: list[Removal]) -> list[QcItem]:
        """Items that pass every filter; each failure of the others is added to ``removals``."""
        survivors = []
        for item in items:
            failures = run_filters(item, self.config.filters)
            removals.extend(Removal(item_id=item.item_id, run_id=item.run_id, step="filter", reason=reason, rank=rank,
                                    detail=detail) for rank, (reason, detail) in enumerate(failures, start=1))
            if not failures:
                survivors.append(item)
        return survivors

    def decontaminate(self, items: Sequence[QcItem], removals: list[Removal]) -> list[QcItem]:
        """Items that share no benchmark n-grams; each contaminated one is added to ``removals``."""
        survivors = []
        for item in items:
            hit = self.decontaminator.find(item_text(item.question, item.options, item.refined_answer))
            if hit is None:
                survivors.append(item)
                continue
            removals.append(Removal(
                item_id=item.item_id, run_id=item.run_id, step="decontaminate", reason="benchmark_contaminated", rank=1,
                detail=f"{hit.overlapping_ngrams} shared n-gram(s) with {hit.benchmark_item_id}, e.g. {hit.ngram!r}",
                benchmark=hit.benchmark, benchmark_item_id=hit.benchmark_item_id))
        return survivors

    def screen(self, run_id: str, items: Sequence[QcItem]) -> Screened:
        """The row-level steps (filters, then decontamination): survivors in keep order and the removals so far.

        Each item is judged alone, so any partition of ``items`` screened apart and merged with ``Screened.merge``
        gives the same result (the Ray job screens in parallel batches).
        """
        filtered: list[Removal] = []
        survivors = self.filter(items, filtered)
        log.info("qc %s: filters kept %d of %d", run_id, len(survivors), len(items))
        contaminated: list[Removal] = []
        survivors = keep_order(self.decontaminate(survivors, contaminated))
        log.info("qc %s: decontamination kept %d (%d benchmark items)", run_id, len(survivors),
                 len(self.decontaminator))
        return Screened(survivors=survivors, filtered=filtered, contaminated=contaminated)

    def shingles_of(self, items: Sequence[QcItem]) -> list[np.ndarray]:
        """Each item's near-dedup shingle set (its question and options), as ``near_dedup`` compares them."""
        shingled = self.hasher.shingle([tokens(item_text(i.question, i.options)) for i in items])
        return [shingled.of(p) for p in range(len(items))]

    def run(self, run_id: str, items: Sequence[QcItem], index: DedupIndex) -> QcOutcome:
        """Check one run's items against the earlier runs' ``index``: what it keeps and why the rest went.

        No I/O: the caller loads the index and writes the outcome.
        """
        return self.deduplicate(run_id, self.screen(run_id, items), index, items=len(items))

    def deduplicate(self, run_id: str, screened: Screened, index: DedupIndex, items: int,
                    shingles: dict[str, np.ndarray] | None = None) -> QcOutcome:
        """Exact, then near dedup of the screened survivors against ``index`` and each other.

        ``shingles`` (item id -> shingle set) are the survivors' shingle sets when computed elsewhere (the Ray job
        computes them in its screening batches); missing ones are computed here.
        """
        started = time.monotonic()
        survivors, removals = screened.survivors, [*screened.filtered, *screened.contaminated]
        keys = [exact_key(tokens(i.question)) for i in survivors]
        remaining = self.exact_dedup(run_id, survivors, keys, index, removals)
        log.info("qc %s: exact dedup kept %d (index of %d earlier items)", run_id, len(remaining), len(index))
        kept_positions, shingled = self.near_dedup(run_id, [survivors[i] for i in remaining], index, removals,
                                                   shingles)
        removals = point_at_cluster_keepers(removals)
        kept = [(survivors[remaining[p]], keys[remaining[p]]) for p in kept_positions]
        log.info("qc %s: near dedup kept %d; %d of %d items kept in %.1f s", run_id, len(kept), len(kept), items,
                 time.monotonic() - started)
        return QcOutcome(kept=kept, removals=removals, kept_shingles=[shingled.of(p) for p in kept_positions])

    def exact_dedup(self, run_id: str, items: Sequence[QcItem], keys: Sequence[str], index: DedupIndex,
                    removals: list[Removal]) -> list[int]:
        """Positions of the items whose exact key neither the index nor an earlier item of the run holds.

        The exact key is the normalized question alone: the same question with other options is the same item.
        """
        ids = index.item_ids + [i.item_id for i in items]
        gone: set[int] = set()
        for dup in exact_duplicates(index.exact_keys + list(keys), protected=len(index)):
            gone.add(dup.index - len(index))
            item = items[dup.index - len(index)]
            removals.append(Removal(item_id=item.item_id, run_id=run_id, step="exact_dedup", reason="exact_duplicate",
                                    rank=1, detail=f"same normalized question as {ids[dup.kept_index]}",
                                    duplicate_of=ids[dup.kept_index], similarity=1.0))
        return [i for i in range(len(items)) if i not in gone]

    def near_dedup(self, run_id: str, items: Sequence[QcItem], index: DedupIndex, removals: list[Removal],
                   shingles: dict[str, np.ndarray] | None = None) -> tuple[list[int], Shingled]:
        """Positions of the items no near-duplicate cluster removed in favour of an indexed or earlier item.

        Clusters come from MinHash LSH, then exact Jaccard. Also the shingle sets of all ``items``.
        """
        if shingles is not None and all(i.item_id in shingles for i in items):
            shingled = Shingled.of_sets([shingles[i.item_id] for i in items])
        else:
            shingled = self.hasher.shingle([tokens(item_text(i.question, i.options)) for i in items])
        ids = index.item_ids + [i.item_id for i in items]
        gone: set[int] = set()
        for dup in near_duplicates(self.hasher, Shingled.concat(index.shingled, shingled), protected=len(index)):
            gone.add(dup.index - len(index))
            item = items[dup.index - len(index)]
            removals.append(Removal(item_id=item.item_id, run_id=run_id, step="near_dedup", reason="near_duplicate",
                                    rank=1, detail=f"Jaccard {dup.similarity:.2f} with {ids[dup.kept_index]} "
                                                   f"({self.config.minhash.shingle_size}-token shingles)",
                                    duplicate_of=ids[dup.kept_index], similarity=dup.similarity))
        return [p for p in range(len(items)) if p not in gone], shingled


def point_at_cluster_keepers(removals: list[Removal]) -> list[Removal]:
    """An exact duplicate whose kept twin then lost a near-duplicate cluster points at that cluster's keeper."""
    near_keeper = {r.item_id: r for r in removals if r.step == "near_dedup"}
    return [r.model_copy(update={"duplicate_of": near_keeper[r.duplicate_of].duplicate_of,
                                 "similarity": near_keeper[r.duplicate_of].similarity})
            if r.step == "exact_dedup" and r.duplicate_of in near_keeper else r for r in removals]


# How a run's items reach deduplication: (screened run, survivors' shingle sets, item count). The default reads the
# run into this process and screens it here; the Ray job screens on the cluster (boostqa.qc.distributed).
Screener = Callable[[ObjectStore, str, "QualityControl"], tuple[Screened, dict[str, np.ndarray], int]]


def screen_here(store: ObjectStore, run_id: str, quality: QualityControl) -> tuple[Screened, dict[str, np.ndarray],
                                                                                     int]:
    """Read the run's items and screen them in this process."""
    items = load_run_items(store, run_id)
    return quality.screen(run_id, items), {}, len(items)


def run_qc(store: ObjectStore, run_id: str, config: QcConfig | None = None,
           benchmark_items: Sequence[BenchmarkItem] | None = None, force: bool = False,
           screener: Screener = screen_here) -> QcResult:
    """QC one synthesis run unless its marker exists (``force`` redoes it); the marker is written last."""
    if store.get_bytes_or_none(layout.qc_marker(run_id)) is not None and not force:
        log.info("qc %s is complete: skipped", run_id)
        return QcResult(run_id=run_id, skipped=True, items=0, kept=0, removed=0, reasons={})
    return _run_one(store, run_id, QualityControl(config or QcConfig(), benchmark_items), screener)


def _run_one(store: ObjectStore, run_id: str, quality: QualityControl, screener: Screener = screen_here) -> QcResult:
    marker = layout.qc_marker(run_id)
    store.delete_keys([marker])
    screened, shingles, items = screener(store, run_id, quality)
    index = load_index(store, quality.index_fingerprint, exclude_run=run_id)
    outcome = quality.deduplicate(run_id, screened, index, items=items, shingles=shingles)
    kept, removals = outcome.kept, outcome.removals
    write_index_part(store, run_id, [i.item_id for i, _ in kept], [k for _, k in kept], outcome.kept_shingles,
                     quality.index_fingerprint)
    write_rows(store, layout.qc_part("removals", run_id), [r.model_dump() for r in removals], REMOVAL_SCHEMA)
    write_rows(store, layout.qc_part("kept", run_id),
               [{"item_id": item.item_id, "run_id": run_id, "exact_key": key} for item, key in kept], KEPT_SCHEMA)
    store.put_bytes(marker, b"")
    reasons: dict[str, int] = dict(sorted(Counter(r.reason for r in removals if r.rank == 1).items()))
    log.info("qc %s: %d items -> %d kept, %d removed %s", run_id, items, len(kept), items - len(kept), reasons)
    return QcResult(run_id=run_id, skipped=False, items=items, kept=len(kept), removed=items - len(kept),
                    reasons=reasons)


def rebuild_index(store: ObjectStore, config: QcConfig | None = None,
                  benchmark_items: Sequence[BenchmarkItem] | None = None) -> list[QcResult]:
    """Redo QC of every QC'd run in run order on an emptied index.

    For use after changing shingle settings or an index format change: each run is deduplicated against the runs before
    it, as when they first ran.
    """
    touched: set[str] = set()
    for table in ("done", "kept", "index"):  # a run QC touched, finished or not
        prefix = layout.qc_table_prefix(table)
        touched |= {k.removeprefix(prefix).split("/", 1)[0].removeprefix("run_id=") for k in store.list_keys(prefix)}
    runs = sorted(touched - {layout.BOOTSTRAP_RUN})
    store.delete_keys(store.list_keys(layout.qc_table_prefix("index")))
    log.info("rebuilding the dedup index from %d runs: %s", len(runs), runs)
    quality = QualityControl(config or QcConfig(), benchmark_items)
    return [_run_one(store, run, quality) for run in runs]
