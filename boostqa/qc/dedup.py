"""Exact and near-duplicate removal over ranked documents: the best-ranked member of a cluster is kept."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from boostqa.qc.minhash import MinHasher, Shingled, candidate_pairs, jaccard

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Duplicate:
    """A removed document, the kept document of its cluster, and how similar the two are (1.0 for exact)."""

    index: int
    kept_index: int
    similarity: float


def exact_key(words: Sequence[str]) -> str:
    """Content key of normalized tokens: equal keys mean the same text up to case, punctuation and spacing."""
    return hashlib.sha256(" ".join(words).encode("utf-8")).hexdigest()[:32]


def exact_duplicates(keys: Sequence[str], protected: int = 0) -> list[Duplicate]:
    """Documents whose key an earlier (better-ranked) document already has.

    The first ``protected`` documents (the index of earlier runs) are never removed.
    """
    first: dict[str, int] = {}
    removed: list[Duplicate] = []
    for i, key in enumerate(keys):
        kept = first.setdefault(key, i)
        if kept != i and i >= protected:
            removed.append(Duplicate(i, kept, 1.0))
    return removed


class _Clusters:
    """Union-find whose root is always the smallest (best-ranked) index of the set."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def root(self, i: int) -> int:
        parent = self.parent
        path = []
        while parent.get(i, i) != i:
            path.append(i)
            i = parent[i]
        for j in path:
            parent[j] = i
        return i

    def join(self, a: int, b: int) -> None:
        ra, rb = self.root(a), self.root(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def near_duplicates(hasher: MinHasher, shingled: Shingled, protected: int = 0) -> list[Duplicate]:
    """Documents in a cluster whose best-ranked member comes before them.

    Clusters are connected by Jaccard >= threshold, verified exactly on the shingle sets. Documents are ranked by
    position; the first ``protected`` ones are never removed and pairs among them are not checked (they were
    deduplicated when they were admitted).
    """
    nonempty = np.flatnonzero(shingled.ends > shingled.starts)
    if len(nonempty) < 2:
        return []
    signatures = hasher.signatures(shingled)[nonempty]
    pairs = nonempty[candidate_pairs(hasher.band_keys(signatures), hasher.config.max_group_pairs)]
    pairs = pairs[pairs[:, 1] >= protected]
    clusters = _Clusters()
    verified = 0
    for a, b in pairs.tolist():
        if jaccard(shingled.of(a), shingled.of(b)) >= hasher.config.threshold:
            clusters.join(a, b)
            verified += 1
    log.info("near-dedup: %d documents, %d LSH candidate pairs, %d verified", len(nonempty), len(pairs), verified)
    removed = []
    for i in sorted(clusters.parent):
        kept = clusters.root(i)
        if kept != i and i >= protected:
            removed.append(Duplicate(i, kept, round(jaccard(shingled.of(i), shingled.of(kept)), 4)))
    return removed
