"""Final answers of GSM8K and MATH are extracted and normalized so equal answers compare equal."""

from __future__ import annotations

import pytest

from boostqa.eval.answers import gsm8k_prediction, gsm8k_reference, math_prediction, normalize_math


@pytest.mark.parametrize(("output", "expected"), [
    (" He pays 3*6 = 18.\n#### 18", "18"),
    (" 1,250 books minus 250 leaves 1,000 books.", "1000"),
    (" The answer is $2,400.00.", "2400"),
    (" It costs -5 dollars", "-5"),
    (" no number here", ""),
])
def test_gsm8k_takes_the_marked_then_the_last_number(output: str, expected: str) -> None:
    assert gsm8k_prediction(output) == expected


def test_gsm8k_reference_uses_the_same_form() -> None:
    assert gsm8k_reference("1,000") == "1000" and gsm8k_reference("2.50") == "2.5"


@pytest.mark.parametrize(("left", "right"), [
    ("\\dfrac{1}{2}", "0.5"), ("1/2", "\\frac12"), ("x = 5", "5"), ("90^\\circ", "90"),
    ("\\left( 2, 3 \\right)", "(2,3)"), ("\\sqrt2", "\\sqrt{2}"), ("50\\%", "50"), ("$7$", "7"),
    ("10\\text{ cm}", "10"),
])
def test_math_normalization_makes_equivalent_answers_equal(left: str, right: str) -> None:
    assert normalize_math(left) == normalize_math(right)


def test_math_prediction_prefers_the_last_box_then_the_first_line() -> None:
    assert math_prediction(" so $x = \\boxed{3}$, not \\boxed{\\dfrac{1}{2}}") == "\\frac{1}{2}"
    assert math_prediction(" 12\nProblem: next") == "12"
    assert normalize_math("3") != normalize_math("4")
