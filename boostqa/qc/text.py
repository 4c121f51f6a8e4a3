"""Text normalization shared by dedup and decontamination: NFKC, lower case, words and single CJK characters."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

# A CJK ideograph is a token on its own (Chinese has no spaces); elsewhere a token is a run of letters/digits.
_CJK_RANGE = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(f"[{_CJK_RANGE}]|[^\\W_{_CJK_RANGE}]+", re.UNICODE)
_CJK = re.compile(f"[{_CJK_RANGE}]")
_LATIN = re.compile(r"[A-Za-z]")


def tokens(text: str) -> list[str]:
    """Normalized tokens of ``text``: punctuation, case, width and whitespace differences disappear."""
    return _TOKEN.findall(unicodedata.normalize("NFKC", text).lower())


def item_text(question: str, options: Sequence[str] | None = None, answer: str | None = None) -> str:
    """One string for an item's question, options and answer, in that order (what QC compares)."""
    parts: list[str] = [question, *(options or [])]
    if answer:
        parts.append(answer)
    return "\n".join(parts)


def ngrams(words: Sequence[str], n: int) -> Iterable[tuple[str, ...]]:
    """Every contiguous ``n``-gram of ``words`` (none when there are fewer than ``n``)."""
    return (tuple(words[i : i + n]) for i in range(len(words) - n + 1))


def script_of(text: str) -> str:
    """``zh`` with at least one CJK ideograph per three Latin letters, ``en`` when Latin letters dominate.

    ``unknown`` for text with neither (numbers, formulas).
    """
    cjk = len(_CJK.findall(text))
    latin = len(_LATIN.findall(text))
    if cjk + latin == 0:
        return "unknown"
    # Latin letters in Chinese text (variables, units, names) are common; three Latin letters ~ one ideograph.
    return "zh" if cjk * 3 >= latin else "en"
