"""Records of the synthesis stage: jobs (from the dbt plan), synthesized items, and rejects with a reason."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from boostqa.vocabulary import RefineDecision, RejectReason, StrategyName


class SynthesisJob(BaseModel):
    """One new item to make: a seed, a strategy and a target bucket (rows of ``plans/.../synthesis_jobs``)."""

    model_config = ConfigDict(frozen=True)

    job_id: str
    plan_id: str
    strategy: StrategyName
    replica: int = Field(ge=0, description="n-th job of the same seed, strategy and bucket (its sampling seed)")
    seed_id: str
    discipline_id: str
    category_id: str
    language: str
    seed_question: str
    seed_options: list[str] | None = None
    seed_answer: str
    seed_difficulty: int
    target_difficulty: int = Field(ge=1, le=5)
    target_grade_band: str

    @property
    def is_multiple_choice(self) -> bool:
        """Multiple choice when the seed is: the new item keeps the seed's format."""
        return bool(self.seed_options)


class _JobOutcome(BaseModel):
    """What every outcome of a job records: which job, run, plan, strategy, seed and bucket."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    item_id: str
    run_id: str
    plan_id: str
    strategy: StrategyName
    seed_id: str
    discipline_id: str


class SynthesizedItem(_JobOutcome):
    """A synthesized, verified and refined QA item with full lineage (``qa/`` rows)."""

    category_id: str
    language: str
    target_difficulty: int
    verified_difficulty: int
    question: str
    options: list[str] | None
    draft_answer: str
    draft_option: str | None
    refined_answer: str
    refined_option: str | None
    answer_agreement: bool = Field(description="draft and refined answers agree")
    refine_decision: RefineDecision
    reasoning: str | None = Field(description="generator's <think> trace, stripped from the question")
    generator_model: str
    refiner_model: str
    annotator_model: str
    generator_prompt_version: str
    refiner_prompt_version: str
    verify_prompt_version: str
    temperature: float
    top_p: float
    sampling_seed: int
    generator_request_id: str
    refiner_request_id: str
    verify_request_id: str


class SynthesisReject(_JobOutcome):
    """A job that did not become an item: the step, the reason and what the model said."""

    target_difficulty: int
    verified_difficulty: int | None
    step: Literal["generate", "verify", "refine", "solve"]
    reason: RejectReason
    detail: str
    raw_output: str
    model: str
    request_id: str
