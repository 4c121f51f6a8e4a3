"""Answer refinement (refiner role): a complete final answer; multiple choice names exactly one option."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field

from boostqa.llm.delimit import DATA_NOTE, as_data
from boostqa.llm.schema_fields import text_field
from boostqa.llm.types import LlmRequest, Sampling
from boostqa.synthesize.strategies import LETTERS, ChoiceDraft, OpenDraft, load_prompt

DisagreementPolicy = Literal["keep_refined", "drop", "second_sample"]
MC_RULES = 'Reply with JSON only: {"answer_option": <"A", "B", "C" or "D">, "final_answer": ..., "draft_correct": ...}'
OPEN_RULES = 'Reply with JSON only: {"final_answer": ..., "draft_correct": <true or false>}'


class OpenRefinement(BaseModel):
    """The refiner's final answer to an open-ended question."""

    final_answer: str = Field(min_length=1, max_length=4000)
    draft_correct: bool


class ChoiceRefinement(OpenRefinement):
    """The refiner's final answer to a multiple-choice question: exactly one option."""

    answer_option: str = Field(pattern="^[ABCD]$")


def _schema(multiple_choice: bool, plain: bool) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    if multiple_choice:
        properties["answer_option"] = {"type": "string", "enum": list(LETTERS)}
    properties["final_answer"] = text_field(1, 400 if plain else 4000, plain)
    properties["draft_correct"] = {"type": "boolean"}
    return {"type": "object", "properties": properties, "required": list(properties), "additionalProperties": False}


def _normalized(text: str) -> str:
    numbers = re.findall(r"-?\d+(?:\.\d+)?", text)
    return numbers[-1] if numbers else " ".join(text.split()).casefold()


def answers_agree(first: dict[str, Any], second: dict[str, Any]) -> bool:
    """Two refinements agree: same option for multiple choice, else the same final number (or normalized text)."""
    if "answer_option" in first:
        return bool(first["answer_option"] == second.get("answer_option"))
    return _normalized(first["final_answer"]) == _normalized(second["final_answer"])


@dataclass(frozen=True)
class RefineTask:
    """Builds refiner requests (first opinion greedy, a second one sampled) and judges draft/refined agreement."""

    prompt_version: str = "refine_v2"
    max_tokens: int = 400
    second_temperature: float = 0.7
    plain_text: bool = False

    def output_model(self, draft: OpenDraft) -> type[OpenRefinement]:
        """The reply's model: exactly one option for multiple choice."""
        return ChoiceRefinement if isinstance(draft, ChoiceDraft) else OpenRefinement

    def build_request(self, item_id: str, language: str, draft: OpenDraft, second_opinion: bool = False
                      ) -> LlmRequest:
        """The chat messages to refine one draft; the second opinion is sampled, so it can differ."""
        multiple_choice = isinstance(draft, ChoiceDraft)
        options = ("".join(f"{LETTERS[i]}. {as_data(o)}\n" for i, o in enumerate(draft.options))
                   if isinstance(draft, ChoiceDraft) else "")
        draft_answer = (f"({draft.answer_option}) {draft.draft_answer}" if isinstance(draft, ChoiceDraft)
                        else draft.draft_answer)
        prompt = load_prompt(self.prompt_version).format(language="Chinese" if language == "zh" else "English",
                                      data_note=DATA_NOTE, question=as_data(draft.question), options=options,
                                      draft_answer=as_data(draft_answer),
                                      format_rules=MC_RULES if multiple_choice else OPEN_RULES)
        sampling = (Sampling(temperature=self.second_temperature, max_tokens=self.max_tokens, seed=1) if second_opinion
                    else Sampling(temperature=0.0, max_tokens=self.max_tokens))
        return LlmRequest(item_id=item_id, messages=[{"role": "user", "content": prompt}], schema_name="refinement",
                          json_schema=_schema(multiple_choice, self.plain_text), prompt_version=self.prompt_version,
                          sampling=sampling)

    @staticmethod
    def draft_agrees(draft: OpenDraft, refined: dict[str, Any]) -> bool:
        """The refiner confirmed the draft: it says so and, for multiple choice, picked the same option."""
        if isinstance(draft, ChoiceDraft) and refined.get("answer_option") != draft.answer_option:
            return False
        return bool(refined["draft_correct"])
