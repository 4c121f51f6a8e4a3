"""The mixture export's run config: packing params for the exporter and mixing params that dbt applies."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

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
                               "SmolLM2 folder)")
    general_ratio: float = Field(1.0, ge=0, description="general-corpus characters per BoostQA character in the "
                                 "mixture (1.0: the 1:1 default)")
    bucket_cap: int = Field(100000, ge=1, description="the most BoostQA items one discipline x difficulty bucket "
                            "may give")
