"""Row formats of the 12 benchmarks as published on the Hub, each turned into question, choices and answer."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from boostqa.errors import BoostqaError

LETTERS = "ABCDEFGH"


class BenchmarkRowError(BoostqaError):
    """A benchmark row does not have its format's fields."""


@dataclass(frozen=True)
class ParsedRow:
    """The parts of a row every consumer needs: the prompt text, the choices, the gold answer."""

    question: str
    choices: tuple[str, ...] | None  # None for generative tasks
    answer_index: int | None
    answer: str  # the gold choice's text, or the reference answer (final answer for GSM8K and MATH)
    reference: str | None = None  # the full worked solution of generative tasks


def _choice_fields(row: Mapping[str, Any], letter_key: str, keys: str = "ABCD") -> ParsedRow:
    choices = tuple(str(row[k]) for k in keys)
    index = keys.index(str(row[letter_key]).strip())
    return ParsedRow(str(row["question" if "question" in row else "Question"]), choices, index, choices[index])


def _labelled_choices(question: str, choices: Mapping[str, list[str]], key: str) -> ParsedRow:
    labels = [str(label) for label in choices["label"]]
    texts = tuple(str(text) for text in choices["text"])
    index = labels.index(str(key).strip())
    return ParsedRow(question, texts, index, texts[index])


def _mmlu(row: Mapping[str, Any]) -> ParsedRow:
    choices = tuple(str(c) for c in row["choices"])
    index = int(row["answer"])
    return ParsedRow(str(row["question"]), choices, index, choices[index])


def _hellaswag(row: Mapping[str, Any]) -> ParsedRow:
    endings = tuple(str(e) for e in row["endings"])
    index = int(row["label"])
    return ParsedRow(f"{row['activity_label']}: {row['ctx']}", endings, index, endings[index])


def _winogrande(row: Mapping[str, Any]) -> ParsedRow:
    options = (str(row["option1"]), str(row["option2"]))
    index = int(row["answer"]) - 1
    return ParsedRow(str(row["sentence"]), options, index, options[index])


def _piqa(row: Mapping[str, Any]) -> ParsedRow:
    solutions = (str(row["sol1"]), str(row["sol2"]))
    index = int(row["label"])
    return ParsedRow(str(row["goal"]), solutions, index, solutions[index])


def gsm8k_final_answer(answer: str) -> str:
    """The number after GSM8K's ``####`` marker, without thousands separators."""
    _, marker, final = answer.rpartition("####")
    if not marker:
        raise BenchmarkRowError("GSM8K answer has no '####' final-answer line")
    return final.strip().replace(",", "")


def last_boxed(solution: str) -> str | None:
    r"""Content of the last ``\boxed{...}`` (or ``\fbox{...}``) in a solution, braces balanced."""
    start = max(solution.rfind("\\boxed{"), solution.rfind("\\fbox{"))
    if start < 0:
        return None
    i = solution.index("{", start) + 1
    depth = 1
    for j in range(i, len(solution)):
        depth += {"{": 1, "}": -1}.get(solution[j], 0)
        if depth == 0:
            return solution[i:j]
    return None


def _gsm8k(row: Mapping[str, Any]) -> ParsedRow:
    answer = str(row["answer"])
    return ParsedRow(str(row["question"]), None, None, gsm8k_final_answer(answer), answer)


def _math(row: Mapping[str, Any]) -> ParsedRow:
    solution = str(row["solution"])
    boxed = last_boxed(solution)
    if boxed is None:
        raise BenchmarkRowError("MATH solution has no \\boxed{} answer")
    return ParsedRow(str(row["problem"]), None, None, boxed, solution)


PARSERS: dict[str, Callable[[Mapping[str, Any]], ParsedRow]] = {
    "mmlu": _mmlu,
    "cmmlu": lambda row: _choice_fields(row, "Answer"),
    "ceval": lambda row: _choice_fields(row, "answer"),
    "arc": lambda row: _labelled_choices(str(row["question"]), row["choices"], row["answerKey"]),
    "openbookqa": lambda row: _labelled_choices(str(row["question_stem"]), row["choices"], row["answerKey"]),
    "commonsense_qa": lambda row: _labelled_choices(str(row["question"]), row["choices"], row["answerKey"]),
    "hellaswag": _hellaswag,
    "winogrande": _winogrande,
    "piqa": _piqa,
    "gsm8k": _gsm8k,
    "math": _math,
}

_MATH_LEVEL = re.compile(r"Level (\d)")


def math_difficulty(row: Mapping[str, Any], default: int) -> int:
    """MATH levels 1-2 are high school (3), 3-4 undergraduate (4), 5 competition (5)."""
    match = _MATH_LEVEL.search(str(row.get("level", "")))
    if not match:
        return default
    return {1: 3, 2: 3, 3: 4, 4: 4, 5: 5}[int(match.group(1))]


def parse_row(row_format: str, row: Mapping[str, Any]) -> ParsedRow:
    """Parse one row of ``row_format``.

    Raises:
        BenchmarkRowError: a field is missing or the gold label is out of range.
    """
    try:
        return PARSERS[row_format](row)
    except BenchmarkRowError:
        raise
    except (KeyError, ValueError, IndexError, TypeError) as exc:
        raise BenchmarkRowError(f"{row_format} row is malformed: {type(exc).__name__}: {exc}") from exc
