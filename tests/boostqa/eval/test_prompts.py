"""Prompts follow lm-eval's task formats: descriptions, lettered choices, few-shot order, partial scoring."""

from __future__ import annotations

from boostqa.benchmarks.loader import load_local
from boostqa.benchmarks.registry import get_benchmark
from boostqa.eval.tasks import EvalTaskSettings, _limited, load_docs, model_requests


def test_mmlu_is_five_shot_from_the_same_subject_with_letter_continuations() -> None:
    doc = load_docs("mmlu", EvalTaskSettings(limit=1))[0]
    (context,) = doc.contexts
    subject = doc.item.config.replace("_", " ")
    assert context.startswith(f"The following are multiple choice questions (with answers) about {subject}.\n\n")
    shots = [s for s in load_local(get_benchmark("mmlu"), "dev") if s.config == doc.item.config][:5]
    assert context.count("\nAnswer: ") == 5 and shots[0].question.strip() in context.split("\n\n")[1]
    assert context.endswith(f"{doc.item.question.strip()}\nA. {doc.item.choices[0]}\nB. {doc.item.choices[1]}"
                            f"\nC. {doc.item.choices[2]}\nD. {doc.item.choices[3]}\nAnswer:")
    assert [c for _, c in doc.pairs] == [" A", " B", " C", " D"]


def test_zero_shot_overrides_and_text_choices() -> None:
    doc = load_docs("arc_easy", EvalTaskSettings(limit=1))[0]
    assert doc.contexts == (f"Question: {doc.item.question}\nAnswer:",)
    assert [c for _, c in doc.pairs] == [" " + c for c in doc.item.choices]
    zero = load_docs("mmlu", EvalTaskSettings(limit=1, num_fewshot={"mmlu": 0}))[0]
    assert "\nAnswer: " not in zero.contexts[0]


def test_winogrande_scores_the_same_continuation_after_each_option() -> None:
    doc = load_docs("winogrande", EvalTaskSettings(limit=1))[0]
    row = doc.item.row
    before, _, after = row["sentence"].partition("_")
    assert doc.pairs == [(before + row["option1"], " " + after.strip()), (before + row["option2"], " " + after.strip())]


def test_generative_items_stop_at_the_next_question_and_requests_are_unique() -> None:
    settings = EvalTaskSettings(limit=3, max_new_tokens=64)
    docs = load_docs("gsm8k", settings)
    assert docs[0].contexts[0].count("####") == 5 and docs[0].contexts[0].endswith("\nAnswer:")
    assert "Question:" in docs[0].until and "\n\n" in docs[0].until
    requests = model_requests(docs + load_docs("ceval", settings), settings.max_new_tokens)
    assert len({r["request_id"] for r in requests}) == len(requests) == 3 + 3 * 4
    assert {r["max_new_tokens"] for r in requests if r["kind"] == "generate"} == {64}


def test_a_limit_keeps_every_subject() -> None:
    items = load_local(get_benchmark("mmlu"))
    chosen = _limited(items, 6)
    assert len(chosen) == 6 and len({i.config for i in chosen}) == len({i.config for i in items})
