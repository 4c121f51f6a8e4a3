"""The mixture export's run config: packing params for the exporter and mixing params that dbt applies."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import Field

from boostqa.settings import get_settings
from boostqa.stage_config import StageConfig


class ExportRunConfig(StageConfig):
    """What one mixture export may vary.

    ``general_ratio`` and ``bucket_cap`` shape dbt's selection: they reach the mixture models as env vars
    ``BOOSTQA_MIXTURE_<FIELD>`` over the dbt vars named in :attr:`DBT_VARS` (whose values in dbt_project.yml, for
    hand runs, a test keeps equal to these defaults).
    """

    stage: ClassVar[str] = "export"
    DBT_VARS: ClassVar[dict[str, str]] = {"general_ratio": "mixture_general_ratio", "bucket_cap": "mixture_bucket_cap"}

    seq_len: int = Field(512, ge=16, description="tokens per packed sequence")
    tokenizer_dir: str = Field("", description="HF folder of the target model (default: the embedded stack's "
                               "SmolLM2 folder); where the Ray job's driver runs")
    general_ratio: float = Field(1.0, ge=0, description="general-corpus tokens per BoostQA token in the mixture, "
                                 "counted with the target tokenizer (1.0: the 1:1 default)")
    bucket_cap: int = Field(100000, ge=1, description="the most BoostQA items one discipline x difficulty bucket "
                            "may give")
    rows_per_shard: int = Field(50000, ge=1, description="samples per exported parquet file")
    sequences_per_shard: int = Field(4096, ge=1, description="packed sequences per token shard (.bin)")
    distributed_min_samples: int = Field(20000, ge=0, description="on a Ray cluster, token counting and export "
                                         "runs of at least this many samples use Ray Data workers; smaller ones run "
                                         "in the job's driver (a Ray Data pipeline costs about 10 s to start)")

    def tokenizer_path(self) -> Path:
        """The target model's HF folder: the param, else the embedded stack's served model."""
        return Path(self.tokenizer_dir) if self.tokenizer_dir else get_settings().served_model_dir
