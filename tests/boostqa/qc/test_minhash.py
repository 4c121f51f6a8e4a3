"""MinHash signatures estimate Jaccard similarity; LSH proposes the pairs the verification keeps."""

from __future__ import annotations

import random

import numpy as np
import pytest
from pydantic import ValidationError

from boostqa.qc.dedup import exact_duplicates, near_duplicates
from boostqa.qc.minhash import MinHashConfig, MinHasher, Shingled, candidate_pairs, jaccard


def _doc(rng: random.Random, n: int = 60) -> list[str]:
    return [f"w{rng.randrange(5000)}" for _ in range(n)]


def test_signature_agreement_estimates_exact_jaccard() -> None:
    rng = random.Random(1)
    hasher = MinHasher(MinHashConfig(num_perm=256, bands=32))
    base = _doc(rng, 200)
    edited = base[:150] + _doc(rng, 50)
    shingled = hasher.shingle([base, edited])
    signatures = hasher.signatures(shingled)
    estimate = float(np.mean(signatures[0] == signatures[1]))
    assert estimate == pytest.approx(jaccard(shingled.of(0), shingled.of(1)), abs=0.08)


def test_shingles_are_sets_and_short_documents_are_one_shingle() -> None:
    hasher = MinHasher(MinHashConfig(shingle_size=3))
    shingled = hasher.shingle([["a", "b", "c", "a", "b", "c"], ["a", "b"], []])
    assert len(shingled.of(0)) == 3  # abc, bca, cab
    assert len(shingled.of(1)) == 1 and len(shingled.of(2)) == 0


def test_lsh_candidate_probability_follows_the_s_curve() -> None:
    config = MinHashConfig(num_perm=128, bands=32)
    assert config.rows == 4
    assert config.candidate_probability(0.8) > 0.999 and config.candidate_probability(0.2) < 0.05
    with pytest.raises(ValidationError, match="multiple of bands"):
        MinHashConfig(num_perm=100, bands=32)


def test_candidate_pairs_are_distinct_sorted_and_cover_shared_keys() -> None:
    keys = np.array([[1, 9], [1, 8], [2, 8], [1, 7]], dtype=np.uint64)
    assert candidate_pairs(keys, 32).tolist() == [[0, 1], [0, 3], [1, 2], [1, 3]]


def test_near_duplicates_keep_the_best_ranked_member_and_protect_the_index() -> None:
    rng = random.Random(3)
    hasher = MinHasher()
    a = _doc(rng)
    near_a = a[:-2] + ["x", "y"]
    b = _doc(rng)
    shingled = hasher.shingle([a, b, near_a, list(near_a)])
    removed = {(d.index, d.kept_index) for d in near_duplicates(hasher, shingled)}
    assert removed == {(2, 0), (3, 0)}
    # With a and b protected (an earlier run's index), only the new documents can go.
    assert {d.index for d in near_duplicates(hasher, shingled, protected=2)} == {2, 3}
    assert near_duplicates(hasher, Shingled.concat(hasher.shingle([a]), hasher.shingle([b]))) == []


def test_exact_duplicates_keep_the_first_and_never_remove_protected() -> None:
    assert [(d.index, d.kept_index) for d in exact_duplicates(["k1", "k2", "k1", "k1"])] == [(2, 0), (3, 0)]
    assert [d.index for d in exact_duplicates(["k1", "k1", "k1"], protected=2)] == [2]


def test_an_empty_batch_has_no_shingles_and_no_duplicates() -> None:
    hasher = MinHasher()
    empty = hasher.shingle([])
    assert len(empty) == 0 and hasher.signatures(empty).shape == (0, 128)
    assert near_duplicates(hasher, Shingled.concat(hasher.shingle([["a"] * 9, ["b"] * 9]), empty), protected=2) == []
