"""Prompts of the 12 benchmarks, written the way lm-evaluation-harness's task definitions write them.

tests/integration/test_lm_eval_prompts.py renders lm-eval's own tasks on our editions and checks them equal.

A multiple-choice item becomes one (context, continuation) pair per choice; a generative item one prompt with
stop sequences. Few-shot examples come first, separated by a blank line, taken in order from the benchmark's
few-shot split of the same config (lm-eval's ``first_n`` sampler for MMLU-style subjects).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from boostqa.benchmarks.formats import LETTERS
from boostqa.benchmarks.loader import BenchmarkItem
from boostqa.eval.subject_names import CEVAL_SUBJECTS, CMMLU_SUBJECTS

FEWSHOT_SEPARATOR = "\n\n"


@dataclass(frozen=True)
class EvalDoc:
    """One scored item, ready for the model.

    Multiple choice: ``contexts`` has one entry (shared by every choice) or one per choice (WinoGrande's partial
    scoring), and ``choices`` the continuations without ``delimiter``; the model scores ``context + delimiter +
    choice``. Generative: ``contexts`` holds the one prompt and ``until`` its stop sequences.
    """

    item: BenchmarkItem
    contexts: tuple[str, ...]
    choices: tuple[str, ...]
    gold: int | None
    delimiter: str = " "
    until: tuple[str, ...] = ()

    @property
    def pairs(self) -> list[tuple[str, str]]:
        """(context, continuation) of every choice."""
        if len(self.contexts) == 1:
            return [(self.contexts[0], self.delimiter + choice) for choice in self.choices]
        return [(context, self.delimiter + self.choices[0]) for context in self.contexts]


def _lettered(item: BenchmarkItem) -> str:
    return "".join(f"\n{LETTERS[i]}. {choice}" for i, choice in enumerate(item.choices or ()))


def _hellaswag_clean(text: str) -> str:
    """lm-eval's HellaSwag preprocessing: WikiHow's bracketed markers dropped (`` [title]`` ends a sentence)."""
    text = text.strip().replace(" [title]", ". ")
    return re.sub(r"\[.*?\]", "", text).replace("  ", " ")


def _hellaswag_context(item: BenchmarkItem) -> str:
    """``activity_label: ctx_a Ctx_b``, cleaned, from the original row (lm-eval's ``process_docs``)."""
    row = item.row
    return _hellaswag_clean(f"{row['activity_label']}: {row['ctx_a']} {str(row['ctx_b']).capitalize()}")


def _choice_texts(row_format: str, item: BenchmarkItem) -> tuple[str, ...]:
    """The choices as the prompt writes them (HellaSwag's endings cleaned like its context)."""
    if row_format == "hellaswag":
        return tuple(_hellaswag_clean(ending) for ending in item.choices or ())
    return tuple(item.choices or ())


def _winogrande_split(sentence: str) -> tuple[str, str]:
    blank = sentence.index("_")
    return sentence[:blank], " " + sentence[blank + 1 :].strip()


# question text of an item (as a few-shot example or the scored item), before the answer
_QUESTION: dict[str, Callable[[BenchmarkItem], str]] = {
    "mmlu": lambda i: f"{i.question.strip()}{_lettered(i)}\nAnswer:",
    "cmmlu": lambda i: f"{i.question.strip()}{_lettered(i)}\n答案：",
    "ceval": lambda i: f"{i.question.strip()}{_lettered(i)}\n答案：",
    "arc": lambda i: f"Question: {i.question}\nAnswer:",
    "openbookqa": lambda i: i.question,
    "commonsense_qa": lambda i: f"Question: {i.question.strip()}{_lettered(i)}\nAnswer:",
    "hellaswag": _hellaswag_context,
    "piqa": lambda i: f"Question: {i.question}\nAnswer:",
    "gsm8k": lambda i: f"Question: {i.question}\nAnswer:",
    "math": lambda i: f"Problem: {i.question}\nAnswer:",
}
# lm-eval's task descriptions: MMLU names the subject in English, CMMLU and C-Eval in Chinese
_DESCRIPTION: dict[str, Callable[[str], str]] = {
    "mmlu": lambda s: f"The following are multiple choice questions (with answers) about {s.replace('_', ' ')}.\n\n",
    "cmmlu": lambda s: f"以下是关于{CMMLU_SUBJECTS[s]}的单项选择题，请直接给出正确答案的选项。\n\n",
    "ceval": lambda s: f"以下是中国关于{CEVAL_SUBJECTS[s]}的单项选择题，请选出其中的正确答案。\n\n",
}
LETTER_CHOICES = frozenset({"mmlu", "cmmlu", "ceval", "commonsense_qa"})
# A blank line ends an answer too (the few-shot examples are separated by one): a deliberate difference from lm-eval,
# whose gsm8k stops at "Question:" (hendrycks_math at "Problem:") only; tests/integration/test_lm_eval_prompts.py.
STOP = {"gsm8k": ("Question:", "</s>", "<|im_end|>", "\n\n"), "math": ("Problem:", "</s>", "<|im_end|>", "\n\n")}


def description(row_format: str, subject: str) -> str:
    """The description that opens every prompt of a subject ("" for benchmarks without one).

    Raises:
        KeyError: a CMMLU or C-Eval subject without a Chinese name in :mod:`boostqa.eval.subject_names`.
    """
    return _DESCRIPTION[row_format](subject) if row_format in _DESCRIPTION else ""


def _answer_text(row_format: str, item: BenchmarkItem) -> str:
    """What a few-shot example shows after its question."""
    if row_format == "gsm8k":
        return f" {item.reference}"  # the worked solution ending in "#### <answer>"
    if row_format == "math":
        return f" {item.answer}"  # the boxed answer alone: the model learns to answer tersely
    index = item.answer_index or 0
    return " " + (LETTERS[index] if row_format in LETTER_CHOICES else _choice_texts(row_format, item)[index])


def _example(row_format: str, item: BenchmarkItem) -> str:
    if row_format == "winogrande":
        prefix, rest = _winogrande_split(item.question)
        return prefix + item.answer + rest
    return _QUESTION[row_format](item) + _answer_text(row_format, item)


def build_doc(row_format: str, item: BenchmarkItem, shots: Sequence[BenchmarkItem] = ()) -> EvalDoc:
    """The model-ready form of ``item`` with ``shots`` as few-shot examples."""
    prefix = description(row_format, item.config) + "".join(_example(row_format, s) + FEWSHOT_SEPARATOR for s in shots)
    if row_format == "winogrande":
        before, after = _winogrande_split(item.question)
        contexts = tuple(prefix + before + option for option in item.choices or ())
        return EvalDoc(item, contexts, (after.lstrip(),), item.answer_index, delimiter=" ")
    context = prefix + _QUESTION[row_format](item)
    if row_format in STOP:
        return EvalDoc(item, (context,), (), None, until=STOP[row_format])
    letters = row_format in LETTER_CHOICES
    choices = tuple(LETTERS[: len(item.choices or ())]) if letters else _choice_texts(row_format, item)
    return EvalDoc(item, (context,), choices, item.answer_index)
