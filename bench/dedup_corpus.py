"""The near-dedup benchmark's corpus: random-word documents with planted near-duplicate families, and scoring."""

from __future__ import annotations

import random

from boostqa.qc.minhash import MinHasher, jaccard
from boostqa.qc.text import tokens

_SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]


def vocabulary(rng: random.Random, size: int) -> list[str]:
    """``size`` distinct random words of two to four syllables, sorted."""
    words: set[str] = set()
    while len(words) < size:  # letters only: datatrove's normalizer rewrites digits
        words.add("".join(rng.choices(_SYLLABLES, k=rng.randint(2, 4))))
    return sorted(words)


def near_copy(rng: random.Random, words: list[str], vocab: list[str]) -> list[str]:
    """A copy of ``words`` with 0 (an exact copy) to 6 words substituted at random positions."""
    copy = list(words)
    for _ in range(rng.choice([0, 0, 1, 1, 2, 3, 4, 6])):
        copy[rng.randrange(len(copy))] = rng.choice(vocab)
    return copy


def make_corpus(items: int, planted_share: float, seed: int) -> tuple[list[str], list[list[int]]]:
    """Documents and the planted families (lists of document indexes, the original first)."""
    rng = random.Random(seed)
    vocab = vocabulary(rng, 30_000)
    docs: list[list[str]] = []
    families: dict[int, list[int]] = {}
    root_of: dict[int, int] = {}
    while len(docs) < items:
        if docs and rng.random() < planted_share:
            source = rng.randrange(len(docs))
            root = root_of.get(source, source)
            copy = near_copy(rng, docs[source], vocab)
            families.setdefault(root, [root]).append(len(docs))
            root_of[len(docs)] = root
            docs.append(copy)
        else:
            docs.append(rng.choices(vocab, k=rng.randint(30, 90)))
    return [" ".join(d) for d in docs], list(families.values())


def ground_truth(hasher: MinHasher, texts: list[str], families: list[list[int]], threshold: float
                 ) -> list[set[int]]:
    """Clusters of documents linked by exact Jaccard >= threshold (random documents share no 5-gram)."""
    clusters: list[set[int]] = []
    for family in families:
        shingled = hasher.shingle([tokens(texts[i]) for i in family])
        parent = list(range(len(family)))

        def find(i: int, parent: list[int] = parent) -> int:
            while parent[i] != i:
                i = parent[i]
            return i

        for a in range(len(family)):
            for b in range(a + 1, len(family)):
                if jaccard(shingled.of(a), shingled.of(b)) >= threshold:
                    parent[find(b)] = find(a)
        groups: dict[int, set[int]] = {}
        for i, doc in enumerate(family):
            groups.setdefault(find(i), set()).add(doc)
        clusters.extend(g for g in groups.values() if len(g) > 1)
    return clusters


def score(removed: set[int], clusters: list[set[int]]) -> tuple[float, float]:
    """(recall, precision) of a removal set against the ground-truth clusters.

    Recall counts the documents that should go (all but one of every cluster) and were removed; precision the
    removed documents that should have gone.
    """
    should = sum(len(c) - 1 for c in clusters)
    right = sum(min(len(c & removed), len(c) - 1) for c in clusters)
    return right / max(should, 1), right / max(len(removed), 1)
