"""Row-level filters: small steps, each returning None to keep an item or a detail saying why it fails."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from boostqa.qc.injection import followed_injection
from boostqa.qc.records import FilterConfig, QcItem
from boostqa.qc.text import ngrams, script_of, tokens
from boostqa.vocabulary import QcFilterReason

Check = Callable[[QcItem, FilterConfig], str | None]

_REFUSAL = re.compile(
    r"\b(I can(?:no|')t (?:help|assist|provide|answer|comply)|I(?:'m| am) (?:sorry|unable|not able)|"
    r"as an AI(?: language model)?|I (?:won't|will not) (?:answer|provide))\b"
    r"|抱歉|无法(?:回答|提供|协助)|作为(?:一个)?(?:AI|人工智能)", re.IGNORECASE)
_HEDGING = re.compile(
    r"\b(I(?:'m| am) not (?:sure|certain)|I don't know|I do not know|it is (?:unclear|impossible to say)|"
    r"cannot be determined from|there is no (?:single )?correct answer)\b|不确定|无法确定|没有正确答案",
    re.IGNORECASE)
_TRACE = re.compile(r"</?think>|<\|[a-z_]+\|>|^\s*(?:okay|ok|hmm|alright)[,.]?\s+(?:so|let me|let's)\b|"
                    r"^\s*let me think\b|^\s*wait[,.]", re.IGNORECASE | re.MULTILINE)
_OPTION_WORD = re.compile(r"^(?:option|choice|answer)$", re.IGNORECASE)
_LABEL = re.compile(r"^[a-h]$")
# Unfilled placeholders ({{answer}}, {question}, <answer>), our schemas' field names, and JSON debris.
_PLACEHOLDER = re.compile(
    r"\{\{[^{}]{0,80}\}\}|\{[a-z_]{2,40}\}|<(?:answer|question|option)>"
    r"|\b(?:draft_answer|refined_answer|answer_options?|grade_band|draft_correct)\w*|^\s*[\]}]", re.IGNORECASE)
_LETTERS = "ABCD"


def _answer_text(item: QcItem) -> str:
    return (item.refined_answer or "").strip()


def length_bounds(item: QcItem, config: FilterConfig) -> str | None:
    """Question and answer lengths within bounds."""
    q = len(item.question.strip())
    if q < config.question_min_chars:
        return f"question has {q} characters (< {config.question_min_chars})"
    if q > config.question_max_chars:
        return f"question has {q} characters (> {config.question_max_chars})"
    a = len(_answer_text(item))
    if a > config.answer_max_chars:
        return f"answer has {a} characters (> {config.answer_max_chars})"
    return None


def missing_answer(item: QcItem, config: FilterConfig) -> str | None:
    """An answer text, and for multiple choice an option letter."""
    if not tokens(_answer_text(item)):
        return f"refined answer has no words or numbers: {_answer_text(item)!r}"
    if item.options and not (item.refined_option or "").strip():
        return "multiple-choice item has no answer option"
    return None


def _is_label_only(option: str) -> bool:
    """"B", "Option C", "D (B) (C)": text that only names other options."""
    words = [w for w in tokens(option) if not _OPTION_WORD.match(w)]
    return all(_LABEL.match(w) for w in words)


def malformed_options(item: QcItem, config: FilterConfig) -> str | None:
    """Four distinct, non-empty options that are more than bare labels, and an answer letter among them."""
    if not item.options:
        return None
    options = [o.strip() for o in item.options]
    if len(options) != len(_LETTERS):
        return f"{len(options)} options (expected {len(_LETTERS)})"
    if any(not o for o in options):
        return "an option is empty"
    if any(_is_label_only(o) for o in options):
        return f"an option is only option labels: {options}"
    if len({" ".join(tokens(o)) for o in options}) < len(options):
        return "two options say the same thing"
    letter = (item.refined_option or "").strip().upper()[:1]
    if letter and letter not in _LETTERS:
        return f"answer option {item.refined_option!r} is not one of A-D"
    return None


def refusal(item: QcItem, config: FilterConfig) -> str | None:
    """No refusal in the question or answer."""
    for field, text in (("question", item.question), ("answer", _answer_text(item))):
        match = _REFUSAL.search(text)
        if match:
            return f"{field} refuses: {match.group(0)!r}"
    return None


def hedging(item: QcItem, config: FilterConfig) -> str | None:
    """No hedging non-answer."""
    match = _HEDGING.search(_answer_text(item))
    return f"answer hedges: {match.group(0)!r}" if match else None


def language_mismatch(item: QcItem, config: FilterConfig) -> str | None:
    """The question is in its seed's language (text without letters, such as a formula, passes)."""
    script = script_of(item.question)
    if script in ("unknown", item.language):
        return None
    return f"question reads as {script}, seed language is {item.language}"


