"""The evaluation's run config: the benchmark_eval DAG's params, typed and defaulted once."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from boostqa.benchmarks.loader import BenchmarkSource, SourceKind
from boostqa.benchmarks.registry import BY_NAME
from boostqa.eval.runner import ModelRuntime
from boostqa.eval.tasks import EvalTaskSettings
from boostqa.stage_config import StageConfig


class EvalRunConfig(StageConfig):
    """Which models to score, on which benchmarks, and how.

    The model is a given folder or server, else the triggering checkpoint; the baseline is scored beside it.
    """

    stage: ClassVar[str] = "evaluation"

    model_id: str = Field("", description="name of the model's results (with hf_folder)")
    hf_folder: str = Field("", description="HF folder to score; empty: the triggering checkpoint")
    server_url: str = Field("", description="OpenAI-compatible server for generative benchmarks")
    served_model: str = Field("", description="model name on that server")
    with_baseline: bool = Field(True, description="also score the baseline model")
    baseline_hf_folder: str = Field("", description="baseline HF folder (default: the embedded stack's base model)")
    benchmarks: list[str] = Field(default_factory=list, description="registry names (comma-separated); empty: all 12")
    limit: int | None = Field(None, ge=1, description="items per benchmark; null: all")
    num_fewshot: dict[str, int] = Field(default_factory=dict, description='few-shot overrides, e.g. {"mmlu": 0}')
    max_new_tokens: int = Field(256, ge=1, description="generation budget (GSM8K, MATH)")
    source: SourceKind = Field("local", description="benchmark rows: our editions, the Hub (network), or a mirror "
                               "of the Hub repositories")
    mirror: str = Field("", description="the mirror's folder or s3:// prefix (source 'mirror'; an s3:// prefix is "
                        "read with the lake's connection)")
    model_device: Literal["auto", "cpu", "cuda"] = Field("auto", description="where an HF model runs: auto takes "
                                                          "the GPU when there is one")
    model_dtype: Literal["auto", "float32", "bfloat16", "float16"] = Field("auto", description="auto: bf16 on a "
                                                                           "GPU, fp32 on the CPU")
    batch_size: int | None = Field(8, ge=1, description="model-side batch; null: the largest that fits the GPU")
    server_models: list[str] = Field(default_factory=list, description="model ids (baseline, ...) whose generative "
                                     "benchmarks go to the boostqa_llm_eval connection's server, which must serve "
                                     "those weights (comma-separated)")

    @field_validator("benchmarks")
    @classmethod
    def _registered(cls, names: list[str]) -> list[str]:
        unknown = [name for name in names if name not in BY_NAME]
        if unknown:
            raise ValueError(f"unknown benchmarks {unknown}; registered: {', '.join(BY_NAME)}")
        return names

    @model_validator(mode="after")
    def _source_fits(self) -> EvalRunConfig:
        self.benchmark_source()
        return self

    def benchmark_source(self) -> BenchmarkSource:
        """Where the benchmark rows come from."""
        return BenchmarkSource(kind=self.source, mirror=self.mirror)

    def benchmark_names(self) -> list[str]:
        """The benchmarks to run: the chosen ones, else every registered one."""
        return list(self.benchmarks) or list(BY_NAME)

    def runtime(self) -> ModelRuntime:
        """How an HF model side runs."""
        return ModelRuntime(device=self.model_device, dtype=self.model_dtype, batch_size=self.batch_size)

    def task_settings(self) -> EvalTaskSettings:
        """The per-run knobs of the benchmark tasks."""
        return EvalTaskSettings(num_fewshot=self.num_fewshot, limit=self.limit, max_new_tokens=self.max_new_tokens)
