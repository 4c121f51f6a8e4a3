"""P4: near-duplicate removal, our batched MinHash/LSH against datatrove's MinHash pipeline.

Builds a corpus (100,000 items by default) of random-word documents with planted near-duplicate families (a few
words substituted, some exact copies) and the exact-Jaccard ground truth inside every family, then runs, in one
process and single-threaded, on the same items with the same shingle size:
  - ours (boostqa.qc.dedup) at our bands x rows,
  - datatrove at the same bands x rows (the anchor the throughput goal compares with),
  - datatrove at its default 14 x 8 bands (informational).
datatrove is imported before any timer; all three warm up on a small slice first; each repeat rotates which goes
first. Goals: throughput ours / datatrove (same bands, median of repeats) >= 1.0; our recall and precision
against the planted ground truth >= 0.99.

    .venv/bin/python bench/dedup.py                          # 100,000 items, 3 repeats -> bench/results/
    .venv/bin/python bench/dedup.py --quick --out /tmp/b     # 5,000 items, 1 repeat
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import struct
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# datatrove's imports happen here, before any timer (the old script paid them inside datatrove's timed run).
from datatrove.data import Document  # noqa: E402
from datatrove.executor import LocalPipelineExecutor  # noqa: E402
from datatrove.pipeline.dedup.minhash import (  # noqa: E402
    MinhashConfig,
    MinhashDedupBuckets,
    MinhashDedupCluster,
    MinhashDedupSignature,
)
from datatrove.utils.hashing import HashConfig  # noqa: E402
from datatrove.utils.word_tokenizers import WordTokenizer  # noqa: E402
from loguru import logger  # noqa: E402

from bench.dedup_corpus import ground_truth, make_corpus, score  # noqa: E402
from bench.record import BenchRecord, Check, bench_args, finish, median_spread, spread_of  # noqa: E402
from boostqa.qc.dedup import near_duplicates  # noqa: E402
from boostqa.qc.minhash import MinHashConfig, MinHasher  # noqa: E402
from boostqa.qc.text import tokens  # noqa: E402

DEFAULT_BANDS = (14, 8)  # datatrove's MinhashConfig defaults: num_buckets x hashes_per_bucket


class Words(WordTokenizer):
    """Our tokenizer, so both sides shingle the same words (datatrove's English one needs NLTK data)."""

    def word_tokenize(self, text: str) -> list[str]:
        return tokens(text)

    def sent_tokenize(self, text: str) -> list[str]:
        return [text]

    def span_tokenize(self, text: str) -> list[tuple[int, int]]:
        return [(0, len(text))]


def ours(texts: list[str], config: MinHashConfig) -> set[int]:
    hasher = MinHasher(config)
    shingled = hasher.shingle([tokens(t) for t in texts])
    return {d.index for d in near_duplicates(hasher, shingled)}


def datatrove(texts: list[str], shingle_size: int, bands: int, rows: int) -> set[int]:
    """datatrove's MinHash dedup stages (signatures, buckets, clusters; its filter stage is a file read here)."""
    # Each task re-adds a stderr log sink (INFO per task and stage): to /dev/null, so the output stays readable.
    with tempfile.TemporaryDirectory(prefix="bench-dedup-") as tmp, open(os.devnull, "w") as sink, \
            contextlib.redirect_stderr(sink):
        workdir = Path(tmp)
        dt_config = MinhashConfig(n_grams=shingle_size, num_buckets=bands, hashes_per_bucket=rows,
                                  hash_config=HashConfig(precision=64))
        docs = [Document(text=t, id=str(i)) for i, t in enumerate(texts)]
        stages = [
            ([docs, MinhashDedupSignature(output_folder=str(workdir / "sigs"), config=dt_config, language=Words())],
             1),
            ([MinhashDedupBuckets(input_folder=str(workdir / "sigs"), output_folder=str(workdir / "buckets"),
                                  config=dt_config)], bands),
            ([MinhashDedupCluster(input_folder=str(workdir / "buckets"), output_folder=str(workdir / "remove"),
                                  config=dt_config)], 1),
        ]
        for index, (pipeline, tasks) in enumerate(stages):
            LocalPipelineExecutor(pipeline=pipeline, tasks=tasks, workers=1,
                                  logging_dir=str(workdir / f"logs{index}")).run()
        removals = workdir / "remove" / "000000.remove"
        data = removals.read_bytes() if removals.exists() else b""
    return {value for (value,) in struct.iter_unpack("<I", data)}


def measure(items: int, repeats: int, planted_share: float, seed: int, quick: bool) -> BenchRecord:
    config = MinHashConfig()
    texts, families = make_corpus(items, planted_share, seed)
    clusters = ground_truth(MinHasher(config), texts, families, config.threshold)
    duplicates = sum(len(c) - 1 for c in clusters)
    print(f"corpus: {len(texts):,} items, {len(families):,} planted families, {len(clusters):,} ground-truth "
          f"clusters (Jaccard >= {config.threshold}) holding {duplicates:,} duplicates; {config.shingle_size}-token "
          f"shingles, ours {config.bands} x {config.rows}, single-threaded", flush=True)
    sides: dict[str, Callable[[list[str]], set[int]]] = {
        "ours": lambda docs: ours(docs, config),
        "datatrove": lambda docs: datatrove(docs, config.shingle_size, config.bands, config.rows),
        "datatrove_14x8": lambda docs: datatrove(docs, config.shingle_size, *DEFAULT_BANDS),
    }
    for run in sides.values():  # equal warm-up, untimed: lazy imports, numpy kernels, file-system caches
        run(texts[: min(500, len(texts))])
    samples: dict[str, list[float]] = {f"{name}_{what}": [] for name in sides
                                       for what in ("items_per_s", "recall", "precision")}
    names = list(sides)
    for repeat in range(repeats):
        order = names[repeat % len(names):] + names[: repeat % len(names)]  # each side goes first in turn
        for name in order:
            started = time.perf_counter()
            removed = sides[name](texts)
            seconds = time.perf_counter() - started
            recall, precision = score(removed, clusters)
            samples[f"{name}_items_per_s"].append(len(texts) / seconds)
            samples[f"{name}_recall"].append(recall)
            samples[f"{name}_precision"].append(precision)
            print(f"repeat {repeat + 1} {name:<15} {seconds:8.1f} s {len(texts) / seconds:10,.0f} items/s  removed "
                  f"{len(removed):6,}  recall {recall:.4f}  precision {precision:.4f}", flush=True)
    samples["ratio"] = [o / d for o, d in zip(samples["ours_items_per_s"], samples["datatrove_items_per_s"],
                                              strict=True)]
    samples["ratio_14x8"] = [o / d for o, d in zip(samples["ours_items_per_s"],
                                                   samples["datatrove_14x8_items_per_s"], strict=True)]
    return BenchRecord.create(
        bench="dedup", title=f"near dedup vs datatrove MinHash, {items:,} items, one thread each", quick=quick,
        checks=_checks(samples, config), samples=samples,
        params={"items": items, "repeats": repeats, "planted_share": planted_share, "seed": seed,
                "shingle_size": config.shingle_size, "bands": config.bands, "rows": config.rows,
                "threshold": config.threshold, "datatrove_default_bands": list(DEFAULT_BANDS),
                "ground_truth_clusters": len(clusters), "ground_truth_duplicates": duplicates})


def _checks(samples: dict[str, list[float]], config: MinHashConfig) -> list[Check]:
    def mid(key: str) -> float:
        return median_spread(samples[key])[0]

    same = f"{config.bands} x {config.rows}"
    return [
        Check(measure=f"items/s, ours / datatrove at our bands ({same})", ours=mid("ours_items_per_s"),
              anchor=mid("datatrove_items_per_s"), unit="items/s", value=mid("ratio"), value_unit="x",
              spread=spread_of(samples["ratio"]), goal=">= 1.0"),
        Check(measure=f"recall vs planted truth (anchor: datatrove at {same})", ours=mid("ours_recall"),
              anchor=mid("datatrove_recall"), value=mid("ours_recall"), goal=">= 0.99"),
        Check(measure=f"precision vs planted truth (anchor: datatrove at {same})", ours=mid("ours_precision"),
              anchor=mid("datatrove_precision"), value=mid("ours_precision"), goal=">= 0.99"),
        Check(measure="items/s, ours / datatrove at its default bands (14 x 8)", ours=mid("ours_items_per_s"),
              anchor=mid("datatrove_14x8_items_per_s"), unit="items/s", value=mid("ratio_14x8"), value_unit="x",
              spread=spread_of(samples["ratio_14x8"])),
        Check(measure="recall vs planted truth (anchor: datatrove at 14 x 8)", ours=mid("ours_recall"),
              anchor=mid("datatrove_14x8_recall"), value=mid("datatrove_14x8_recall")),
        Check(measure="precision vs planted truth (anchor: datatrove at 14 x 8)", ours=mid("ours_precision"),
              anchor=mid("datatrove_14x8_precision"), value=mid("datatrove_14x8_precision")),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    bench_args(parser)
    parser.add_argument("--items", type=int, default=None, help="default 100,000 (quick: 5,000)")
    parser.add_argument("--repeats", type=int, default=None, help="default 3 (quick: 1)")
    parser.add_argument("--planted-share", type=float, default=0.15, help="share of documents that are copies")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    logger.remove()  # datatrove logs at INFO through loguru and logging; keep the output readable
    logging.getLogger("datatrove").setLevel(logging.WARNING)
    record = measure(args.items or (5_000 if args.quick else 100_000), args.repeats or (1 if args.quick else 3),
                     args.planted_share, args.seed, args.quick)
    finish(record, args.out)


if __name__ == "__main__":
    main()
