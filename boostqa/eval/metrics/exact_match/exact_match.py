"""Local `evaluate` metric: exact match of normalized final answers (GSM8K, MATH)."""

from __future__ import annotations

from typing import Any

import datasets
import evaluate

_DESCRIPTION = "exact_match: the fraction of predictions equal to their reference after answer normalization."
_KWARGS = """Args:
    predictions: extracted, normalized answers.
    references: gold answers in the same normal form.
Returns:
    exact_match: fraction in [0, 1]."""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS)
class ExactMatch(evaluate.Metric):
    """Exact match of already normalized strings, loaded by path."""

    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description=_DESCRIPTION, citation="", inputs_description=_KWARGS,
            features=datasets.Features({"predictions": datasets.Value("string"),
                                        "references": datasets.Value("string")}),
        )

    def _compute(self, predictions: list[str], references: list[str]) -> dict[str, Any]:
        if not references:
            return {"exact_match": float("nan")}
        hits = sum(p == r and p != "" for p, r in zip(predictions, references, strict=True))
        return {"exact_match": hits / len(references)}
