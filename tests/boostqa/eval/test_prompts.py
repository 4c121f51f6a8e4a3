"""Prompts follow lm-eval's task formats: descriptions, lettered choices, few-shot order, partial scoring."""

from __future__ import annotations

from boostqa.benchmarks.loader import load_local, subjects_of
from boostqa.benchmarks.registry import get_benchmark
from boostqa.eval.prompts import description
from boostqa.eval.subject_names import CEVAL_SUBJECTS, CMMLU_SUBJECTS
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


def test_cmmlu_and_ceval_name_the_subject_in_chinese_like_lm_eval() -> None:
    cmmlu = load_docs("cmmlu", EvalTaskSettings(limit=1, num_fewshot={"cmmlu": 0}))[0]
    name = CMMLU_SUBJECTS[cmmlu.item.config]
    assert cmmlu.contexts[0].startswith(f"以下是关于{name}的单项选择题，请直接给出正确答案的选项。\n\n")
    ceval = load_docs("ceval", EvalTaskSettings(limit=1, num_fewshot={"ceval": 0}))[0]
    name = CEVAL_SUBJECTS[ceval.item.config]
    assert ceval.contexts[0].startswith(f"以下是中国关于{name}的单项选择题，请选出其中的正确答案。\n\n")
    for benchmark in ("cmmlu", "ceval"):  # every subject a Hub run may score has its name
        spec = get_benchmark(benchmark)
        assert all(not description(spec.row_format, s).isascii() for s in subjects_of(spec))


def test_hellaswag_is_cleaned_and_capitalized_like_lm_evals_process_docs() -> None:
    plain, wikihow = load_docs("hellaswag", EvalTaskSettings(limit=2))
    assert plain.contexts == ("Washing face: A woman stands at a bathroom sink and splashes water onto her face. She",)
    assert plain.choices == tuple(plain.item.choices or ())
    assert wikihow.contexts[0].startswith("Home and Garden: How to clean a cast iron skillet. Let the pan cool")
    assert "[" not in wikihow.contexts[0] and "  " not in wikihow.contexts[0]
    # "[step] Fill ..." loses its marker but keeps the space after it, as lm-eval's preprocess does
    assert wikihow.choices[0] == " Fill the skillet with dish soap and leave it to soak in the sink overnight so the " \
        "seasoning can dissolve completely."


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
