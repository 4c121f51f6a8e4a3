"""Benchmark of near-duplicate removal: our batched MinHash/LSH against datatrove's MinHash pipeline.

Builds a corpus (100,000 items by default) of random-word documents with planted near-duplicate families (a few
words substituted, some exact copies), computes the exact-Jaccard ground truth inside every family, then runs
both deduplicators on the same items in the same process, single-threaded, with the same shingle size and the
same bands x rows. Prints items/s, recall and precision of each and the throughput ratio (goal >= 1.0x
datatrove's, recall >= 0.95).

Recall counts the documents that should go (all but one of every ground-truth cluster of Jaccard >= threshold)
and were removed; precision the removed documents that should have gone.

    .venv/bin/python bench/dedup.py                      # 100,000 items
    .venv/bin/python bench/dedup.py --items 20000        # quicker
    .venv/bin/python bench/dedup.py --datatrove-defaults # also datatrove with its default 14 x 8 bands
"""

from __future__ import annotations

import argparse
import random
import struct
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from boostqa.qc.dedup import near_duplicates
from boostqa.qc.minhash import MinHashConfig, MinHasher, jaccard
from boostqa.qc.text import tokens

_SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]


def _vocabulary(rng: random.Random, size: int) -> list[str]:
    words: set[str] = set()
    while len(words) < size:  # letters only: datatrove's normalizer rewrites digits
        words.add("".join(rng.choices(_SYLLABLES, k=rng.randint(2, 4))))
    return sorted(words)


def make_corpus(items: int, planted_share: float, seed: int) -> tuple[list[str], list[list[int]]]:
    """Documents and the planted families (lists of document indexes, the original first)."""
    rng = random.Random(seed)
    vocab = _vocabulary(rng, 30_000)
    docs: list[list[str]] = []
    families: dict[int, list[int]] = {}
    while len(docs) < items:
        if docs and rng.random() < planted_share:
            source = rng.randrange(len(docs))
            root = next((r for r, members in families.items() if source in members), source)
            copy = list(docs[source])
            for _ in range(rng.choice([0, 0, 1, 1, 2, 3, 4, 6])):  # 0 edits: an exact copy
                copy[rng.randrange(len(copy))] = rng.choice(vocab)
            families.setdefault(root, [root]).append(len(docs))
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
    """(recall, precision) of a removal set against the ground-truth clusters."""
    should = sum(len(c) - 1 for c in clusters)
    right = sum(min(len(c & removed), len(c) - 1) for c in clusters)
    return right / max(should, 1), right / max(len(removed), 1)


def ours(texts: list[str], config: MinHashConfig) -> set[int]:
    hasher = MinHasher(config)
    shingled = hasher.shingle([tokens(t) for t in texts])
    return {d.index for d in near_duplicates(hasher, shingled)}


def datatrove(texts: list[str], config: MinHashConfig, workdir: Path, bands: int, rows: int) -> set[int]:
    """datatrove's four-stage MinHash dedup (signatures, buckets, clusters; the filter is a file read here)."""
    from datatrove.data import Document
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup.minhash import (
        MinhashConfig,
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupSignature,
    )
    from datatrove.utils.hashing import HashConfig
    from datatrove.utils.word_tokenizers import WordTokenizer

    class Words(WordTokenizer):
        """Our tokenizer, so both sides shingle the same words (datatrove's English one needs NLTK data)."""

        def word_tokenize(self, text: str) -> list[str]:
            return tokens(text)

        def sent_tokenize(self, text: str) -> list[str]:
            return [text]

        def span_tokenize(self, text: str) -> list[tuple[int, int]]:
            return [(0, len(text))]

    dt_config = MinhashConfig(n_grams=config.shingle_size, num_buckets=bands, hashes_per_bucket=rows,
                              hash_config=HashConfig(precision=64))
    docs = [Document(text=t, id=str(i)) for i, t in enumerate(texts)]
    stages = [
        ([docs, MinhashDedupSignature(output_folder=str(workdir / "sigs"), config=dt_config, language=Words())], 1),
        ([MinhashDedupBuckets(input_folder=str(workdir / "sigs"), output_folder=str(workdir / "buckets"),
                              config=dt_config)], bands),
        ([MinhashDedupCluster(input_folder=str(workdir / "buckets"), output_folder=str(workdir / "remove"),
                              config=dt_config)], 1),
    ]
    for index, (pipeline, tasks) in enumerate(stages):
        LocalPipelineExecutor(pipeline=pipeline, tasks=tasks, workers=1,
                              logging_dir=str(workdir / f"logs{index}")).run()
    data = (workdir / "remove" / "000000.remove").read_bytes() if (workdir / "remove" / "000000.remove").exists() \
        else b""
    return {value for (value,) in struct.iter_unpack("<I", data)}


def _timed(label: str, run: Callable[[], set[int]], items: int, clusters: list[set[int]]) -> float:
    started = time.perf_counter()
    removed = run()
    seconds = time.perf_counter() - started
    recall, precision = score(removed, clusters)
    print(f"{label:<11} {seconds:8.1f} s {items / seconds:10,.0f} items/s  removed {len(removed):6,}  "
          f"recall {recall:.4f}  precision {precision:.4f}", flush=True)
    return items / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--planted-share", type=float, default=0.15, help="share of documents that are copies")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--skip-datatrove", action="store_true")
    parser.add_argument("--datatrove-defaults", action="store_true",
                        help="also run datatrove with its own default bands (14 x 8)")
    args = parser.parse_args()

    config = MinHashConfig()
    texts, families = make_corpus(args.items, args.planted_share, args.seed)
    clusters = ground_truth(MinHasher(config), texts, families, config.threshold)
    print(f"corpus: {len(texts):,} items, {len(families):,} planted families, {len(clusters):,} ground-truth "
          f"clusters (Jaccard >= {config.threshold}) holding {sum(len(c) - 1 for c in clusters):,} duplicates")
    print(f"config: {config.shingle_size}-token shingles, {config.num_perm} permutations = {config.bands} bands x "
          f"{config.rows} rows, both sides single-threaded")
    ours_rate = _timed("boostqa", lambda: ours(texts, config), len(texts), clusters)
    if args.skip_datatrove:
        return
    import logging

    from loguru import logger

    logger.remove()  # datatrove logs every task at INFO; keep the table readable
    logging.getLogger("datatrove").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="bench-dedup-") as tmp:
        theirs = _timed("datatrove", lambda: datatrove(texts, config, Path(tmp), config.bands, config.rows),
                        len(texts), clusters)
    print(f"throughput ratio boostqa / datatrove (same bands): {ours_rate / theirs:.2f}x (goal >= 1.0x)")
    if args.datatrove_defaults:
        with tempfile.TemporaryDirectory(prefix="bench-dedup-") as tmp:
            default = _timed("dt 14x8", lambda: datatrove(texts, config, Path(tmp), 14, 8), len(texts), clusters)
        print(f"throughput ratio boostqa / datatrove (its default 14 x 8 bands): {ours_rate / default:.2f}x")


if __name__ == "__main__":
    main()
