"""Near-duplicate detection: word shingles, batched numpy MinHash, LSH banding, exact-Jaccard verification."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np
import xxhash
from pydantic import BaseModel, Field, model_validator

_MASK32 = np.uint64(0xFFFFFFFF)
_SHIFT32 = np.uint64(32)
_MAX_SHINGLES_PER_CHUNK = 65_536  # bounds the (shingles x permutations) matrix to ~64 MiB
SHINGLE_VERSION = "tokens-v1-xxh3"  # bump when tokenization or token hashing changes


def _odd(rng: np.random.Generator, size: int) -> np.ndarray:
    return rng.integers(1, 2**63, size=size, dtype=np.uint64) | np.uint64(1)


class MinHashConfig(BaseModel):
    """Near-dedup knobs.

    Two items are near-duplicates when the Jaccard similarity of their shingle sets is at least ``threshold``; LSH with
    ``bands`` x (``num_perm`` / ``bands``) rows only proposes candidate pairs.
    """

    shingle_size: int = Field(default=5, ge=1, le=32, description="tokens per shingle")
    num_perm: int = Field(default=128, ge=8, le=1024, description="MinHash permutations")
    bands: int = Field(default=32, ge=1, description="LSH bands; rows per band = num_perm / bands")
    threshold: float = Field(default=0.8, gt=0.0, le=1.0, description="Jaccard similarity that makes a duplicate")
    seed: int = Field(default=1, description="seed of the permutation parameters")
    max_group_pairs: int = Field(default=32, ge=2, description="LSH buckets up to this size are checked pairwise; "
                                                              "larger ones against their first member only")

    @model_validator(mode="after")
    def _bands_divide_permutations(self) -> MinHashConfig:
        if self.num_perm % self.bands:
            raise ValueError(f"num_perm ({self.num_perm}) must be a multiple of bands ({self.bands})")
        return self

    @property
    def rows(self) -> int:
        """Permutations per band."""
        return self.num_perm // self.bands

    def candidate_probability(self, jaccard: float) -> float:
        """Chance that a pair at this Jaccard similarity shares at least one band (the LSH S-curve)."""
        return float(1 - (1 - jaccard**self.rows) ** self.bands)


class _TokenHasher:
    """Stable 64-bit token hashes (xxh3), memoized: vocabularies are far smaller than corpora."""

    def __init__(self) -> None:
        self._cache: dict[str, int] = {}

    def __call__(self, words: list[str]) -> np.ndarray:
        cache = self._cache
        for word in set(words).difference(cache):
            cache[word] = xxhash.xxh3_64_intdigest(word.encode("utf-8"))
        return np.fromiter(map(cache.__getitem__, words), dtype=np.uint64, count=len(words))


@dataclass(frozen=True)
class Shingled:
    """Shingle sets of a batch of documents: sorted unique hashes of document i are ``values[starts[i]:ends[i]]``."""

    values: np.ndarray  # uint64
    starts: np.ndarray  # int64
    ends: np.ndarray  # int64

    def of(self, i: int) -> np.ndarray:
        """Sorted unique shingle hashes of document ``i``."""
        return self.values[self.starts[i] : self.ends[i]]

    def __len__(self) -> int:
        return len(self.starts)

    @classmethod
    def of_sets(cls, sets: Sequence[np.ndarray]) -> Shingled:
        """Documents whose sorted unique shingle hashes are ``sets`` (as ``of`` returns them)."""
        counts = np.fromiter((len(s) for s in sets), dtype=np.int64, count=len(sets))
        ends = np.cumsum(counts)
        values = np.concatenate(list(sets)).astype(np.uint64) if sets else np.zeros(0, np.uint64)
        return cls(values=values, starts=ends - counts, ends=ends)

    @classmethod
    def concat(cls, first: Shingled, second: Shingled) -> Shingled:
        """The documents of ``first`` followed by those of ``second``."""
        offset = len(first.values)
        return cls(values=np.concatenate([first.values, second.values]),
                   starts=np.concatenate([first.starts, second.starts + offset]),
                   ends=np.concatenate([first.ends, second.ends + offset]))


class MinHasher:
    """Shingles, signatures and LSH band keys, vectorized over whole batches of documents."""

    def __init__(self, config: MinHashConfig | None = None) -> None:
        self.config = config or MinHashConfig()
        seed = self.config.seed
        # Shingle hashes depend only on (seed, shingle size), so a persisted index survives other knob changes.
        self._window = _odd(np.random.default_rng([seed, 1]), self.config.shingle_size)
        # Multiply-add-shift hashing (odd 64-bit multipliers); the high 32 bits are the permuted value.
        permutations = np.random.default_rng([seed, 2])
        self._a = _odd(permutations, self.config.num_perm)
        self._b = permutations.integers(0, 2**63, size=self.config.num_perm, dtype=np.uint64)
        self._band_mix = _odd(np.random.default_rng([seed, 3]), self.config.rows)
        self._tokens = _TokenHasher()

    @property
    def shingle_fingerprint(self) -> str:
        """What shingle hashes depend on; shingles stored under another fingerprint are not comparable."""
        return f"{SHINGLE_VERSION};k={self.config.shingle_size};seed={self.config.seed}"

    def shingle(self, documents: Sequence[Sequence[str]]) -> Shingled:
        """Shingle sets of tokenized documents, vectorized over the whole batch.

        A document shorter than a shingle is one shingle; an empty document has none.
        """
        k = self.config.shingle_size
        lengths = np.fromiter((len(d) for d in documents), dtype=np.int64, count=len(documents))
        hashed = self._tokens([word for words in documents for word in words])
        doc_ends = np.cumsum(lengths)
        doc_starts = doc_ends - lengths
        # Every window of k tokens, then keep those that do not cross a document boundary.
        count = max(len(hashed) - k + 1, 0)
        windows = np.zeros(count, dtype=np.uint64)
        for j in range(k):
            windows += hashed[j : j + count] * self._window[j]
        owner = np.repeat(np.arange(len(documents)), lengths)[:count]
        inside = np.arange(count) + k <= doc_ends[owner]
        values, docs = windows[inside], owner[inside]
        short = np.flatnonzero((lengths > 0) & (lengths < k))
        if len(short):  # a document shorter than a shingle is one shingle of all its tokens
            whole = np.array([(hashed[doc_starts[i] : doc_ends[i]] * self._window[: lengths[i]]).sum(dtype=np.uint64)
                              for i in short], dtype=np.uint64)
            values, docs = np.concatenate([values, whole]), np.concatenate([docs, short])
        # Sets: sort by (document, shingle) and drop repeats.
        order = np.lexsort((values, docs))
        values, docs = values[order], docs[order]
        first = np.ones(len(values), dtype=bool)
        first[1:] = (values[1:] != values[:-1]) | (docs[1:] != docs[:-1])
        values, docs = values[first], docs[first]
        counts = np.bincount(docs, minlength=len(documents)).astype(np.int64)
        ends = np.cumsum(counts)
        return Shingled(values=values, starts=ends - counts, ends=ends)

    def signatures(self, shingled: Shingled) -> np.ndarray:
        """MinHash signatures, shape (documents, num_perm), uint32.

        Documents without shingles get all-max rows, which collide with each other: leave them out of banding.
        """
        n = len(shingled)
        out = np.full((n, self.config.num_perm), np.iinfo(np.uint32).max, dtype=np.uint32)
        nonempty = np.flatnonzero(shingled.ends > shingled.starts)
        a, b = self._a[:, None], self._b[:, None]
        i = 0
        while i < len(nonempty):
            # Take whole documents until the chunk holds about _MAX_SHINGLES_PER_CHUNK shingles.
            first = shingled.starts[nonempty[i]]
            j = int(np.searchsorted(shingled.ends[nonempty], first + _MAX_SHINGLES_PER_CHUNK, side="right"))
            j = max(j, i + 1)
            docs = nonempty[i:j]
            lo, hi = shingled.starts[docs[0]], shingled.ends[docs[-1]]
            # (permutations, shingles) so the per-document minimum runs along contiguous memory.
            permuted = a * shingled.values[None, lo:hi]
            permuted += b
            permuted >>= _SHIFT32
            out[docs] = np.minimum.reduceat(permuted, shingled.starts[docs] - lo, axis=1).T
            i = j
        return out

    def band_keys(self, signatures: np.ndarray) -> np.ndarray:
        """One 64-bit key per (document, band): equal keys mean equal signature rows in that band."""
        n = signatures.shape[0]
        banded = signatures.reshape(n, self.config.bands, self.config.rows).astype(np.uint64)
        return cast(np.ndarray, (banded * self._band_mix).sum(axis=2, dtype=np.uint64))


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Exact Jaccard similarity of two sorted unique hash arrays."""
    if not len(a) or not len(b):
        return 0.0
    common = len(np.intersect1d(a, b, assume_unique=True))
    return common / (len(a) + len(b) - common)


