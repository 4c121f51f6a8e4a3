"""Single-process QC of one run against an in-memory index: the reference the bucketed pipeline must match.

This is QC as one process did it before the pipeline was bucketed (every earlier run's index entries in memory). It
is kept, apart from the product's path, as the oracle of tests and of the scale bench: the pipeline's decisions must
equal these on the same items and index.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from boostqa.qc.dedup import exact_duplicates, exact_key, near_duplicates
from boostqa.qc.minhash import Shingled
from boostqa.qc.records import QcItem, Removal
from boostqa.qc.stage import QualityControl, Screened
from boostqa.qc.text import item_text, tokens

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DedupIndex:
    """Items already in the corpus, in admission order (earlier runs first): they always win a cluster."""

    item_ids: list[str]
    exact_keys: list[str]
    shingled: Shingled

    def __len__(self) -> int:
        return len(self.item_ids)

    @classmethod
    def empty(cls) -> DedupIndex:
        """No earlier runs."""
        return cls([], [], Shingled(np.zeros(0, np.uint64), np.zeros(0, np.int64), np.zeros(0, np.int64)))


@dataclass(frozen=True)
class QcOutcome:
    """What QC decided for one run.

    Kept items with their exact keys and shingle sets (the run's index entries), and every removal.
    """

    kept: list[tuple[QcItem, str]]
    removals: list[Removal]
    kept_shingles: list[np.ndarray]


class ReferenceQc:
    """The single-process QC of one run: screening, then exact and near dedup against an in-memory index."""

    def __init__(self, quality: QualityControl) -> None:
        self.quality = quality

    def run(self, run_id: str, items: Sequence[QcItem], index: DedupIndex) -> QcOutcome:
        """Check one run's items against the earlier runs' ``index``: what it keeps and why the rest went.

        No I/O: the caller loads the index and writes the outcome.
        """
        return self.deduplicate(run_id, self.quality.screen(run_id, items), index, items=len(items))

    def deduplicate(self, run_id: str, screened: Screened, index: DedupIndex, items: int) -> QcOutcome:
        """Exact, then near dedup of the screened survivors against ``index`` and each other."""
        started = time.monotonic()
        survivors, removals = screened.survivors, [*screened.filtered, *screened.contaminated]
        keys = [exact_key(tokens(i.question)) for i in survivors]
        remaining = self.exact_dedup(run_id, survivors, keys, index, removals)
        log.info("qc %s: exact dedup kept %d (index of %d earlier items)", run_id, len(remaining), len(index))
        kept_positions, shingled = self.near_dedup(run_id, [survivors[i] for i in remaining], index, removals)
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

    def near_dedup(self, run_id: str, items: Sequence[QcItem], index: DedupIndex,
                   removals: list[Removal]) -> tuple[list[int], Shingled]:
        """Positions of the items no near-duplicate cluster removed in favour of an indexed or earlier item.

        Clusters come from MinHash LSH, then exact Jaccard. Also the shingle sets of all ``items``.
        """
        shingled = self.quality.hasher.shingle([tokens(item_text(i.question, i.options)) for i in items])
        ids = index.item_ids + [i.item_id for i in items]
        gone: set[int] = set()
        everything = Shingled.concat(index.shingled, shingled)
        for dup in near_duplicates(self.quality.hasher, everything, protected=len(index)):
            gone.add(dup.index - len(index))
            item = items[dup.index - len(index)]
            removals.append(Removal(item_id=item.item_id, run_id=run_id, step="near_dedup", reason="near_duplicate",
                                    rank=1, detail=f"Jaccard {dup.similarity:.2f} with {ids[dup.kept_index]} "
                                                   f"({self.quality.config.minhash.shingle_size}-token shingles)",
                                    duplicate_of=ids[dup.kept_index], similarity=dup.similarity))
        return [p for p in range(len(items)) if p not in gone], shingled


def point_at_cluster_keepers(removals: list[Removal]) -> list[Removal]:
    """An exact duplicate whose kept twin then lost a near-duplicate cluster points at that cluster's keeper."""
    near_keeper = {r.item_id: r for r in removals if r.step == "near_dedup"}
    return [r.model_copy(update={"duplicate_of": near_keeper[r.duplicate_of].duplicate_of,
                                 "similarity": near_keeper[r.duplicate_of].similarity})
            if r.step == "exact_dedup" and r.duplicate_of in near_keeper else r for r in removals]


