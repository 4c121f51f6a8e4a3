"""Which items of a benchmark are scored and how: few-shot counts, generation limits, and the model requests."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field

from boostqa.benchmarks.loader import BenchmarkItem, BenchmarkSource, SourceKind, load_items
from boostqa.benchmarks.registry import BenchmarkSpec, get_benchmark
from boostqa.eval.prompts import EvalDoc, build_doc
from boostqa.lake.store import LakeConfig

# Few-shot counts are lm-eval's usual settings for these benchmarks (MMLU/CMMLU/C-Eval 5-shot, GSM8K 5-shot
# in lm-eval's gsm8k; MATH 4-shot like Minerva); the commonsense sets are zero-shot.
DEFAULT_FEWSHOT = {"mmlu": 5, "cmmlu": 5, "ceval": 5, "gsm8k": 5, "math": 4}


class EvalTaskSettings(BaseModel):
    """Per-run knobs: few-shot overrides, items per benchmark (None = all), the generation budget."""

    num_fewshot: dict[str, int] = Field(default_factory=dict)
    limit: int | None = Field(default=None, ge=1)
    max_new_tokens: int = Field(default=256, ge=1)

    def fewshot_for(self, benchmark: str) -> int:
        """Shots for ``benchmark``: the override, else our default."""
        return self.num_fewshot.get(benchmark, DEFAULT_FEWSHOT.get(benchmark, 0))


def _limited(items: list[BenchmarkItem], limit: int | None) -> list[BenchmarkItem]:
    """The first ``limit`` items, taken round-robin over configs so every subject keeps items."""
    if limit is None or limit >= len(items):
        return items
    by_config: dict[str, list[BenchmarkItem]] = defaultdict(list)
    for item in items:
        by_config[item.config].append(item)
    chosen: list[BenchmarkItem] = []
    queues = list(by_config.values())
    while len(chosen) < limit:
        for queue in queues:
            if queue and len(chosen) < limit:
                chosen.append(queue.pop(0))
    return sorted(chosen, key=lambda i: items.index(i))


def build_docs(spec: BenchmarkSpec, items: Sequence[BenchmarkItem], fewshot_pool: Sequence[BenchmarkItem],
               num_fewshot: int) -> list[EvalDoc]:
    """One doc per scored item.

    Shots are the first ``num_fewshot`` pool items of the same config (any config when the benchmark has one pool for
    all).
    """
    pool_by_config: dict[str, list[BenchmarkItem]] = defaultdict(list)
    for shot in fewshot_pool:
        pool_by_config[shot.config].append(shot)
    docs = []
    for item in items:
        pool = pool_by_config.get(item.config) or list(fewshot_pool)
        docs.append(build_doc(spec.row_format, item, pool[:num_fewshot]))
    return docs


def load_docs(benchmark: str, settings: EvalTaskSettings, source: BenchmarkSource | SourceKind = "local",
              lake: LakeConfig | None = None) -> list[EvalDoc]:
    """The docs a run scores for ``benchmark``: its scored split (limited), with few-shot examples.

    ``lake`` signs the reads of a benchmark mirror on S3.
    """
    spec = get_benchmark(benchmark)
    shots = settings.fewshot_for(benchmark)
    everything = load_items(source, [benchmark], splits="all" if shots else "eval", lake=lake)
    scored = [i for i in everything if i.split == spec.eval_split]
    pool = [i for i in everything if i.split == spec.fewshot_split] if shots else []
    return build_docs(spec, _limited(scored, settings.limit), pool, shots)


def model_requests(docs: Sequence[EvalDoc], max_new_tokens: int) -> list[dict[str, Any]]:
    """The file contract with the model side (``training/lm_requests.py``).

    One ``loglikelihood`` request per (context, continuation) pair, or one ``generate`` request per generative item.
    """
    requests: list[dict[str, Any]] = []
    for doc in docs:
        if doc.until:
            requests.append({"request_id": doc.item.item_id, "kind": "generate", "context": doc.contexts[0],
                             "until": list(doc.until), "max_new_tokens": max_new_tokens})
            continue
        for index, (context, continuation) in enumerate(doc.pairs):
            requests.append({"request_id": f"{doc.item.item_id}#{index}", "kind": "loglikelihood",
                             "context": context, "continuation": continuation})
    return requests
