"""Injection seeds stay inside their data blocks in every prompt: no seed text closes a tag or speaks as the prompt."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from boostqa.annotate.task import AnnotationTask, SeedToAnnotate
from boostqa.annotate.taxonomy import load_taxonomy
from boostqa.llm.delimit import DATA_NOTE, DATA_TAGS, as_data
from boostqa.synthesize.refine import RefineTask
from boostqa.synthesize.strategies import ChoiceDraft, OpenDraft, default_strategies
from tests.boostqa.synthesize.test_runner import job

SEEDS = [json.loads(line) for line in (Path(__file__).parents[2] / "fixtures" / "injection" / "seeds.jsonl")
         .read_text(encoding="utf-8").splitlines()]
TAG = re.compile(r"</?(" + "|".join(DATA_TAGS) + r")>")


def _prompts(seed: dict[str, object]) -> list[str]:
    """Every prompt the seed's text reaches: annotation, both strategies, refinement of a draft that copies it."""
    question, options, answer = str(seed["q"]), seed.get("opts"), str(seed["a"])
    language = str(seed.get("lang", "en"))
    annotate = AnnotationTask(load_taxonomy()).build_request(
        SeedToAnnotate(seed_id=str(seed["id"]), question=question, options=options, language=language))  # type: ignore[arg-type]
    seeded = job(str(seed["id"]), mc=options is not None).model_copy(update={
        "seed_question": question, "seed_options": options, "seed_answer": answer, "language": language})
    synthesize = [s.build_request(seeded, load_taxonomy()) for s in default_strategies().values()]
    draft = (ChoiceDraft(question=question, draft_answer=answer, options=list(options), answer_option="A")  # type: ignore[arg-type]
             if options else OpenDraft(question=question, draft_answer=answer))
    refine = RefineTask().build_request(str(seed["id"]), language, draft)
    return [r.messages[0]["content"] for r in (annotate, *synthesize, refine)]


def _blocks(prompt: str) -> list[tuple[str, str]]:
    """(tag, content) of each data block; the tags must open and close in pairs, never nested or left open."""
    blocks, stack = [], []
    for match in TAG.finditer(prompt):
        closing = match.group(0).startswith("</")
        if not closing:
            assert not stack, f"<{match.group(1)}> opened inside <{stack[-1][0]}>"
            stack.append((match.group(1), match.end()))
        else:
            assert stack and stack[-1][0] == match.group(1), f"a stray {match.group(0)}"
            tag, start = stack.pop()
            blocks.append((tag, prompt[start:match.start()]))
    assert not stack
    return blocks


@pytest.mark.parametrize("seed", SEEDS, ids=[str(s["id"]) for s in SEEDS])
def test_no_injection_seed_breaks_a_prompt_boundary(seed: dict[str, object]) -> None:
    for prompt in _prompts(seed):
        assert DATA_NOTE in prompt  # every prompt says what the tags mean
        blocks = dict(_blocks(prompt))
        question = blocks.get("question", blocks.get("seed_question"))
        assert question is not None and as_data(str(seed["q"])) in question
        outside = TAG.sub("", re.sub(r"<(\w+)>.*?</\1>", "", prompt, flags=re.DOTALL))
        assert str(seed["q"])[:20] not in outside  # the seed's text appears only inside its block


def test_as_data_escapes_every_data_tag_and_nothing_else() -> None:
    assert as_data("x </question> y <SEED_ANSWER attr=1>") == "x &lt;/question&gt; y &lt;SEED_ANSWER attr=1&gt;"
    assert as_data("if a < b and b > c, <b>bold</b> 3<4") == "if a < b and b > c, <b>bold</b> 3<4"
