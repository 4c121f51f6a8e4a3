"""Difficulty by solve rate: a solver samples k answers per item; the share that match the item's answer is its rate.

The labelled difficulty is an annotator's opinion; the solve rate is what a model can actually do. Each sample is
graded against the item's refined answer with the eval answer normalizers: the option letter for multiple choice,
else the same final number (GSM8K's extraction) or the same MATH-normalized answer. The rate maps to an empirical
difficulty band (``SOLVE_RATE_BANDS``), which the verify step can check instead of, or beside, the label.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field

from boostqa.benchmarks.formats import last_boxed
from boostqa.eval.answers import math_prediction, normalize_math
from boostqa.llm.delimit import DATA_NOTE, as_data
from boostqa.llm.schema_fields import text_field
from boostqa.llm.types import LlmOutcome, LlmRequest, Sampling
from boostqa.synthesize.strategies import LETTERS, load_prompt

VerifyPolicy = Literal["label", "solve_rate", "both"]
# Lowest solve rate of each band, hardest last: solved by >= 80 % of samples is band 1 (elementary), < 20 % band 5.
SOLVE_RATE_BANDS: tuple[tuple[float, int], ...] = ((0.8, 1), (0.6, 2), (0.4, 3), (0.2, 4), (0.0, 5))
MC_RULES = 'Reply with JSON only: {"final_answer": <your short worked answer>, "answer_option": <"A", "B", "C" or "D">}'
OPEN_RULES = 'Reply with JSON only: {"final_answer": <your short worked answer, ending with the final result>}'


class SolverAnswer(BaseModel):
    """One sampled answer to an open question."""

    final_answer: str = Field(min_length=1, max_length=4000)


class ChoiceSolverAnswer(SolverAnswer):
    """One sampled answer to a multiple-choice question: exactly one option."""

    answer_option: str = Field(pattern="^[ABCD]$")


class SolveRecord(BaseModel):
    """What k samples said about one item: how many were graded, how many matched, the empirical band."""

    item_id: str
    run_id: str
    discipline_id: str
    target_difficulty: int
    labelled_difficulty: int
    samples: int
    graded: int = Field(description="samples with a usable answer (refused or invalid ones are not graded)")
    solved: int
    solve_rate: float | None
    empirical_difficulty: int | None
    solver_model: str | None
    solve_prompt_version: str


def empirical_band(solve_rate: float) -> int:
    """The difficulty band a solve rate stands for (``SOLVE_RATE_BANDS``)."""
    return next(band for floor, band in SOLVE_RATE_BANDS if solve_rate >= floor)


# the last number of a text, with its sign, thousands separators, decimals and a fraction bar (3/4, -1,200.5)
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?(?:/\d+)?")
_WORDS = re.compile(r"\w+")


def _number(token: str) -> str:
    r"""A number token in MATH's normal form: no separators, integers without ``.0``, ``a/b`` as ``\frac{a}{b}``."""
    token = token.replace(",", "")
    if "/" not in token:
        value = float(token)
        token = str(int(value)) if value.is_integer() else str(value)
    return normalize_math(token)


def final_value(text: str) -> str | None:
    r"""The value an open answer ends with: its last ``\boxed{}``, else its last number; None when it has neither."""
    if last_boxed(text) is not None:
        return math_prediction(text)
    numbers = _NUMBER.findall(text)
    return _number(numbers[-1]) if numbers else None


def answer_matches(sample: dict[str, Any], reference_answer: str, reference_option: str | None) -> bool:
    """A sampled answer agrees with the item's: the same option, the same final value, or the same closing words.

    The final value is the boxed answer or the last number, in MATH's normal form. Answers with neither match when
    the shorter one's words end the longer one ("Paris" matches "The capital of France is Paris.").
    """
    if reference_option is not None:
        return bool(sample.get("answer_option") == reference_option)
    answer = str(sample.get("final_answer", ""))
    ours, theirs = final_value(answer), final_value(reference_answer)
    if ours is not None or theirs is not None:
        return ours == theirs
    a, b = (_WORDS.findall(t.casefold()) for t in (answer, reference_answer))
    short, long = sorted((a, b), key=len)
    return bool(short) and long[len(long) - len(short):] == short


@dataclass(frozen=True)
class SolveTask:
    """Builds the k sampled solver requests of an item and grades their outcomes."""

    samples: int = 4
    temperature: float = 0.8
    max_tokens: int = 400
    prompt_version: str = "solve_v1"
    plain_text: bool = False

    def output_model(self, multiple_choice: bool) -> type[SolverAnswer]:
        """The reply's model: exactly one option for multiple choice."""
        return ChoiceSolverAnswer if multiple_choice else SolverAnswer

    def build_requests(self, item_id: str, language: str, question: str, options: list[str] | None
                       ) -> list[LlmRequest]:
        """``samples`` requests, each with its own sampling seed (and item id, so each is its own cache entry)."""
        multiple_choice = options is not None
        rendered = "".join(f"{LETTERS[i]}. {as_data(o)}\n" for i, o in enumerate(options or []))
        prompt = load_prompt(self.prompt_version).format(
            language="Chinese" if language == "zh" else "English", data_note=DATA_NOTE, question=as_data(question),
            options=rendered, format_rules=MC_RULES if multiple_choice else OPEN_RULES)
        properties: dict[str, Any] = {"final_answer": text_field(1, 400 if self.plain_text else 4000,
                                                                 self.plain_text)}
        if multiple_choice:
            properties["answer_option"] = {"type": "string", "enum": list(LETTERS)}
        schema = {"type": "object", "properties": properties, "required": list(properties),
                  "additionalProperties": False}
        return [LlmRequest(item_id=f"{item_id}#solve{k}", messages=[{"role": "user", "content": prompt}],
                           schema_name="solver_answer", json_schema=schema, prompt_version=self.prompt_version,
                           sampling=Sampling(temperature=self.temperature, max_tokens=self.max_tokens, seed=k))
                for k in range(1, self.samples + 1)]

    def record(self, item: dict[str, Any], outcomes: list[LlmOutcome]) -> SolveRecord:
        """Grade an item's sampled outcomes against its refined answer (``item``: a synthesized item's fields).

        The rate needs at least half the samples graded: fewer usable answers say more about the solver than the
        item, and leave it without a rate (unverified).
        """
        answers = [o.parsed for o in outcomes if o.status == "ok" and o.parsed is not None]
        solved = sum(answer_matches(a, item["refined_answer"], item.get("refined_option")) for a in answers)
        rate = solved / len(answers) if len(answers) >= math.ceil(len(outcomes) / 2) and answers else None
        models = [o.model for o in outcomes if o.model]
        return SolveRecord(item_id=item["item_id"], run_id=item["run_id"], discipline_id=item["discipline_id"],
                           target_difficulty=item["target_difficulty"],
                           labelled_difficulty=item["verified_difficulty"], samples=len(outcomes),
                           graded=len(answers), solved=solved, solve_rate=rate,
                           empirical_difficulty=None if rate is None else empirical_band(rate),
                           solver_model=models[0] if models else None, solve_prompt_version=self.prompt_version)
