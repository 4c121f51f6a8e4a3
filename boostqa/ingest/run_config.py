"""The ingest stage's run config: the seed_ingest DAG's params, typed and defaulted once."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field, model_validator

from boostqa.benchmarks.loader import BenchmarkSource, SourceKind
from boostqa.settings import get_settings
from boostqa.stage_config import StageConfig


class IngestRunConfig(StageConfig):
    """Which seed sources file a run reads, and how many rows go in one parquet part."""

    stage: ClassVar[str] = "ingest"

    sources_file: str | None = Field(None, description="seed sources YAML (default: shipped)")
    rows_per_part: int = Field(100_000, ge=1, description="rows per parquet part of a source's partition")
    benchmark_source: SourceKind = Field("local", description="benchmarks seeds are decontaminated against: our "
                                         "editions, the Hub (needs network) or a mirror of the Hub repositories")
    benchmark_mirror: str = Field("", description="the mirror's folder or s3:// prefix (source 'mirror'; an s3:// "
                                  "prefix is read with the lake's connection)")

    @model_validator(mode="after")
    def _source_fits(self) -> IngestRunConfig:
        self.benchmarks()
        return self

    def benchmarks(self) -> BenchmarkSource:
        """Where the benchmark items seeds are checked against come from."""
        return BenchmarkSource(kind=self.benchmark_source, mirror=self.benchmark_mirror)

    def sources_path(self) -> Path:
        """The sources file: the param, else ``BOOSTQA_SEED_SOURCES``."""
        return Path(self.sources_file) if self.sources_file else get_settings().seed_sources
