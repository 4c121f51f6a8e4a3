"""Each row-level filter removes what it names and keeps a good item."""

from __future__ import annotations

import pytest

from boostqa.qc.filters import FILTERS, run_filters
from boostqa.qc.records import FilterConfig, QcItem

GOOD = QcItem(item_id="i", run_id="r", strategy="multi_grade", discipline_id="physics", target_difficulty=3,
              verified_difficulty=3, language="en", question="What is the unit of electrical resistance in SI units?",
              options=["Ohm", "Volt", "Ampere", "Watt"], refined_answer="The ohm (A).", refined_option="A")
CONFIG = FilterConfig()


def test_a_good_item_passes_every_filter() -> None:
    assert run_filters(GOOD, CONFIG) == []
    assert run_filters(GOOD.model_copy(update={"options": None, "refined_option": None}), CONFIG) == []
    zh = GOOD.model_copy(update={"language": "zh", "question": "电阻的国际单位是什么？请用f(x)表示。", "options": None})
    assert run_filters(zh, CONFIG) == []


@pytest.mark.parametrize(("update", "reason"), [
    ({"refined_answer": "  "}, "missing_answer"),
    ({"refined_option": None}, "missing_answer"),
    ({"options": ["Ohm", "Volt", "Watt"]}, "malformed_options"),
    ({"options": ["Ohm", "ohm.", "Volt", "Watt"]}, "malformed_options"),
    ({"options": ["Option A", "B)", "C", "D"]}, "malformed_options"),
    ({"refined_option": "E"}, "malformed_options"),
    ({"question": "Ohm?"}, "length_out_of_bounds"),
    ({"question": "x" * 5000}, "length_out_of_bounds"),
    ({"refined_answer": "Okay, so let me recall the SI units. The ohm."}, "reasoning_leftover"),
    ({"refined_answer": "The ohm.</think>"}, "reasoning_leftover"),
    ({"options": ["D (B) (C)", "A (D)", "Ohm", "Watt"]}, "malformed_options"),
    ({"refined_answer": "{{answer}}"}, "template_leftover"),
    ({"refined_answer": " , "}, "missing_answer"),
    ({"options": ["Ohm", "Volt", "draft_answer_id:", "Watt"]}, "template_leftover"),
    ({"options": ["Ohm", "Volt", "]} 46 28 17", "Watt"]}, "template_leftover"),
    ({"question": "Given {question}, what is the SI unit of electrical resistance?"}, "template_leftover"),
    ({"refined_answer": "As an AI language model, I cannot answer."}, "refusal"),
    ({"refined_answer": "很抱歉，我无法回答这个问题。"}, "refusal"),
    ({"refined_answer": "I don't know; maybe the ohm."}, "hedging"),
    ({"question": "What is the SI unit of resistance? 电阻的单位是什么？请回答。"}, "language_mismatch"),
    ({"refined_answer": "ohm ohm ohm ohm ohm ohm ohm ohm ohm ohm ohm ohm ohm ohm"}, "repeated_ngrams"),
])
def test_each_filter_names_its_reason(update: dict[str, object], reason: str) -> None:
    failures = run_filters(GOOD.model_copy(update=update), CONFIG)
    assert failures and failures[0][0] == reason, failures


def test_filter_reasons_are_unique() -> None:
    reasons = [f.reason for f in FILTERS]
    assert len(reasons) == len(set(reasons))
