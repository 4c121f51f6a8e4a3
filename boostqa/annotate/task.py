"""``AnnotationTask``: the versioned annotation prompt, its JSON schema and the parse into annotation records.

Input fields: seed_id, question, options, language. Output fields: discipline (taxonomy enum), difficulty (1-5),
grade_band (must match the difficulty), rationale (one sentence). Prompt version: ``annotate_v1``.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, create_model, model_validator

from boostqa.annotate.taxonomy import Taxonomy
from boostqa.llm.types import LlmOutcome, LlmRequest, Sampling
from boostqa.schemas import AnnotationRecord, LlmQuarantineRecord

PROMPTS = Path(__file__).parent / "prompts"
STAGE = "annotate"


class SeedToAnnotate(BaseModel):
    """The fields of a seed the annotator sees."""

    seed_id: str
    question: str
    options: list[str] | None = None
    language: str


def _output_model(taxonomy: Taxonomy) -> type[BaseModel]:
    """Pydantic model of the reply: labels outside the taxonomy fail validation, never get guessed."""
    bands = dict(taxonomy.grade_band_of)

    def band_matches_difficulty(self: Any) -> Any:
        if self.grade_band != bands[self.difficulty]:
            raise ValueError(f"grade_band {self.grade_band!r} does not match difficulty {self.difficulty} "
                             f"({bands[self.difficulty]!r})")
        return self

    model: type[BaseModel] = create_model(
        "AnnotationOutput",
        __validators__={"band_matches_difficulty": model_validator(mode="after")(band_matches_difficulty)},
        discipline=(Literal[tuple(taxonomy.discipline_ids)], ...),  # type: ignore[valid-type]
        difficulty=(int, Field(ge=1, le=5)),
        grade_band=(Literal[tuple(bands.values())], ...),  # type: ignore[valid-type]
        rationale=(str, Field(min_length=1, max_length=400)),
    )
    return model


class AnnotationTask:
    """Builds requests and parses outcomes; never builds its client (it receives outcomes)."""

    def __init__(self, taxonomy: Taxonomy, prompt_version: str = "annotate_v1", max_tokens: int = 160) -> None:
        self.taxonomy = taxonomy
        self.prompt_version = prompt_version
        self.template = (PROMPTS / f"{prompt_version}.txt").read_text(encoding="utf-8")
        self.sampling = Sampling(temperature=0.0, max_tokens=max_tokens)

    @cached_property
    def output_model(self) -> type[BaseModel]:
        """The reply's pydantic model (taxonomy enums, band consistent with difficulty)."""
        return _output_model(self.taxonomy)

    @cached_property
    def json_schema(self) -> dict[str, Any]:
        """The schema sent as ``response_format`` (guided decoding on vLLM)."""
        return {**self.output_model.model_json_schema(), "additionalProperties": False}

    def build_request(self, seed: SeedToAnnotate) -> LlmRequest:
        """The chat messages for one seed."""
        options = "".join(f"{chr(65 + i)}. {o}\n" for i, o in enumerate(seed.options or []))
        prompt = self.template.format(
            disciplines=", ".join(self.taxonomy.discipline_ids),
            bands="; ".join(f"{d} = {b}" for d, b in sorted(self.taxonomy.grade_band_of.items())),
            language="Chinese" if seed.language == "zh" else "English",
            question=seed.question,
            options=options,
        )
        return LlmRequest(item_id=seed.seed_id, messages=[{"role": "user", "content": prompt}],
                          schema_name="annotation", json_schema=self.json_schema,
                          prompt_version=self.prompt_version, sampling=self.sampling)

    def parse(self, outcome: LlmOutcome, run_id: str) -> AnnotationRecord | LlmQuarantineRecord:
        """An annotation record for valid output, a quarantine record (raw output + reason) otherwise."""
        if outcome.status != "ok" or outcome.parsed is None:
            return LlmQuarantineRecord(run_id=run_id, stage=STAGE, item_id=outcome.item_id,
                                       reason="invalid_output", detail=outcome.reason or "",
                                       raw_output=outcome.raw_text, model=outcome.model,
                                       request_id=outcome.request_id, prompt_version=self.prompt_version)
        labels = outcome.parsed
        return AnnotationRecord(
            item_id=outcome.item_id, category=self.taxonomy.category_of[labels["discipline"]],
            discipline_id=labels["discipline"], difficulty=labels["difficulty"], grade_band=labels["grade_band"],
            rationale=labels["rationale"], annotator_model=outcome.model, prompt_version=self.prompt_version,
            taxonomy_version=self.taxonomy.version, request_id=outcome.request_id, run_id=run_id,
        )
