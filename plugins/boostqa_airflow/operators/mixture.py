"""Operators of the ``mixture_export`` DAG: stage the general corpus; export the mixture dbt selected."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException

from boostqa.errors import ConfigError
from boostqa.export.config import ExportRunConfig
from boostqa.export.general import load_general_sources, stage_general_corpus
from boostqa.export.mixture import export_mixture, load_selection, publish_mixture, published_manifest
from boostqa.export.packing import load_target_tokenizer
from boostqa.settings import get_settings
from boostqa_airflow.constants import S3_CONN_ID
from boostqa_airflow.hooks.lake import LakeHook
from boostqa_airflow.params import validated
from boostqa_airflow.runs import hand_over


class StageGeneralCorpusOperator(BaseOperator):
    """Write every enabled general-corpus source to the lake; returns documents per source."""

    def __init__(self, *, lake_conn_id: str = S3_CONN_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.lake_conn_id = lake_conn_id

    def execute(self, context: Any) -> dict[str, int]:
        try:
            sources = load_general_sources()
        except ConfigError as exc:
            raise AirflowFailException(str(exc)) from exc
        store = LakeHook(self.lake_conn_id).get_conn()
        return {source.name: stage_general_corpus(store, source) for source in sources}


class ExportMixtureOperator(BaseOperator):
    """Tokenize, pack and export the mixture version dbt selected (parquet + card + packed + manifest).

    The version is this DAG run's own (a new one per run); a retry after the export finished returns the complete
    version untouched (versions are immutable).
    """

    run_config: ClassVar[type[ExportRunConfig]] = ExportRunConfig  # the DAG's params derive from it
    template_fields: Sequence[str] = ("mixture_version", "stage_params", "out_dir")

    def __init__(self, *, mixture_version: str, stage_params: Mapping[str, Any] | None = None, out_dir: str = "",
                 lake_conn_id: str = S3_CONN_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mixture_version, self.stage_params = mixture_version, dict(stage_params or {})
        self.out_dir, self.lake_conn_id = out_dir, lake_conn_id

    def execute(self, context: Any) -> dict[str, Any]:
        config = validated(self.run_config, self.stage_params)
        settings = get_settings()
        store = LakeHook(self.lake_conn_id).get_conn()
        published = published_manifest(store, self.mixture_version)
        if published is not None:
            self.log.info("mixture %s is already complete (manifest sha256 %s): not exported again",
                          self.mixture_version, published[1])
            return {"mixture_version": self.mixture_version, "manifest_sha256": published[1], "reused": True}
        tokenizer_dir = Path(config.tokenizer_dir) if config.tokenizer_dir else settings.served_model_dir
        out_dir = Path(self.out_dir) if self.out_dir else settings.state_dir / "mixtures" / self.mixture_version
        try:
            tokenizer = load_target_tokenizer(tokenizer_dir)
        except ConfigError as exc:
            raise AirflowFailException(f"bad export parameters: {exc}") from exc
        result = export_mixture(store, load_selection(store, self.mixture_version), self.mixture_version, tokenizer,
                                out_dir, seq_len=config.seq_len)
        return result.model_dump()


class PublishMixtureOperator(BaseOperator):
    """Point ``mixtures/latest.json`` at this run's complete version.

    Its id and manifest sha256 go in the outlets' event extra (what ``midtrain`` trains on).
    """

    template_fields: Sequence[str] = ("mixture_version",)

    def __init__(self, *, mixture_version: str, lake_conn_id: str = S3_CONN_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mixture_version, self.lake_conn_id = mixture_version, lake_conn_id

    def execute(self, context: Any) -> dict[str, Any]:
        pointer = publish_mixture(LakeHook(self.lake_conn_id).get_conn(), self.mixture_version)
        extra = {"mixture_version": self.mixture_version, "manifest_sha256": pointer["manifest_sha256"]}
        hand_over(context, self.outlets, extra)
        self.log.info("mixture %s published: %d samples, %d tokens", self.mixture_version, pointer["samples"],
                      pointer["tokens"])
        return extra
