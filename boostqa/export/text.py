"""How a mixture sample reads as training text: QA items as question, options and answer; documents as is."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_LABELS = {"en": ("Question", "Answer"), "zh": ("问题", "答案")}


def qa_text(question: str, options: list[str] | None, answer: str, option: str | None, language: str) -> str:
    """One QA item as plain text (the BoostQA corpus is QA pairs in prose, not a chat template)."""
    q_label, a_label = _LABELS.get(language, _LABELS["en"])
    colon = "：" if language == "zh" else ": "
    lines = [f"{q_label}{colon}{question.strip()}"]
    lines += [f"{chr(65 + i)}. {o.strip()}" for i, o in enumerate(options or [])]
    final = f"{option.strip()}. {answer.strip()}" if option else answer.strip()
    lines.append(f"{a_label}{colon}{final}")
    return "\n".join(lines)


def training_text(row: Mapping[str, Any]) -> str:
    """The text of a selection row: a QA item (``source`` boostqa) or a general-corpus document."""
    if row["source"] == "boostqa":
        return qa_text(row["question"], row.get("options"), row["refined_answer"], row.get("refined_option"),
                       row.get("language") or "en")
    return str(row["text"]).strip()
