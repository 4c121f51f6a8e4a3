"""``AnnotationTask``: the versioned annotation prompt, its JSON schema and the parse into annotation records.

Input fields: seed_id, question, options, language. Output fields: discipline (taxonomy enum), difficulty (1-5),
grade_band (must match the difficulty), rationale (one short sentence). Default prompt version: ``annotate_v3``.

The JSON schema pins each difficulty to its band (one ``anyOf`` branch per band) and bounds the rationale with a
pattern, so guided decoding cannot produce a contradiction or a runaway string; the pydantic model checks the same
rules again for servers without guided decoding.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any, Literal

from pydantic import BaseModel, Field, create_model, model_validator

from boostqa.annotate.taxonomy import Taxonomy
from boostqa.llm.delimit import DATA_NOTE, as_data
from boostqa.llm.schema_fields import text_field
from boostqa.llm.types import LlmOutcome, LlmRequest, Sampling
from boostqa.package_data import package_path
from boostqa.schemas import AnnotationRecord, LlmQuarantineRecord

PROMPTS = package_path("boostqa.annotate", "prompts")  # package data, versioned by file name
STAGE = "annotate"
DEFAULT_PROMPT_VERSION = "annotate_v3"
RATIONALE_CHARS = 80


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

    # Literal types built from the taxonomy at run time: a type checker sees only a typing form.
    discipline: Any = Literal[tuple(taxonomy.discipline_ids)]
    grade_band: Any = Literal[tuple(bands.values())]
    # pydantic types __validators__ as plain callables, but its decorators return descriptor proxies.
    validators: dict[str, Any] = {"band_matches_difficulty": model_validator(mode="after")(band_matches_difficulty)}
    model: type[BaseModel] = create_model(
        "AnnotationOutput",
        __validators__=validators,
        discipline=(discipline, ...),
        difficulty=(int, Field(ge=1, le=5)),
        grade_band=(grade_band, ...),
        rationale=(str, Field(min_length=1, max_length=RATIONALE_CHARS)),
    )
    return model


def _reply_schema(taxonomy: Taxonomy) -> dict[str, Any]:
    """JSON schema of the reply: one branch per difficulty with its band as a constant, a bounded rationale."""
    def branch(difficulty: int, band: str) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {
                "discipline": {"type": "string", "enum": taxonomy.discipline_ids},
                "difficulty": {"type": "integer", "const": difficulty},
                "grade_band": {"type": "string", "const": band},
                "rationale": text_field(1, RATIONALE_CHARS, plain=True),
            },
            "required": ["discipline", "difficulty", "grade_band", "rationale"],
            "additionalProperties": False,
        }

    return {"anyOf": [branch(d, b) for d, b in sorted(taxonomy.grade_band_of.items())]}


class AnnotationTask:
    """Builds requests and parses outcomes; never builds its client (it receives outcomes).

    ``samples`` > 1 asks for that many labels per item (sampled at ``sample_temperature`` with a per-sample seed,
    so replicas differ and reruns replay from the cache); dbt takes the consensus and measures the agreement.
    One sample is greedy.
    """

    def __init__(self, taxonomy: Taxonomy, prompt_version: str = DEFAULT_PROMPT_VERSION, max_tokens: int = 120,
                 samples: int = 1, sample_temperature: float = 0.7) -> None:
        if samples < 1:
            raise ValueError(f"samples must be at least 1, got {samples}")
        self.taxonomy = taxonomy
        self.prompt_version = prompt_version
        self.template = (PROMPTS / f"{prompt_version}.txt").read_text(encoding="utf-8")
        self.samples = samples
        self.sampling = [Sampling(temperature=0.0, max_tokens=max_tokens)] if samples == 1 else [
            Sampling(temperature=sample_temperature, max_tokens=max_tokens, seed=index) for index in range(samples)]

    @cached_property
    def output_model(self) -> type[BaseModel]:
        """The reply's pydantic model (taxonomy enums, band consistent with difficulty)."""
        return _output_model(self.taxonomy)

    @cached_property
    def json_schema(self) -> dict[str, Any]:
        """The schema sent as ``response_format`` (guided decoding on vLLM)."""
        return _reply_schema(self.taxonomy)

    def build_requests(self, seed: SeedToAnnotate) -> list[LlmRequest]:
        """One request per configured sample, in sample order."""
        return [self.build_request(seed, index) for index in range(self.samples)]

    def build_request(self, seed: SeedToAnnotate, sample_index: int = 0) -> LlmRequest:
        """The chat messages for one seed (and one sample of it)."""
        options = "".join(f"{chr(65 + i)}. {as_data(o)}\n" for i, o in enumerate(seed.options or []))
        prompt = self.template.format(
            data_note=DATA_NOTE,
            disciplines=", ".join(self.taxonomy.discipline_ids),
            bands="; ".join(f"{d} = {b}" for d, b in sorted(self.taxonomy.grade_band_of.items())),
            language="Chinese" if seed.language == "zh" else "English",
            rationale_chars=RATIONALE_CHARS,
            question=as_data(seed.question),
            options=options,
        )
        return LlmRequest(item_id=seed.seed_id, messages=[{"role": "user", "content": prompt}],
                          schema_name="annotation", json_schema=self.json_schema,
                          prompt_version=self.prompt_version, sampling=self.sampling[sample_index])

    def parse(self, outcome: LlmOutcome, run_id: str, sample_index: int = 0) -> AnnotationRecord | LlmQuarantineRecord:
        """An annotation record for valid output, a quarantine record (raw output + reason) otherwise."""
        if outcome.status != "ok" or outcome.parsed is None:
            detail = outcome.reason or ""
            return LlmQuarantineRecord(run_id=run_id, stage=STAGE, item_id=outcome.item_id,
                                       reason=outcome.failure_reason("invalid_output"),
                                       detail=f"sample {sample_index}: {detail}" if self.samples > 1 else detail,
                                       raw_output=outcome.raw_text, model=outcome.model,
                                       request_id=outcome.request_id, prompt_version=self.prompt_version)
        labels = outcome.parsed
        return AnnotationRecord(
            item_id=outcome.item_id, category=self.taxonomy.category_of[labels["discipline"]],
            discipline_id=labels["discipline"], difficulty=labels["difficulty"], grade_band=labels["grade_band"],
            rationale=labels["rationale"], annotator_model=outcome.model, prompt_version=self.prompt_version,
            taxonomy_version=self.taxonomy.version, request_id=outcome.request_id, run_id=run_id,
            sample_index=sample_index,
        )
