"""Text normalization and stable content ids: the same question always gets the same seed id."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from typing import Any

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_HSPACE = re.compile(r"[ \t\u00a0\u3000]+")
_BLANK_LINES = re.compile(r"\n{3,}")
_ANY_SPACE = re.compile(r"\s+")
_LETTER_ANSWER = re.compile(r"^[\(（]?\s*([A-Za-z])\s*[\)）\.．。:：]?$")
_OPTION_LABEL = re.compile(r"^[\(（]?\s*([A-Za-z])\s*[\)）\.．、:：]\s*")

LANGUAGE_ALIASES = {
    "en": "en",
    "eng": "en",
    "english": "en",
    "en-us": "en",
    "en-gb": "en",
    "zh": "zh",
    "zh-cn": "zh",
    "zh-hans": "zh",
    "chinese": "zh",
    "中文": "zh",
}


def normalize_text(text: str) -> str:
    """NFC, no control characters, single spaces, at most one blank line, trimmed lines."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    lines = [_HSPACE.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def _hash_form(text: str) -> str:
    """The form used for hashing: case- and whitespace-insensitive."""
    return _ANY_SPACE.sub(" ", normalize_text(text).casefold()).strip()


def seed_id(question: str, options: list[str] | None, answer: str) -> str:
    """sha256 over the normalized question, options and answer (stable across sources and reruns)."""
    payload = [_hash_form(question), [_hash_form(o) for o in options] if options else None, _hash_form(answer)]
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False).encode("utf-8")).hexdigest()


def option_letter(index: int) -> str:
    """A, B, C, ... for option positions."""
    return chr(ord("A") + index)


def strip_option_label(option: str, index: int) -> str:
    """Drop a leading ``A.``/``(A)`` label when it matches the option's position."""
    match = _OPTION_LABEL.match(option)
    if match and match.group(1).upper() == option_letter(index):
        return option[match.end() :].strip()
    return option


def answer_letter(answer: str, options: list[str]) -> str | None:
    """Resolve a multiple-choice answer to its option letter (``b``, ``(B)``, or the option text); None if invalid."""
    match = _LETTER_ANSWER.match(answer.strip())
    if match:
        index = ord(match.group(1).upper()) - ord("A")
        return option_letter(index) if 0 <= index < len(options) else None
    folded = [_hash_form(o) for o in options]
    target = _hash_form(answer)
    return option_letter(folded.index(target)) if folded.count(target) == 1 else None


def normalize_language(value: str) -> str | None:
    """Map a language tag to ``en``/``zh``; None when unsupported."""
    return LANGUAGE_ALIASES.get(value.strip().casefold())


def options_list(value: Any, shape: str) -> Any:
    """A row's options as a list, read as the source's ``options_shape`` says they are spelled.

    ``list``: as given. ``letter_object``: ``{"A": "...", "B": "..."}`` (any letter case, any key order) in letter
    order. ``json_list``: a JSON-encoded list in a text cell (``'["3", "4"]'``).

    Raises:
        ValueError: the value is not in that shape (the row is quarantined as invalid_options).
    """
    if shape == "letter_object":
        if not isinstance(value, dict):
            raise ValueError(f"options should be an object from letter to text, got {type(value).__name__}")
        letters = {str(k).strip().upper(): v for k, v in value.items()}
        expected = [chr(ord("A") + i) for i in range(len(letters))]
        if sorted(letters) != expected:
            raise ValueError(f"option letters {sorted(letters)} are not A, B, C, ... in a row")
        return [letters[letter] for letter in expected]
    if shape == "json_list" and not isinstance(value, list):
        if not isinstance(value, str):
            raise ValueError(f"options should be a JSON-encoded list, got {type(value).__name__}")
        try:
            decoded = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"options are not a JSON-encoded list: {exc}") from exc
        if not isinstance(decoded, list):
            raise ValueError(f"options decode to {type(decoded).__name__}, not a list")
        return decoded
    return value
