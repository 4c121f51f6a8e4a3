"""Operators of the ``mixture_export`` DAG: stage the general corpus; export the mixture dbt selected."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException

from boostqa.errors import ConfigError
from boostqa.export.general import load_general_sources, stage_general_corpus
from boostqa.export.mixture import export_mixture, load_selection
from boostqa.export.packing import load_target_tokenizer
from boostqa.settings import get_settings
from boostqa.stack.llm_server import model_dir
from boostqa_airflow.constants import S3_CONN_ID
from boostqa_airflow.hooks.lake import LakeHook


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
    """Tokenize, pack and export the mixture version dbt selected (parquet + card + packed + manifest)."""

    template_fields: Sequence[str] = ("mixture_version", "seq_len", "tokenizer_dir", "out_dir")

    def __init__(self, *, mixture_version: str = "v1", seq_len: int | str = 512, tokenizer_dir: str = "",
                 out_dir: str = "", lake_conn_id: str = S3_CONN_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mixture_version, self.seq_len = mixture_version, seq_len
        self.tokenizer_dir, self.out_dir = tokenizer_dir, out_dir
        self.lake_conn_id = lake_conn_id

    def execute(self, context: Any) -> dict[str, Any]:
        settings = get_settings()
        tokenizer_dir = Path(self.tokenizer_dir) if self.tokenizer_dir else model_dir(settings)
        out_dir = Path(self.out_dir) if self.out_dir else settings.state_dir / "mixtures" / self.mixture_version
        try:
            tokenizer = load_target_tokenizer(tokenizer_dir)
            seq_len = int(self.seq_len)
        except (ConfigError, ValueError) as exc:
            raise AirflowFailException(f"bad export parameters: {exc}") from exc
        store = LakeHook(self.lake_conn_id).get_conn()
        result = export_mixture(store, load_selection(store, self.mixture_version), self.mixture_version, tokenizer,
                                out_dir, seq_len=seq_len)
        return result.model_dump()
