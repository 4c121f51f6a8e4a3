"""The annotate stage's run config: the seed_annotate DAG's params, typed and defaulted once."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from boostqa.annotate.task import DEFAULT_PROMPT_VERSION, AnnotationTask
from boostqa.annotate.taxonomy import Taxonomy
from boostqa.stage_config import StageConfig


class AnnotateRunConfig(StageConfig):
    """What one annotate run may vary: how many seeds, shard size, labels per seed, prompt version."""

    stage: ClassVar[str] = "annotate"

    limit: int | None = Field(None, ge=1, description="annotate at most this many seeds")
    shard_size: int = Field(64, ge=1, description="seeds per resumable shard")
    samples: int = Field(1, ge=1, le=9, description="labels per seed; several give a consensus and an agreement "
                         "rate in dbt")
    prompt_version: str = Field(DEFAULT_PROMPT_VERSION, description="prompt template version")

    def task(self, taxonomy: Taxonomy) -> AnnotationTask:
        """The annotation task these params describe."""
        return AnnotationTask(taxonomy, prompt_version=self.prompt_version, samples=self.samples)
