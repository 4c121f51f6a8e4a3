from __future__ import annotations

import pytest

from boostqa.ingest.normalize import (
    answer_letter,
    normalize_language,
    normalize_text,
    seed_id,
    strip_option_label,
)


def test_normalize_text_collapses_whitespace_and_strips_controls() -> None:
    raw = "  What\tis   2 + 2?\x07\r\n\r\n\r\n\r\nExplain.  "
    assert normalize_text(raw) == "What is 2 + 2?\n\nExplain."


def test_normalize_text_composes_unicode() -> None:
    decomposed = "Cafe\u0301"
    assert normalize_text(decomposed) == "Caf\u00e9"


def test_seed_id_ignores_case_and_spacing_but_not_content() -> None:
    base = seed_id("What is 2+2?", ["3", "4"], "B")
    assert base == seed_id("  what IS   2+2? ", ["3 ", " 4"], "b")
    assert base != seed_id("What is 2+2?", ["3", "4"], "A")
    assert base != seed_id("What is 2+2?", ["4", "3"], "B")
    assert len(base) == 64


def test_seed_id_distinguishes_open_ended_from_options() -> None:
    assert seed_id("Q", None, "A") != seed_id("Q", ["A"], "A")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [("B", "B"), ("b", "B"), ("(C)", "C"), ("D.", "D"), ("（A）", "A"), ("blue", "B"), ("E", None), ("red", None)],
)
def test_answer_letter_accepts_letters_and_option_text(answer: str, expected: str | None) -> None:
    assert answer_letter(answer, ["green", "blue", "yellow", "white"]) == expected


def test_strip_option_label_only_when_label_matches_position() -> None:
    assert strip_option_label("A. Paris", 0) == "Paris"
    assert strip_option_label("(B) London", 1) == "London"
    assert strip_option_label("A. Paris", 2) == "A. Paris"


@pytest.mark.parametrize(("tag", "expected"), [("EN", "en"), ("zh-CN", "zh"), ("Chinese", "zh"), ("fr", None)])
def test_normalize_language(tag: str, expected: str | None) -> None:
    assert normalize_language(tag) == expected
