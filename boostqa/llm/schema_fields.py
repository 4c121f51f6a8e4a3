"""JSON-schema string fields for structured output, shared by every LLM stage's reply schema."""

from __future__ import annotations

from typing import Any

# xgrammar (vLLM's guided decoding) rejects one bounded repetition much above 100 ({10,200} fails to compile:
# HTTP 500), so longer bounds are a chain of pieces of at most this many characters.
PATTERN_PIECE = 100
# One line without quotes or backslashes: a plain sentence, and no escape sequences for a small model to loop in.
PLAIN_CHAR = '[^"\\\\\\n]'


def text_field(min_chars: int, max_chars: int, plain: bool) -> dict[str, Any]:
    """A string field; ``plain`` bounds it with a pattern guided decoding enforces.

    The pattern (one line, no quotes or backslashes: no LaTeX) stops a small model's runaway strings. maxLength alone is
    not enforced by vLLM's xgrammar backend, only checked afterwards.
    """
    if not plain:
        return {"type": "string", "minLength": min_chars, "maxLength": max_chars}
    first = min(max_chars, PATTERN_PIECE)
    rest = "".join(f"{PLAIN_CHAR}{{0,{min(PATTERN_PIECE, max_chars - done)}}}"
                   for done in range(first, max_chars, PATTERN_PIECE))
    return {"type": "string", "pattern": f"^{PLAIN_CHAR}{{{min(min_chars, first)},{first}}}{rest}$"}