def _repeated_fraction(words: Sequence[str], n: int) -> float:
    grams = list(ngrams(words, n))
    return 1 - len(set(grams)) / len(grams) if grams else 0.0


def repeated_ngrams(item: QcItem, config: FilterConfig) -> str | None:
    """No degenerate repetition (a model looping) in the question, the options or the answer."""
    for field, text in (("question", item.question), ("options", " ".join(item.options or [])),
                        ("answer", _answer_text(item))):
        words = tokens(text)
        if len(words) < config.repetition_min_tokens:
            continue
        share = _repeated_fraction(words, config.repeated_ngram)
        if share > config.max_repeated_fraction:
            return f"{field} repeats itself: {share:.0%} of its {config.repeated_ngram}-grams are repeats"
    return None


def reasoning_leftover(item: QcItem, config: FilterConfig) -> str | None:
    """No reasoning trace or chat-template token left in the question or answer."""
    for field, text in (("question", item.question), ("answer", _answer_text(item))):
        match = _TRACE.search(text)
        if match:
            return f"{field} holds a reasoning trace: {match.group(0).strip()!r}"
    return None


def template_leftover(item: QcItem, config: FilterConfig) -> str | None:
    """No unfilled template placeholder, schema field name or JSON debris in the question, an option or the answer.

    Placeholders look like "{{answer}}", "{question}" or "<answer>"; a schema field name like "draft_answer_id:".
    """
    for field, text in (("question", item.question), *(("option", o) for o in item.options or []),
                        ("answer", _answer_text(item))):
        match = _PLACEHOLDER.search(text)
        if match:
            return f"{field} holds a template placeholder: {match.group(0)!r}"
    return None


@dataclass(frozen=True)
class Filter:
    """A named check; ``reason`` is what a failing item is removed for."""

    reason: QcFilterReason
    check: Check


# Order matters only for which reason is an item's first; every failing filter is reported.
FILTERS: tuple[Filter, ...] = (
    Filter("missing_answer", missing_answer),
    Filter("malformed_options", malformed_options),
    Filter("length_out_of_bounds", length_bounds),
    Filter("reasoning_leftover", reasoning_leftover),
    Filter("template_leftover", template_leftover),
    Filter("prompt_injection", followed_injection),
    Filter("refusal", refusal),
    Filter("hedging", hedging),
    Filter("language_mismatch", language_mismatch),
    Filter("repeated_ngrams", repeated_ngrams),
)
FILTER_REASONS = tuple(f.reason for f in FILTERS)
# What a general-corpus document is checked for: it has no answer or options, and web text holds braces and code
# that the template check would take for placeholders; language and degenerate repetition apply as to items.
DOCUMENT_FILTERS: tuple[Filter, ...] = tuple(f for f in FILTERS if f.reason in ("language_mismatch",
                                                                                "repeated_ngrams"))


def run_filters(item: QcItem, config: FilterConfig,
                filters: Sequence[Filter] = FILTERS) -> list[tuple[QcFilterReason, str]]:
    """Every (reason, detail) the item fails, in filter order; empty when it passes."""
    failures: list[tuple[QcFilterReason, str]] = []
    for step in filters:
        detail = step.check(item, config)
        if detail is not None:
            failures.append((step.reason, detail))
    return failures
