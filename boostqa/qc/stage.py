"""QC's row-level steps and settings: filters and decontamination of items, the keep order, the index fingerprint."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa

from boostqa.benchmarks.loader import BenchmarkItem
from boostqa.lake import layout
from boostqa.lake.commits import require_all_shards_committed
from boostqa.lake.read import read_keys
from boostqa.lake.store import LakeConfig, ObjectStore
from boostqa.qc.buckets import BUCKETS
from boostqa.qc.decontaminate import benchmark_decontaminator
from boostqa.qc.filters import DOCUMENT_FILTERS, FILTERS, Filter, run_filters
from boostqa.qc.minhash import MinHasher
from boostqa.qc.records import QcConfig, QcItem, Removal
from boostqa.qc.text import item_text

log = logging.getLogger(__name__)
EXACT_KEY_VERSION = "exact=question-v1"
INDEX_LAYOUT = f"index-v2-buckets={BUCKETS}"  # bump when the index's files or key rows change


def item_keys(store: ObjectStore, run_id: str) -> list[str]:
    """The committed parts of a run's items: every shard of a synthesis run, or the staged general corpus.

    Raises:
        LakeError: a synthesis shard has parts but no marker (QC must not mark such a run done).
    """
    if run_id == layout.GENERAL_QC_RUN:  # one object per source, each its own commit
        return [k for k in store.list_keys(layout.qc_items_prefix(run_id)) if k.endswith(".parquet")]
    return require_all_shards_committed(store, run_id)


def load_run_items(store: ObjectStore, run_id: str) -> list[QcItem]:
    """The items of a run (a synthesis run, or the general corpus), in item id order."""
    table = read_keys(store, item_keys(store, run_id), item_columns(run_id))
    return sorted(items_of(run_id, table) if table is not None else [], key=lambda i: i.item_id)


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


class QualityControl:
    """Applies the QC steps in order; each step only sees the items every earlier step kept."""

    def __init__(self, config: QcConfig, benchmark_items: Sequence[BenchmarkItem] | None = None,
                 filters: Sequence[Filter] = FILTERS, lake: LakeConfig | None = None) -> None:
        self.config = config
        self.filters = tuple(filters)
        # loaded here, in the driver: Ray tasks get the decontaminator with the QC object, never the mirror's reader
        self.decontaminator = benchmark_decontaminator(config.decontamination, config.benchmarks(), benchmark_items,
                                                       lake)
        self.hasher = MinHasher(config.minhash)
        # What index entries depend on: the shingle settings, what the exact key hashes, the LSH band keys' settings
        # and the bucket layout.
        minhash = config.minhash
        self.index_fingerprint = (f"{self.hasher.shingle_fingerprint};{EXACT_KEY_VERSION};{INDEX_LAYOUT};"
                                  f"perm={minhash.num_perm};bands={minhash.bands}")

    def filter(self, items: Sequence[QcItem], removals: list[Removal]) -> list[QcItem]:
        """Items that pass every filter; each failure of the others is added to ``removals``."""
        survivors = []
        for item in items:
            failures = run_filters(item, self.config.filters, self.filters)
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

        Each item is judged alone, so any partition of ``items`` may be screened apart (QC screens a run in chunks).
        """
        filtered: list[Removal] = []
        survivors = self.filter(items, filtered)
        log.info("qc %s: filters kept %d of %d", run_id, len(survivors), len(items))
        contaminated: list[Removal] = []
        survivors = keep_order(self.decontaminate(survivors, contaminated))
        log.info("qc %s: decontamination kept %d (%d benchmark items)", run_id, len(survivors),
                 len(self.decontaminator))
        return Screened(survivors=survivors, filtered=filtered, contaminated=contaminated)


def for_run(run_id: str, config: QcConfig, benchmark_items: Sequence[BenchmarkItem] | None = None,
            lake: LakeConfig | None = None) -> QualityControl:
    """The QC of a run: synthesized items get every filter, the general corpus' documents ``DOCUMENT_FILTERS``.

    ``lake`` signs the reads of a benchmark mirror on S3.
    """
    filters = DOCUMENT_FILTERS if run_id == layout.GENERAL_QC_RUN else FILTERS
    return QualityControl(config, benchmark_items, filters, lake)


def items_of(run_id: str, table: pa.Table) -> list[QcItem]:
    """A run's rows as QC items: QA rows as they are, general-corpus documents as items whose question is the text.

    A document has no answer or options and difficulty 0, so every later step treats both alike.
    """
    if run_id != layout.GENERAL_QC_RUN:
        return [QcItem.model_validate(row) for row in table.select(list(QcItem.model_fields)).to_pylist()]
    return [QcItem(item_id=row["doc_id"], run_id=run_id, strategy="general", discipline_id="general",
                   target_difficulty=0, verified_difficulty=0, language=row["language"] or "en", question=row["text"])
            for row in table.select(list(DOCUMENT_COLUMNS)).to_pylist()]


DOCUMENT_COLUMNS = ("doc_id", "text", "language")


def item_columns(run_id: str) -> list[str]:
    """The columns of a run's parts that :func:`items_of` reads."""
    return list(DOCUMENT_COLUMNS) if run_id == layout.GENERAL_QC_RUN else list(QcItem.model_fields)
