"""Strategy prompts, schemas and sampling; refinement agreement rules."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from boostqa.annotate.taxonomy import load_taxonomy
from boostqa.synthesize.refine import RefineTask, answers_agree
from boostqa.synthesize.strategies import ChoiceDraft, OpenDraft, default_strategies
from tests.boostqa.synthesize.test_runner import job


def test_prompts_carry_the_seed_the_target_and_the_format() -> None:
    strategies = default_strategies()
    request = strategies["high_difficulty"].build_request(job("x", target=4), load_taxonomy())
    prompt = request.messages[0]["content"]
    assert "What is the unit of force? (x)" in prompt and "A. newton\nB. joule" in prompt
    assert "difficulty 4 of 5 (undergraduate level)" in prompt and "multiple-choice" in prompt
    assert request.json_schema["properties"]["options"]["minItems"] == 4
    assert request.prompt_version == "high_difficulty_v2" and request.item_id == "x"

    open_request = strategies["multi_grade"].build_request(job("y", "multi_grade", 2, mc=False), load_taxonomy())
    assert "open-ended" in open_request.messages[0]["content"] and "middle school students" in open_request.messages[
        0]["content"]
    assert set(open_request.json_schema["required"]) == {"question", "draft_answer"}


def test_replicas_sample_with_their_own_seed() -> None:
    strategy = default_strategies(temperature=0.9, top_p=0.9)["multi_grade"]
    first, second = (strategy.sampling(job("a").model_copy(update={"replica": r})) for r in (0, 1))
    assert (first.seed, second.seed) == (0, 1) and first.temperature == 0.9 and first.top_p == 0.9


def test_choice_drafts_need_four_distinct_options_and_one_letter() -> None:
    good = {"question": "Which is a vector quantity?", "draft_answer": "velocity",
            "options": ["speed", "velocity", "mass", "time"], "answer_option": "B"}
    assert ChoiceDraft.model_validate(good).answer_option == "B"
    for bad in ({"options": ["a", "b", "c"]}, {"options": ["a", "A ", "c", "d"]}, {"answer_option": "E"}):
        with pytest.raises(ValidationError):
            ChoiceDraft.model_validate(good | bad)


def test_refinement_agreement_rules() -> None:
    draft = ChoiceDraft(question="Which is a vector quantity?", draft_answer="velocity",
                        options=["speed", "velocity", "mass", "time"], answer_option="B")
    assert RefineTask.draft_agrees(draft, {"answer_option": "B", "final_answer": "v", "draft_correct": True})
    assert not RefineTask.draft_agrees(draft, {"answer_option": "C", "final_answer": "v", "draft_correct": True})
    open_draft = OpenDraft(question="What is 2 + 2 exactly?", draft_answer="4")
    assert not RefineTask.draft_agrees(open_draft, {"final_answer": "5", "draft_correct": False})
    assert answers_agree({"final_answer": "so x = 12"}, {"final_answer": "The answer is 12"})
    assert not answers_agree({"answer_option": "A", "final_answer": "1"}, {"answer_option": "B", "final_answer": "1"})
    request = RefineTask().build_request("i", "zh", draft, second_opinion=True)
    assert request.sampling.temperature > 0 and "(B) velocity" in request.messages[0]["content"]
    assert request.json_schema["properties"]["answer_option"]["enum"] == ["A", "B", "C", "D"]


def test_plain_text_bounds_every_free_text_field_with_a_pattern() -> None:
    import re

    strategy = default_strategies(plain_text=True)["high_difficulty"]
    schema = strategy.build_request(job("x"), load_taxonomy()).json_schema["properties"]
    patterns = [schema["question"]["pattern"], schema["draft_answer"]["pattern"], schema["options"]["items"]["pattern"]]
    assert all(re.fullmatch(p, "A plain one-line answer.") for p in patterns)
    assert not any(re.fullmatch(p, "x" * 401) for p in patterns)
    refine = RefineTask(plain_text=True).build_request("i", "en", ChoiceDraft(
        question="Which is a vector quantity?", draft_answer="v", options=["a", "b", "c", "d"], answer_option="A"))
    assert "pattern" in refine.json_schema["properties"]["final_answer"]
    # Production models need LaTeX and newlines: the default keeps free strings with length checks only.
    default = default_strategies()["high_difficulty"].build_request(job("x"), load_taxonomy()).json_schema
    assert "pattern" not in default["properties"]["question"]
