"""The prompt_injection filter removes items that obeyed an injected instruction or leak our prompts, and only those."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from boostqa.annotate.task import DEFAULT_PROMPT_VERSION
from boostqa.annotate.task import PROMPTS as ANNOTATE_PROMPTS
from boostqa.llm.delimit import DATA_NOTE
from boostqa.qc.filters import run_filters
from boostqa.qc.injection import PROMPT_PHRASES, followed_injection
from boostqa.qc.records import FilterConfig
from boostqa.synthesize.refine import RefineTask
from boostqa.synthesize.strategies import default_strategies, load_prompt
from tests.boostqa.qc.test_filters import CONFIG, GOOD

FIXTURES = Path(__file__).parents[2] / "fixtures" / "injection"
OBEYED = [json.loads(line) for line in (FIXTURES / "obeyed_outputs.jsonl").read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("output", OBEYED, ids=[o["id"] for o in OBEYED])
def test_an_item_that_obeyed_an_injected_instruction_is_removed(output: dict[str, str]) -> None:
    item = GOOD.model_copy(update={"question": output["question"], "refined_answer": output["answer"],
                                   "options": None, "refined_option": None,
                                   "language": "zh" if any("\u4e00" <= c <= "\u9fff" for c in output["question"])
                                   else "en"})
    assert followed_injection(item, FilterConfig()) is not None
    assert "prompt_injection" in [reason for reason, _ in run_filters(item, CONFIG)]


@pytest.mark.parametrize("question", [
    "Which instructions should a pilot ignore during an engine fire drill, according to the checklist?",
    "In the previous experiment, which gas was absorbed by the plants?",
    "What does the operating system's prompt look like after login on a Unix terminal?",
    "Why should a student not ignore the units when solving 3 m + 20 cm?",
])
def test_ordinary_questions_that_mention_instructions_or_prompts_stay(question: str) -> None:
    assert followed_injection(GOOD.model_copy(update={"question": question}), FilterConfig()) is None


def test_every_leak_phrase_is_in_a_current_prompt_template() -> None:
    """The leak list tracks our prompts: a phrase no template says any more would catch nothing."""
    templates = [(ANNOTATE_PROMPTS / f"{DEFAULT_PROMPT_VERSION}.txt").read_text(encoding="utf-8"),
                 load_prompt(RefineTask.prompt_version),
                 *(load_prompt(s.prompt_version) for s in default_strategies().values())]
    rendered = "\n".join(templates).replace("{data_note}", DATA_NOTE)
    for phrase in PROMPT_PHRASES:
        assert phrase.lower() in rendered.lower(), phrase
