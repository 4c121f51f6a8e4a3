"""Synthesis strategies as small steps (versioned prompt + JSON schema + parse): multi-grade, high-difficulty."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic import BaseModel, Field, model_validator

from boostqa.annotate.taxonomy import Taxonomy
from boostqa.llm.delimit import DATA_NOTE, as_data
from boostqa.llm.schema_fields import text_field
from boostqa.llm.types import LlmRequest, Sampling
from boostqa.package_data import package_path
from boostqa.synthesize.records import SynthesisJob
from boostqa.vocabulary import StrategyName

PROMPTS = package_path("boostqa.synthesize", "prompts")  # package data, versioned by file name
LETTERS = ("A", "B", "C", "D")
MC_RULES = ('Reply with JSON only: {"question": <the question, without the options>, "options": [4 distinct '
            'options], "answer_option": <"A", "B", "C" or "D">, "draft_answer": <a short worked answer>}')
OPEN_RULES = 'Reply with JSON only: {"question": <the question>, "draft_answer": <a short worked answer>}'


@cache
def load_prompt(version: str) -> str:
    """The text of a versioned prompt of this stage (``prompts/<version>.txt``)."""
    return (PROMPTS / f"{version}.txt").read_text(encoding="utf-8")


class OpenDraft(BaseModel):
    """An open-ended question with its draft answer."""

    question: str = Field(min_length=10, max_length=1500)
    draft_answer: str = Field(min_length=1, max_length=2000)


class ChoiceDraft(OpenDraft):
    """A multiple-choice question (MMLU style: four options, one correct) with its draft answer."""

    options: list[str] = Field(min_length=4, max_length=4)
    answer_option: str = Field(pattern="^[ABCD]$")

    @model_validator(mode="after")
    def _distinct_options(self) -> ChoiceDraft:
        normalized = {" ".join(o.split()).casefold() for o in self.options}
        if len(normalized) != 4 or "" in normalized:
            raise ValueError("the four options must be distinct and non-empty")
        return self


def _schema(multiple_choice: bool, plain: bool) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "question": text_field(10, 400 if plain else 1500, plain),
        "draft_answer": text_field(1, 300 if plain else 2000, plain),
    }
    if multiple_choice:
        properties["options"] = {"type": "array", "items": text_field(1, 120 if plain else 300, plain),
                                 "minItems": 4, "maxItems": 4}
        properties["answer_option"] = {"type": "string", "enum": list(LETTERS)}
    order = ["question", "options", "answer_option", "draft_answer"] if multiple_choice else list(properties)
    return {"type": "object", "properties": {k: properties[k] for k in order}, "required": order,
            "additionalProperties": False}


@dataclass(frozen=True)
class Strategy:
    """One synthesis strategy: its prompt version, sampling diversity (temperature, top_p) and output bounds.

    ``plain_text``: one-line fields bounded by a pattern (for small local models; see ``text_field``).
    """

    name: StrategyName
    prompt_version: str
    temperature: float = 0.8
    top_p: float = 0.95
    max_tokens: int = 400
    plain_text: bool = False

    def sampling(self, job: SynthesisJob) -> Sampling:
        """Sampled with a per-job seed: parallel replicas of one seed and bucket differ, reruns replay the cache."""
        return Sampling(temperature=self.temperature, top_p=self.top_p, max_tokens=self.max_tokens,
                        seed=job.replica)

    def output_model(self, job: SynthesisJob) -> type[OpenDraft]:
        """The pydantic model of the reply (multiple choice when the seed is)."""
        return ChoiceDraft if job.is_multiple_choice else OpenDraft

    def build_request(self, job: SynthesisJob, taxonomy: Taxonomy) -> LlmRequest:
        """The chat messages for one job."""
        options = "".join(f"{LETTERS[i]}. {as_data(o)}\n" for i, o in enumerate(job.seed_options or [])
                          if i < len(LETTERS))
        prompt = load_prompt(self.prompt_version).format(
            data_note=DATA_NOTE,
            language="Chinese" if job.language == "zh" else "English",
            seed_band=taxonomy.grade_band_of.get(job.seed_difficulty, "unknown").replace("_", " "),
            seed_difficulty=job.seed_difficulty,
            seed_question=as_data(job.seed_question),
            seed_options=options,
            seed_answer=as_data(job.seed_answer),
            kind="multiple-choice" if job.is_multiple_choice else "open-ended",
            target_band=job.target_grade_band.replace("_", " "),
            target_difficulty=job.target_difficulty,
            format_rules=MC_RULES if job.is_multiple_choice else OPEN_RULES,
        )
        return LlmRequest(item_id=job.job_id, messages=[{"role": "user", "content": prompt}],
                          schema_name=f"{self.name}_draft",
                          json_schema=_schema(job.is_multiple_choice, self.plain_text),
                          prompt_version=self.prompt_version, sampling=self.sampling(job))


def default_strategies(temperature: float = 0.8, top_p: float = 0.95, plain_text: bool = False,
                       max_tokens: int = 400) -> dict[str, Strategy]:
    """The two strategies of the paper at their current prompt versions.

    ``max_tokens`` bounds a reply: raise it for reasoning models (a DeepSeek-R1 trace alone runs to thousands of
    tokens).
    """
    return {
        "multi_grade": Strategy("multi_grade", "multi_grade_v2", temperature, top_p, max_tokens=max_tokens,
                                plain_text=plain_text),
        "high_difficulty": Strategy("high_difficulty", "high_difficulty_v2", temperature, top_p,
                                    max_tokens=max_tokens, plain_text=plain_text),
    }
