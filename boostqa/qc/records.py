"""Records of the QC stage: the item view QC checks, its knobs, and a removal with its reason."""

from __future__ import annotations

from typing import get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

from boostqa.benchmarks.loader import BenchmarkSource, SourceKind
from boostqa.qc.decontaminate import DecontaminationConfig
from boostqa.qc.minhash import MinHashConfig
from boostqa.vocabulary import QcReason, QcStep

STEP_ORDER: tuple[QcStep, ...] = get_args(QcStep)


class QcItem(BaseModel):
    """What QC looks at in a synthesized item (a projection of a ``qa/`` row)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    item_id: str
    run_id: str
    strategy: str
    discipline_id: str
    target_difficulty: int
    verified_difficulty: int
    language: str
    question: str
    options: list[str] | None = None
    refined_answer: str | None = None
    refined_option: str | None = None
    reasoning: str | None = None


class FilterConfig(BaseModel):
    """Bounds of the row-level filters."""

    question_min_chars: int = Field(default=12, ge=1)
    question_max_chars: int = Field(default=4000, ge=1)
    answer_max_chars: int = Field(default=8000, ge=1)
    repeated_ngram: int = Field(default=3, ge=1, description="n-gram size of the repetition check")
    max_repeated_fraction: float = Field(default=0.3, gt=0, le=1, description="share of repeated n-grams above "
                                                                               "which text counts as degenerate")
    repetition_min_tokens: int = Field(default=12, ge=1, description="shorter texts skip the repetition check")


class QcConfig(BaseModel):
    """Every QC knob, with defaults; DAG params override fields of it."""

    filters: FilterConfig = Field(default_factory=FilterConfig)
    decontamination: DecontaminationConfig = Field(default_factory=DecontaminationConfig)
    minhash: MinHashConfig = Field(default_factory=MinHashConfig)
    benchmark_source: SourceKind = Field(default="local", description="benchmarks to check against: our editions, "
                                         "the Hub (needs network) or a mirror of the Hub repositories")
    benchmark_mirror: str = Field(default="", description="the mirror's folder or s3:// prefix (source 'mirror'; an "
                                  "s3:// prefix is read with the lake's connection)")

    @model_validator(mode="after")
    def _source_fits(self) -> QcConfig:
        self.benchmarks()
        return self

    def benchmarks(self) -> BenchmarkSource:
        """Where the benchmark items to check against come from."""
        return BenchmarkSource(kind=self.benchmark_source, mirror=self.benchmark_mirror)


class Removal(BaseModel):
    """Why an item left the corpus. ``rank`` 1 is its first reason; filters report every reason they find."""

    model_config = ConfigDict(frozen=True)

    item_id: str
    run_id: str
    step: QcStep
    reason: QcReason
    rank: int = Field(ge=1)
    detail: str
    duplicate_of: str | None = None
    similarity: float | None = None
    benchmark: str | None = None
    benchmark_item_id: str | None = None
