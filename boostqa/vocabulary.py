"""Every closed set of codes the pipeline writes (reasons, steps, decisions), once; dbt gets them generated.

Python types the codes from here; ``dbt_project/macros/vocabulary.sql`` is rendered from :data:`VOCABULARIES`
(``make vocabulary``), and the funnel pivots, the ``in_vocabulary`` tests and the CLI summary read that list, so
adding a code is one line here plus the regenerated macro (``tests/boostqa/test_vocabulary.py`` fails on drift).
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Literal, get_args


class QuarantineReason(StrEnum):
    """Why ingest quarantined a source row; the first failing check wins."""

    INVALID_UTF8 = "invalid_utf8"
    UNPARSEABLE_ROW = "unparseable_row"
    UNKNOWN_COLUMNS = "unknown_columns"
    MISSING_QUESTION = "missing_question"
    MISSING_ANSWER = "missing_answer"
    MISSING_LANGUAGE = "missing_language"  # its mapped column is absent or empty, and the source sets no constant
    MISSING_LICENSE = "missing_license"
    WRONG_TYPE = "wrong_type"
    TEXT_TOO_LONG = "text_too_long"
    INVALID_OPTIONS = "invalid_options"
    INVALID_VALUE = "invalid_value"
    DUPLICATE_SOURCE_ROW_ID = "duplicate_source_row_id"
    DUPLICATE_CONTENT = "duplicate_content"
    BENCHMARK_CONTAMINATED = "benchmark_contaminated"


Language = Literal["en", "zh"]
Role = Literal["annotator", "generator", "refiner", "solver"]
Corpus = Literal["boostqa", "general"]

AnnotationRejectReason = Literal[
    "invalid_output",  # the annotator's output stayed invalid after its re-asks
    "llm_rejected",  # the server refused the request for good (HTTP 400/413/422: e.g. a context overflow)
    "truncated",  # the reply stopped at max_tokens (finish_reason length)
]

StrategyName = Literal["multi_grade", "high_difficulty"]
RejectReason = Literal[
    "invalid_output",  # the generator's output stayed invalid after the re-ask budget
    "verify_invalid",  # the re-annotation of the new question stayed invalid
    "difficulty_degraded",  # the new question was annotated below its target difficulty (minus the tolerance)
    "refine_invalid",  # the refiner's output stayed invalid
    "refine_disagreement",  # draft and refined answers disagree and the policy drops such items
    "refine_unresolved",  # a second refiner sample did not confirm the first
    "llm_rejected",  # the server refused a request of the job for good (HTTP 400/413/422), at its ``step``
    "truncated",  # a reply of the job stopped at max_tokens (finish_reason length), at its ``step``
    "solved_too_often",  # the solver solved it so often that its empirical band fell below the target (solve step)
    "solve_invalid",  # no solver sample was usable, so a solve-rate policy could not verify it
]
RefineDecision = Literal[
    "agreed",  # the refined answer matches the draft
    "kept_refined",  # they disagree and the policy keeps the refiner's answer
    "confirmed_by_second_sample",  # they disagree and a second refiner sample confirmed the first
]

QcStep = Literal["filter", "decontaminate", "exact_dedup", "near_dedup"]
QcFilterReason = Literal[  # one per quality filter, in the order the filters run (boostqa/qc/filters.py)
    "missing_answer", "malformed_options", "length_out_of_bounds", "reasoning_leftover", "template_leftover",
    "prompt_injection", "refusal", "hedging", "language_mismatch", "repeated_ngrams",
]
QcReason = Literal[QcFilterReason, "benchmark_contaminated", "exact_duplicate", "near_duplicate"]

# name -> codes in order (the order of the pivot columns a mart derives from it)
VOCABULARIES: dict[str, tuple[str, ...]] = {
    "ingest_quarantine_reason": tuple(reason.value for reason in QuarantineReason),
    "language": get_args(Language),
    "llm_role": get_args(Role),
    "corpus": get_args(Corpus),
    "annotation_reject_reason": get_args(AnnotationRejectReason),
    "synthesis_strategy": get_args(StrategyName),
    "synthesis_reject_reason": get_args(RejectReason),
    "refine_decision": get_args(RefineDecision),
    "qc_step": get_args(QcStep),
    "qc_filter_reason": get_args(QcFilterReason),
    "qc_reason": get_args(QcReason),
}

MACRO_HEADER = "{#- Generated from boostqa/vocabulary.py by `make vocabulary`: do not edit by hand. -#}\n"


def dbt_macro() -> str:
    """The dbt macro ``vocabulary(name)`` returning each vocabulary's codes, as ``make vocabulary`` writes it."""
    entries = "\n".join(f"        '{name}': [{', '.join(repr(code) for code in codes)}],"
                        for name, codes in VOCABULARIES.items())
    return (f"{MACRO_HEADER}{{% macro vocabulary(name) -%}}\n"
            f"    {{%- set vocabularies = {{\n{entries}\n    }} -%}}\n"
            "    {%- if name not in vocabularies -%}\n"
            "        {{ exceptions.raise_compiler_error('unknown vocabulary ' ~ name ~ '; known: '"
            " ~ vocabularies.keys() | join(', ')) }}\n"
            "    {%- endif -%}\n"
            "    {{ return(vocabularies[name]) }}\n"
            "{%- endmacro %}\n")


if __name__ == "__main__":  # python -m boostqa.vocabulary OUT: (re)write the dbt macro
    Path(sys.argv[1]).write_text(dbt_macro())
