"""Score a benchmark's model responses: per-item results labelled with our buckets, and the metrics.

The metrics are computed by the local ``evaluate`` metric modules.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from boostqa.benchmarks.formats import LETTERS
from boostqa.errors import BoostqaError
from boostqa.eval.answers import gsm8k_prediction, gsm8k_reference, math_prediction, normalize_math
from boostqa.eval.prompts import EvalDoc
from boostqa.package_data import package_path

METRICS_DIR = package_path("boostqa.eval", "metrics")  # evaluate loads metric modules by path


class MissingResponseError(BoostqaError):
    """The responses file lacks a request: the model side crashed or was given another requests file."""


@cache
def load_metric(name: str) -> Any:
    """A metric module of ``boostqa/eval/metrics/`` loaded by path.

    ``evaluate.load`` of a Hub name needs network; a local module does not.
    """
    import evaluate  # noqa: PLC0415 - heavy; only scoring needs it

    return evaluate.load(str(METRICS_DIR / name))


def _response(responses: Mapping[str, Mapping[str, Any]], request_id: str) -> Mapping[str, Any]:
    try:
        return responses[request_id]
    except KeyError:
        raise MissingResponseError(f"no response for request {request_id}: rerun the model side") from None


def score_item(doc: EvalDoc, responses: Mapping[str, Mapping[str, Any]], num_fewshot: int) -> dict[str, Any]:
    """One row of ``ITEM_RESULT_SCHEMA`` (without model and run ids)."""
    item = doc.item
    row: dict[str, Any] = {"benchmark": item.benchmark, "item_id": item.item_id, "config": item.config,
                           "discipline_id": item.discipline_id, "difficulty": item.difficulty,
                           "language": item.language, "num_fewshot": num_fewshot}
    if doc.until:
        output = str(_response(responses, item.item_id)["text"])
        if item.benchmark == "gsm8k":
            predicted, gold = gsm8k_prediction(output), gsm8k_reference(item.answer)
        else:
            predicted, gold = math_prediction(output), normalize_math(item.answer)
        return row | {"task_type": "generative", "correct": predicted != "" and predicted == gold,
                      "correct_norm": None, "predicted": predicted, "gold": gold, "choice_logprobs": None,
                      "output": output}
    logprobs = [float(_response(responses, f"{item.item_id}#{i}")["logprob"]) for i in range(len(doc.pairs))]
    lengths = _choice_lengths(doc)
    best = max(range(len(logprobs)), key=logprobs.__getitem__)
    best_norm = max(range(len(logprobs)), key=lambda i: logprobs[i] / max(lengths[i], 1))
    return row | {"task_type": "multiple_choice", "correct": best == doc.gold, "correct_norm": best_norm == doc.gold,
                  "predicted": LETTERS[best], "gold": LETTERS[doc.gold or 0], "choice_logprobs": logprobs,
                  "output": None}


def _choice_lengths(doc: EvalDoc) -> list[int]:
    """Characters of each choice as lm-eval's acc_norm counts them (the choice text, or WinoGrande's contexts)."""
    if len(doc.contexts) > 1:
        return [len(context) for context in doc.contexts]
    return [len(choice) for choice in doc.choices]


def score_docs(docs: Sequence[EvalDoc], responses: Mapping[str, Mapping[str, Any]], num_fewshot: int
               ) -> list[dict[str, Any]]:
    """Per-item results of every doc."""
    return [score_item(doc, responses, num_fewshot) for doc in docs]


def mean_stderr(values: Sequence[float]) -> float | None:
    """Standard error of a mean as lm-eval reports it: the sample standard deviation over sqrt(n); None for n < 2."""
    n = len(values)
    if n < 2:
        return None
    mean = sum(values) / n
    return math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1) / n)


def benchmark_metrics(docs: Sequence[EvalDoc], results: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """``acc`` and ``acc_norm`` (multiple choice) or ``exact_match`` (generative), with their standard errors.

    The metrics come from the metric modules; each gets its ``<metric>_stderr`` (lm-eval's names and formula) when
    there are at least two items.
    """
    if not results:
        return {}
    if results[0]["task_type"] == "generative":
        metrics = dict(load_metric("exact_match").compute(
            predictions=[r["predicted"] for r in results], references=[r["gold"] for r in results]))
        per_item = {"exact_match": [float(r["correct"]) for r in results]}
    else:
        metrics = dict(load_metric("mc_accuracy").compute(
            predictions=[r["choice_logprobs"] for r in results], references=[d.gold for d in docs],
            choice_lengths=[_choice_lengths(d) for d in docs]))
        per_item = {"acc": [float(r["correct"]) for r in results],
                    "acc_norm": [float(r["correct_norm"]) for r in results]}
    for metric, values in per_item.items():
        stderr = mean_stderr(values)
        if metric in metrics and stderr is not None:
            metrics[f"{metric}_stderr"] = stderr
    return metrics
