"""Decontamination: 13-gram overlap with benchmark items, with boilerplate never counting."""

from __future__ import annotations

from boostqa.benchmarks.loader import BenchmarkItem
from boostqa.qc.decontaminate import DecontaminationConfig, Decontaminator

INSTRUCTION = "Answer with the letter of the single best option and explain the reasoning in one short sentence"


def _item(i: int, question: str, choices: tuple[str, ...] = ("alpha", "beta", "gamma", "delta"),
          language: str = "en") -> BenchmarkItem:
    return BenchmarkItem(benchmark="mmlu", item_id=f"mmlu:test:x:{i}", split="test", config="x", question=question,
                         choices=choices, answer_index=0, answer=choices[0], reference=None, language=language,
                         discipline_id="physics", difficulty=3, row={})


QUESTION = "A ball rolls off a table that is one point two meters high with a horizontal speed of three meters"


def test_a_shared_thirteen_gram_contaminates_and_twelve_tokens_do_not() -> None:
    decon = Decontaminator([_item(0, QUESTION)])
    words = QUESTION.split()
    hit = decon.find("Revise: " + " ".join(words[:13]) + " per second.")
    assert hit is not None and hit.benchmark_item_id == "mmlu:test:x:0"
    assert decon.find(" ".join(words[:12]) + " then something else entirely happens here") is None


def test_boilerplate_from_prompts_and_from_many_benchmark_items_never_matches() -> None:
    items = [_item(i, f"{INSTRUCTION}. Question {i}: {topic}") for i, topic in
             enumerate(["why is the sky blue", "what is a lever", "define inertia"])]
    from_prompts = Decontaminator(items, boilerplate=[f"You are a teacher. {INSTRUCTION}."])
    assert from_prompts.find(f"{INSTRUCTION}. Question: what is entropy") is None
    frequent = Decontaminator(items, DecontaminationConfig(max_item_frequency=2))
    assert frequent.find(f"{INSTRUCTION}. Question: what is entropy") is None
    assert Decontaminator(items).find(f"{INSTRUCTION}. Question: what is entropy") is not None


def test_short_benchmark_items_match_only_whole_and_chinese_counts_characters() -> None:
    short = _item(0, "Which force keeps planets in orbit", choices=("gravity", "friction"))
    chinese = _item(1, "下列关于光合作用的说法中，正确的是哪一项", choices=("需要光", "不需要光"), language="zh")
    decon = Decontaminator([short, chinese])
    assert decon.find("Quiz: which force keeps planets in orbit? gravity, friction. gravity") is not None
    assert decon.find("Which force keeps planets in orbit around stars?") is None
    hit = decon.find("练习：下列关于光合作用的说法中，正确的是")
    assert hit is not None and hit.benchmark_item_id == "mmlu:test:x:1"
