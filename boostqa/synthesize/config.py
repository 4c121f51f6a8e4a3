"""The synthesis stage's run config: the qa_synthesis DAG's params, typed and defaulted once."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from boostqa.annotate.task import AnnotationTask
from boostqa.annotate.taxonomy import Taxonomy
from boostqa.llm.budget import CAPS
from boostqa.stage_config import StageConfig
from boostqa.synthesize.refine import DisagreementPolicy, RefineTask
from boostqa.synthesize.runner import Synthesizer
from boostqa.synthesize.solve import SolveTask, VerifyPolicy
from boostqa.synthesize.strategies import default_strategies
from boostqa.synthesize.verify import DifficultyCheck
from boostqa.vocabulary import Role


class SynthesisRunConfig(StageConfig):
    """What one synthesis run may vary: which plan, how much, sampling, reply budgets, refinement, spend caps."""

    stage: ClassVar[str] = "synthesis"

    plan_id: str = Field("", description="plan whose jobs to run; empty: the plan of the triggering boostqa_plan "
                         "event, else the one plans/latest.json points at")
    limit: int | None = Field(None, ge=1, description="take at most this many jobs")
    shard_size: int = Field(32, ge=1, description="jobs per mapped, resumable shard")
    difficulty_tolerance: int = Field(0, ge=0, le=4, description="levels below its target a new question may be "
                                      "annotated")
    refine_policy: DisagreementPolicy = Field("second_sample", description="when draft and refined answers disagree")
    verify_policy: VerifyPolicy = Field("label", description="what verifies difficulty: the annotator's label, the "
                                        "solver's solve rate (boostqa_llm_solver samples solve_samples answers per "
                                        "item), or both; any policy but label records solve rates")
    solve_samples: int = Field(4, ge=1, le=64, description="solver samples per item (solve_rate, both)")
    solve_temperature: float = Field(0.8, ge=0, le=2, description="solver sampling")
    solver_max_tokens: int = Field(400, ge=16, description="reply budget of a solver sample")
    temperature: float = Field(0.8, ge=0, le=2, description="generator sampling")
    top_p: float = Field(0.95, ge=0, le=1, description="generator sampling")
    generator_max_tokens: int = Field(400, ge=16, description="reply budget of a draft; reasoning models "
                                      "(DeepSeek-R1) need thousands: their trace counts")
    refiner_max_tokens: int = Field(400, ge=16, description="reply budget of a refinement")
    plain_text: bool = Field(False, description="one-line text fields bounded by a pattern: for small local models "
                             "that run away (no LaTeX); leave off for production models")
    # The spend guard (docs/llm.md): null falls back to BOOSTQA_BUDGET__SYNTHESIZE_<RUN|DAY>_<TOKENS|USD>.
    run_tokens: int | None = Field(None, ge=0, description="token cap of this run")
    run_usd: float | None = Field(None, ge=0, description="USD cap of this run (llm_prices seed)")
    day_tokens: int | None = Field(None, ge=0, description="token cap of all runs today")
    day_usd: float | None = Field(None, ge=0, description="USD cap of all runs today")

    def budget_overrides(self) -> dict[str, int | float]:
        """The caps this run sets; the others keep their ``BOOSTQA_BUDGET__*`` settings."""
        caps: dict[str, int | float | None] = {cap: getattr(self, cap) for cap in CAPS}
        return {cap: value for cap, value in caps.items() if value is not None}

    def roles(self) -> tuple[Role, ...]:
        """The LLM roles a run calls: the solver only when a solve-rate policy samples it."""
        return ("generator", "annotator", "refiner") + (() if self.verify_policy == "label" else ("solver",))

    def synthesizer(self, taxonomy: Taxonomy) -> Synthesizer:
        """The generate -> verify -> refine (-> solve) pipeline these params describe."""
        return Synthesizer(
            strategies=default_strategies(self.temperature, self.top_p, self.plain_text, self.generator_max_tokens),
            taxonomy=taxonomy, check=DifficultyCheck(AnnotationTask(taxonomy), self.difficulty_tolerance),
            refine=RefineTask(max_tokens=self.refiner_max_tokens, plain_text=self.plain_text),
            policy=self.refine_policy, verify_policy=self.verify_policy,
            solve=None if self.verify_policy == "label" else SolveTask(
                samples=self.solve_samples, temperature=self.solve_temperature, max_tokens=self.solver_max_tokens,
                plain_text=self.plain_text),
        )
