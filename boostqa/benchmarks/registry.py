"""The 12 benchmarks (docs/architecture.md): task type, production source on the Hub, local edition, buckets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

TaskType = Literal["multiple_choice", "generative"]
RowFormat = Literal["mmlu", "cmmlu", "ceval", "arc", "openbookqa", "hellaswag", "winogrande", "piqa",
                    "commonsense_qa", "gsm8k", "math"]


@dataclass(frozen=True)
class BenchmarkSpec:
    """One benchmark: where its production rows come from and how its items map to our buckets.

    ``configs`` are the Hub configs to load in production; ``None`` means "one per subject in the taxonomy's
    subject map" (MMLU, CMMLU, C-Eval). Local editions hold the same rows under
    ``resources/benchmarks/<name>/<split>/<config>.jsonl``.
    """

    name: str
    display_name: str
    task_type: TaskType
    row_format: RowFormat
    hf_path: str
    configs: tuple[str, ...] | None
    eval_split: str
    fewshot_split: str | None
    language: str
    default_discipline: str | None  # when the row has no subject the taxonomy maps
    default_difficulty: int

    @property
    def by_subject(self) -> bool:
        """True when items are bucketed by their subject through the taxonomy's subject map."""
        return self.configs is None


def _spec(name: str, display: str, task: TaskType, fmt: RowFormat, hf_path: str, configs: tuple[str, ...] | None,
          eval_split: str, fewshot_split: str | None, language: str = "en", discipline: str | None = None,
          difficulty: int = 3) -> BenchmarkSpec:
    return BenchmarkSpec(name, display, task, fmt, hf_path, configs, eval_split, fewshot_split, language, discipline,
                         difficulty)


MATH_TYPES = ("algebra", "counting_and_probability", "geometry", "intermediate_algebra", "number_theory",
              "prealgebra", "precalculus")

# Evaluation splits follow lm-evaluation-harness: where a test split has no public labels (C-Eval, HellaSwag,
# WinoGrande, PIQA, CommonsenseQA) the validation split is the scored one.
BENCHMARKS: tuple[BenchmarkSpec, ...] = (
    _spec("mmlu", "MMLU", "multiple_choice", "mmlu", "cais/mmlu", None, "test", "dev"),
    _spec("cmmlu", "CMMLU", "multiple_choice", "cmmlu", "haonan-li/cmmlu", None, "test", "dev", "zh"),
    _spec("ceval", "C-Eval", "multiple_choice", "ceval", "ceval/ceval-exam", None, "val", "dev", "zh"),
    _spec("arc_challenge", "ARC-Challenge", "multiple_choice", "arc", "allenai/ai2_arc", ("ARC-Challenge",),
          "test", "train", discipline="earth_science", difficulty=3),
    _spec("arc_easy", "ARC-Easy", "multiple_choice", "arc", "allenai/ai2_arc", ("ARC-Easy",), "test", "train",
          discipline="earth_science", difficulty=2),
    _spec("hellaswag", "HellaSwag", "multiple_choice", "hellaswag", "Rowan/hellaswag", ("default",), "validation",
          "train", discipline="general_knowledge", difficulty=1),
    _spec("winogrande", "WinoGrande", "multiple_choice", "winogrande", "allenai/winogrande", ("winogrande_xl",),
          "validation", "train", discipline="general_knowledge", difficulty=1),
    _spec("piqa", "PIQA", "multiple_choice", "piqa", "ybisk/piqa", ("default",), "validation", "train",
          discipline="general_knowledge", difficulty=1),
    _spec("openbookqa", "OpenBookQA", "multiple_choice", "openbookqa", "allenai/openbookqa", ("main",), "test",
          "train", discipline="earth_science", difficulty=2),
    _spec("commonsense_qa", "CommonsenseQA", "multiple_choice", "commonsense_qa", "tau/commonsense_qa",
          ("default",), "validation", "train", discipline="general_knowledge", difficulty=1),
    _spec("gsm8k", "GSM8K", "generative", "gsm8k", "openai/gsm8k", ("main",), "test", "train",
          discipline="mathematics", difficulty=2),
    _spec("math", "MATH", "generative", "math", "EleutherAI/hendrycks_math", MATH_TYPES, "test", "train",
          discipline="mathematics", difficulty=4),
)

BY_NAME: dict[str, BenchmarkSpec] = {b.name: b for b in BENCHMARKS}


def get_benchmark(name: str) -> BenchmarkSpec:
    """The registered benchmark called ``name``.

    Raises:
        KeyError: no such benchmark; the message lists the registered names.
    """
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown benchmark {name!r}; registered: {', '.join(BY_NAME)}") from None


def subject_difficulty(subject: str, default: int) -> int:
    """Difficulty band a subject's name implies; ``default`` for subjects whose name says nothing.

    Elementary 1, middle school 2, high school 3, college and professional 4.
    """
    for prefix, band in (("elementary_", 1), ("middle_school_", 2), ("high_school_", 3), ("college_", 4),
                         ("professional_", 4), ("advanced_", 4)):
        if subject.startswith(prefix):
            return band
    return default
