"""The benchmark registry and our local editions: 12 benchmarks, each loadable, labelled and well-formed."""

from __future__ import annotations

import pytest

from boostqa.annotate.taxonomy import load_taxonomy
from boostqa.benchmarks.formats import BenchmarkRowError, gsm8k_final_answer, last_boxed, parse_row
from boostqa.benchmarks.loader import load_items, load_local, subjects_of
from boostqa.benchmarks.registry import BENCHMARKS, get_benchmark

DESIGN_BENCHMARKS = {"mmlu", "cmmlu", "ceval", "arc_challenge", "arc_easy", "hellaswag", "winogrande", "piqa",
                     "openbookqa", "commonsense_qa", "gsm8k", "math"}


def test_the_registry_holds_the_twelve_benchmarks_of_the_design() -> None:
    assert {b.name for b in BENCHMARKS} == DESIGN_BENCHMARKS
    assert {b.name for b in BENCHMARKS if b.task_type == "generative"} == {"gsm8k", "math"}
    with pytest.raises(KeyError, match="registered: mmlu"):
        get_benchmark("mmlu-pro")


@pytest.mark.parametrize("spec", BENCHMARKS, ids=lambda b: b.name)
def test_each_local_edition_has_twenty_well_formed_items_labelled_with_our_taxonomy(spec: object) -> None:
    items = load_local(spec)  # type: ignore[arg-type]
    assert len(items) >= 20
    disciplines = set(load_taxonomy().discipline_ids)
    for item in items:
        assert item.discipline_id in disciplines and 1 <= item.difficulty <= 5
        assert item.question.strip() and item.answer.strip()
        if item.choices is not None:
            assert item.answer == item.choices[item.answer_index]  # type: ignore[index]
            assert len(set(item.choices)) == len(item.choices)
    assert len({i.item_id for i in items}) == len(items)
    assert len({i.question for i in items}) == len(items)


def test_subject_benchmarks_spread_over_several_subjects_with_few_shot_splits() -> None:
    for name in ("mmlu", "cmmlu", "ceval"):
        spec = get_benchmark(name)
        items = load_local(spec)
        assert len({i.config for i in items}) >= 5
        assert {i.config for i in items} <= set(subjects_of(spec))  # every subject maps to a discipline
        assert {i.config for i in load_local(spec, spec.fewshot_split)} == {i.config for i in items}


def test_subject_and_level_give_the_difficulty_band() -> None:
    by_id = {i.item_id: i for i in load_items(names=["mmlu", "math"])}
    assert by_id["mmlu:test:elementary_mathematics:0"].difficulty == 1
    assert by_id["mmlu:test:college_biology:0"].difficulty == 4
    assert {i.difficulty for i in by_id.values() if i.benchmark == "math"} == {3, 4, 5}


def test_production_configs_cover_every_mapped_subject() -> None:
    assert len(subjects_of(get_benchmark("mmlu"))) == 57
    assert len(subjects_of(get_benchmark("cmmlu"))) == 67
    assert len(subjects_of(get_benchmark("ceval"))) == 52
    assert subjects_of(get_benchmark("arc_easy")) == ("ARC-Easy",)


def test_generative_answers_are_extracted_the_way_scorers_need_them() -> None:
    assert gsm8k_final_answer("3 + 4 = <<3+4=7>>7\n#### 1,007") == "1007"
    assert last_boxed(r"so $x = \boxed{\frac{1}{2}}$ and \boxed{3}") == "3"
    assert last_boxed(r"\boxed{\frac{\sqrt{3}}{2}}") == r"\frac{\sqrt{3}}{2}"
    with pytest.raises(BenchmarkRowError, match="####"):
        parse_row("gsm8k", {"question": "q", "answer": "no marker"})


def test_a_malformed_row_names_its_format_and_problem() -> None:
    with pytest.raises(BenchmarkRowError, match="arc row is malformed: ValueError"):
        parse_row("arc", {"question": "q", "choices": {"text": ["a", "b"], "label": ["A", "B"]}, "answerKey": "E"})


def test_production_rows_from_the_hub_parse_like_the_local_edition(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Hub path calls ``datasets.load_dataset`` per config and split; its rows share the local schema."""
    import datasets

    calls: list[tuple[str, str, str]] = []
    local = {i.config: i.row for i in load_local(get_benchmark("ceval"))}

    def fake_load_dataset(path: str, name: str, split: str) -> list[dict[str, object]]:
        calls.append((path, name, split))
        return [local[name]] if name in local else []

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    items = load_items("hub", names=["ceval"])
    assert len(calls) == 52 and calls[0] == ("ceval/ceval-exam", "accountant", "val")
    assert {i.config for i in items} == set(local) and all(i.discipline_id for i in items)
