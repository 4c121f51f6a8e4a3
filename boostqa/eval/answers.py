r"""Final-answer extraction and normalization for the generative benchmarks (GSM8K, MATH).

GSM8K follows lm-eval's two filters: ``strict`` (the number after ``####``) then ``flexible`` (the last number
in the output). MATH takes the last ``\boxed{}`` or else the first line, and compares strings after the
normalization of the MATH paper's ``is_equiv`` (Hendrycks et al. 2021), which lm-eval's ``hendrycks_math`` uses.
"""

from __future__ import annotations

import re

from boostqa.benchmarks.formats import last_boxed

_STRICT = re.compile(r"#### (\-?[0-9\.\,]+)")
_NUMBER = re.compile(r"-?[$0-9.,]{2,}|-?[0-9]+")


def _clean_number(text: str) -> str:
    text = text.strip().replace(",", "").replace("$", "").rstrip(".")
    try:
        value = float(text)
    except ValueError:
        return text
    return str(int(value)) if value.is_integer() else str(value)


def gsm8k_prediction(output: str) -> str:
    """The number a GSM8K answer ends with (``#### N`` when present, else the last number)."""
    strict = _STRICT.search(output)
    if strict:
        return _clean_number(strict.group(1))
    numbers = _NUMBER.findall(output)
    return _clean_number(numbers[-1]) if numbers else ""


def gsm8k_reference(answer: str) -> str:
    """The gold number of a GSM8K item in the same normal form."""
    return _clean_number(answer)


def _fix_fracs(text: str) -> str:
    parts = text.split("\\frac")
    out = parts[0]
    for part in parts[1:]:
        out += "\\frac"
        if part.startswith("{") or len(part) < 2:
            out += part
        else:  # \frac12 -> \frac{1}{2}
            out += "{" + part[0] + "}{" + part[1] + "}" + part[2:] if part[1] != "{" else "{" + part[0] + "}" + part[1:]
    return out


def _fix_sqrt(text: str) -> str:
    return re.sub(r"\\sqrt(\w)", r"\\sqrt{\1}", text)


def normalize_math(answer: str) -> str:
    r"""Canonical string of a MATH answer.

    No spaces, dollars, ``\left``/``\right``, units of degrees or percent, ``dfrac``/``tfrac`` as ``frac``, ``0.5`` as
    ``\frac{1}{2}`` and a bare ``a/b`` as ``\frac{a}{b}``.
    """
    text = answer.strip().replace("\n", "").replace("\\!", "").replace("\\\\", "\\")
    text = text.replace("tfrac", "frac").replace("dfrac", "frac").replace("\\left", "").replace("\\right", "")
    text = text.replace("^{\\circ}", "").replace("^\\circ", "").replace("\\$", "").replace("$", "")
    text = re.sub(r"\\text\{\s*[a-zA-Z ]*\}$", "", text)  # trailing units
    text = text.replace("\\%", "").replace("%", "").replace(" .", " 0.").replace("{.", "{0.")
    if text.startswith("."):
        text = "0" + text
    if "=" in text and len(text.split("=")[0]) <= 2:  # "x = 5" -> "5"
        text = text.split("=")[1]
    text = _fix_sqrt(_fix_fracs(text.replace(" ", "")))
    if text == "0.5":
        text = "\\frac{1}{2}"
    fraction = re.fullmatch(r"(-?\d+)/(\d+)", text)
    if fraction:
        text = f"\\frac{{{fraction.group(1)}}}{{{fraction.group(2)}}}"
    return text.rstrip(".")


def math_prediction(output: str) -> str:
    r"""The answer a MATH output gives: its last ``\boxed{}``, else its first non-empty line, normalized."""
    boxed = last_boxed(output)
    if boxed is not None:
        return normalize_math(boxed)
    lines = [line for line in output.strip().splitlines() if line.strip()]
    return normalize_math(lines[0]) if lines else ""
