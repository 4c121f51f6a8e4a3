"""Golden files pin each strategy's rendered prompt and schema, and the parse of a recorded reply, exactly.

Regenerate after an intended prompt change (then bump the prompt version): BOOSTQA_UPDATE_GOLDEN=1 pytest this file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from boostqa.annotate.taxonomy import load_taxonomy
from boostqa.synthesize.refine import RefineTask
from boostqa.synthesize.strategies import ChoiceDraft, OpenDraft, default_strategies
from tests.boostqa.synthesize.test_runner import job

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("BOOSTQA_UPDATE_GOLDEN") == "1"


def _check(name: str, actual: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"{path} is missing: run with BOOSTQA_UPDATE_GOLDEN=1"
    assert actual == path.read_text(encoding="utf-8"), f"{name} changed: bump the prompt version, then regenerate"


CASES = {
    "high_difficulty_mc": ("high_difficulty", job("g1", "high_difficulty", 4, mc=True)),
    "high_difficulty_open_zh": ("high_difficulty", job("g2", "high_difficulty", 3, mc=False).model_copy(
        update={"language": "zh", "seed_question": "一个物体的质量是2千克，加速度是3米每二次方秒，合力是多少？",
                "seed_answer": "6牛"})),
    "multi_grade_mc": ("multi_grade", job("g3", "multi_grade", 1, mc=True)),
    "multi_grade_open": ("multi_grade", job("g4", "multi_grade", 5, mc=False)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_strategy_request_matches_its_golden_file(case: str) -> None:
    strategy_name, synthesis_job = CASES[case]
    request = default_strategies()[strategy_name].build_request(synthesis_job, load_taxonomy())
    _check(f"{case}.prompt.txt", request.messages[0]["content"])
    _check(f"{case}.schema.json", json.dumps(request.json_schema, indent=2, ensure_ascii=False) + "\n")


def test_refine_request_matches_its_golden_file() -> None:
    draft = ChoiceDraft(question="A 2 kg mass accelerates at 3 m/s^2. What net force acts on it?",
                        options=["6 N", "5 N", "1.5 N", "9 N"], answer_option="A", draft_answer="F = ma = 6 N")
    request = RefineTask().build_request("g1", "en", draft)
    _check("refine_mc.prompt.txt", request.messages[0]["content"])
    _check("refine_mc.schema.json", json.dumps(request.json_schema, indent=2) + "\n")


def test_recorded_replies_parse_exactly() -> None:
    replies = json.loads((GOLDEN / "replies.json").read_text(encoding="utf-8"))
    choice = ChoiceDraft.model_validate(replies["high_difficulty_mc"])
    assert choice.model_dump() == {
        "question": "A 2 kg cart is pushed by two forces, 10 N east and 4 N west, while friction removes 2 N. "
                    "What is its acceleration?",
        "draft_answer": "Net force 10 - 4 - 2 = 4 N, so a = 4 / 2 = 2 m/s^2.",
        "options": ["2 m/s^2", "3 m/s^2", "4 m/s^2", "6 m/s^2"], "answer_option": "A"}
    opened = OpenDraft.model_validate(replies["multi_grade_open"])
    assert opened.model_dump() == {"question": "小明有3个苹果，又买了4个，现在一共有几个苹果？",
                                   "draft_answer": "3 + 4 = 7，一共7个。"}
