"""The QC stage's run config: the knobs a DAG run may set, typed once, their defaults and bounds from QcConfig."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, model_validator

from boostqa.benchmarks.loader import SourceKind
from boostqa.qc.decontaminate import DecontaminationConfig
from boostqa.qc.minhash import MinHashConfig
from boostqa.qc.records import QcConfig
from boostqa.stage_config import StageConfig, field_of


class QcRunConfig(StageConfig):
    """The QC params of a synthesis run (the qa_synthesis DAG names them ``qc_<field>``)."""

    stage: ClassVar[str] = "QC"

    ngram: int = field_of(DecontaminationConfig, "ngram")
    threshold: float = field_of(MinHashConfig, "threshold")
    shingle_size: int = field_of(MinHashConfig, "shingle_size")
    num_perm: int = field_of(MinHashConfig, "num_perm")
    bands: int = field_of(MinHashConfig, "bands")
    benchmark_source: SourceKind = field_of(QcConfig, "benchmark_source")
    benchmark_mirror: str = field_of(QcConfig, "benchmark_mirror")
    force: bool = Field(False, description="redo QC of a run that already has its decisions")
    distributed_min_items: int = Field(5000, ge=0, description="on a Ray cluster, runs of at least this many items "
                                       "are screened by Ray Data workers; smaller ones in the job's driver (a Ray "
                                       "Data pipeline costs about 10 s to start, more than 5,000 items take here)")

    def qc_config(self) -> QcConfig:
        """The full QC config: these values over the defaults of everything else."""
        return QcConfig.model_validate({
            "decontamination": {"ngram": self.ngram},
            "minhash": {"threshold": self.threshold, "shingle_size": self.shingle_size, "num_perm": self.num_perm,
                        "bands": self.bands},
            "benchmark_source": self.benchmark_source, "benchmark_mirror": self.benchmark_mirror,
        })

    @model_validator(mode="after")
    def _fits_together(self) -> QcRunConfig:
        self.qc_config()  # e.g. bands must divide num_perm: refused here, with the field's message
        return self
