"""Normalization for QC: case, punctuation and width vanish; CJK characters are tokens."""

from __future__ import annotations

from boostqa.qc.text import item_text, ngrams, script_of, tokens


def test_tokens_ignore_case_punctuation_width_and_split_cjk_characters() -> None:
    assert tokens("The  CELL's membrane, (mostly) lipids!") == ["the", "cell", "s", "membrane", "mostly", "lipids"]
    assert tokens("ＡＢＣ１２３") == ["abc123"]
    assert tokens("三角形ABC的面积") == ["三", "角", "形", "abc", "的", "面", "积"]


def test_item_text_and_ngrams() -> None:
    assert item_text("Q?", ["a", "b"], "a") == "Q?\na\nb\na"
    assert list(ngrams(["a", "b", "c"], 2)) == [("a", "b"), ("b", "c")]
    assert list(ngrams(["a"], 2)) == []


def test_script_of_tolerates_latin_variables_in_chinese() -> None:
    assert script_of("已知函数f(x)=ax+b，求a的值。") == "zh"
    assert script_of("What is the value of x?") == "en"
    assert script_of("2 + 2 = 4") == "unknown"
