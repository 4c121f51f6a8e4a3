"""The recorded generator reply set is good enough for QC to keep (else the multi-day test proves nothing), and its
server hands each distinct request a reply of the right pool, never one twice (fast: no stack)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from boostqa.llm.schema_fields import text_field
from boostqa.qc.decontaminate import default_decontaminator
from boostqa.qc.dedup import exact_duplicates, exact_key, near_duplicates
from boostqa.qc.filters import FilterConfig, run_filters
from boostqa.qc.minhash import MinHasher
from boostqa.qc.records import QcItem
from boostqa.qc.text import item_text, tokens
from boostqa.synthesize.strategies import ChoiceDraft, OpenDraft, default_strategies
from tests.integration.recorded_generator import REPLIES, ReplySet

ROWS = [json.loads(line) for line in REPLIES.read_text(encoding="utf-8").splitlines()]


def _texts(row: dict[str, Any]) -> str:
    return item_text(row["question"], row.get("options"), row["draft_answer"])


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r["question"][:30])
def test_every_reply_fits_the_plain_schema_and_passes_the_qc_filters(row: dict[str, Any]) -> None:
    (ChoiceDraft if row["kind"] == "choice" else OpenDraft).model_validate(row)
    question, answer = (re.compile(text_field(10, n, plain=True)["pattern"]) for n in (400, 300))
    assert question.fullmatch(row["question"]) and answer.fullmatch(row["draft_answer"])
    item = QcItem(item_id="r", run_id="r", strategy="multi_grade", discipline_id="d", target_difficulty=3,
                  verified_difficulty=3, language=row["language"], question=row["question"],
                  options=row.get("options"), refined_answer=row["draft_answer"],
                  refined_option=row.get("answer_option"))
    assert run_filters(item, FilterConfig()) == []
    assert default_decontaminator().find(_texts(row)) is None


def test_the_replies_are_neither_duplicates_nor_near_duplicates_of_each_other() -> None:
    words = [tokens(_texts(r)) for r in ROWS]
    assert exact_duplicates([exact_key(w) for w in words]) == []
    hasher = MinHasher()
    assert near_duplicates(hasher, hasher.shingle(words)) == []


def _request(language: str, choice: bool, seed: int) -> dict[str, Any]:
    strategy = default_strategies(plain_text=True)["multi_grade"]
    properties = {"question": {}, "draft_answer": {}} | ({"options": {}, "answer_option": {}} if choice else {})
    return {"model": "m", "seed": seed, "response_format": {"json_schema": {"schema": {"properties": properties}}},
            "messages": [{"role": "user", "content": f"{strategy.name}: write ONE new question in {language}"}]}


def test_each_distinct_request_gets_a_new_reply_of_its_pool_and_a_repeat_the_same() -> None:
    replies = ReplySet()
    first = replies.reply(_request("Chinese", True, 0))
    assert set(first) == {"question", "options", "answer_option", "draft_answer"}
    assert re.search(r"[\u4e00-\u9fff]", first["question"])
    assert replies.reply(_request("Chinese", True, 0)) == first  # a retry of the same request
    second = replies.reply(_request("Chinese", True, 1))
    assert second != first and replies.handed_out == 2
    assert set(replies.reply(_request("English", False, 0))) == {"question", "draft_answer"}


def test_a_used_up_pool_refuses_rather_than_hand_a_reply_out_twice() -> None:
    replies = ReplySet()
    pool = len(replies.pools[("en", "open")])
    for seed in range(pool):
        replies.reply(_request("English", False, seed))
    with pytest.raises(LookupError, match="no unused en open reply"):
        replies.reply(_request("English", False, pool))


def test_a_set_handed_out_from_the_end_starts_with_the_other_replies() -> None:
    first, last = ReplySet(), ReplySet(from_the_end=True)
    assert first.reply(_request("English", False, 0)) != last.reply(_request("English", False, 0))


def test_reviews_validate_against_the_real_reply_models_and_confirm_the_draft() -> None:
    """Difficulty checks and refinements built by the stage's own request builders get replies their parsers
    accept: the hardest band, and the draft confirmed (same option for multiple choice)."""
    from boostqa.annotate.task import AnnotationTask
    from boostqa.annotate.taxonomy import load_taxonomy
    from boostqa.synthesize.refine import RefineTask
    from boostqa.synthesize.verify import DifficultyCheck

    replies, task = ReplySet(), AnnotationTask(load_taxonomy())
    choice = ChoiceDraft.model_validate(next(r for r in ROWS if r["kind"] == "choice"))
    open_draft = OpenDraft.model_validate(next(r for r in ROWS if r["kind"] == "open"))

    def body(request: Any) -> dict[str, Any]:
        return {"model": "m", "messages": request.messages,
                "response_format": {"json_schema": {"schema": request.json_schema}}}

    check = replies.reply(body(DifficultyCheck(task).build_request("i", "en", choice)))
    assert task.output_model.model_validate(check).difficulty == max(task.taxonomy.grade_band_of)
    refine = RefineTask(plain_text=True)
    for draft in (choice, open_draft):
        refined = refine.output_model(draft).model_validate(
            replies.reply(body(refine.build_request("i", "en", draft))))
        assert RefineTask.draft_agrees(draft, refined.model_dump())
        assert refined.final_answer == draft.draft_answer
    assert replies.handed_out == 0 and replies.reviews == 3  # no generator reply used up