def candidate_pairs(keys: np.ndarray, max_group_pairs: int) -> np.ndarray:
    """Distinct (i, j), i < j, pairs of documents sharing a key in at least one band; shape (pairs, 2)."""
    found: list[np.ndarray] = []
    for band in range(keys.shape[1]):
        column = keys[:, band]
        order = np.argsort(column, kind="stable")
        ordered = column[order]
        new_group = np.ones(len(ordered), dtype=bool)
        new_group[1:] = ordered[1:] != ordered[:-1]
        group_id = np.cumsum(new_group) - 1
        starts = np.flatnonzero(new_group)
        sizes = np.diff(np.append(starts, len(ordered)))
        # Every member with the group's first member (vectorized), then all pairs inside small groups.
        members = ~new_group
        found.append(np.stack([order[starts[group_id[members]]], order[members]], axis=1))
        for start, size in zip(starts[sizes > 2], sizes[sizes > 2], strict=True):
            group = order[start : start + min(size, max_group_pairs)]
            left, right = np.triu_indices(len(group), k=1)
            found.append(np.stack([group[left], group[right]], axis=1))
    if not found:
        return np.zeros((0, 2), dtype=np.int64)
    pairs = np.sort(np.concatenate(found).astype(np.int64), axis=1)
    n = np.int64(keys.shape[0])
    codes = np.unique(pairs[:, 0] * n + pairs[:, 1])  # one int per pair: a 1-D unique is much faster
    return np.stack([codes // n, codes % n], axis=1)
