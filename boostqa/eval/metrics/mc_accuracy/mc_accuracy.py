"""Local `evaluate` metric: multiple-choice accuracy and length-normalized accuracy from log-likelihoods."""

from __future__ import annotations

from typing import Any

import datasets
import evaluate
import numpy as np

_DESCRIPTION = """acc: the choice with the highest log-likelihood is the gold one. acc_norm: the same after dividing
each log-likelihood by the choice's length in characters (lm-evaluation-harness's definitions)."""
_KWARGS = """Args:
    predictions: per item, the log-likelihood of every choice.
    references: per item, the gold choice's index.
    choice_lengths: per item, the characters of every choice (without the delimiter).
Returns:
    acc, acc_norm: fractions in [0, 1]."""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS)
class McAccuracy(evaluate.Metric):
    """acc and acc_norm of lm-evaluation-harness, loaded by path (the Hub is unreachable offline)."""

    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description=_DESCRIPTION, citation="", inputs_description=_KWARGS,
            features=datasets.Features({"predictions": datasets.Sequence(datasets.Value("float64")),
                                        "references": datasets.Value("int64")}),
        )

    def _compute(self, predictions: list[list[float]], references: list[int],
                 choice_lengths: list[list[int]] | None = None) -> dict[str, Any]:
        if not references:
            return {"acc": float("nan"), "acc_norm": float("nan")}
        lengths = choice_lengths or [[1] * len(p) for p in predictions]
        acc = [int(np.argmax(p)) == r for p, r in zip(predictions, references, strict=True)]
        norm = [int(np.argmax(np.array(p) / np.maximum(np.array(n, dtype=float), 1.0))) == r
                for p, n, r in zip(predictions, lengths, references, strict=True)]
        return {"acc": float(np.mean(acc)), "acc_norm": float(np.mean(norm))}
