"""Operators of the ``mixture_export`` DAG: stage the general corpus, count tokens, export and publish the mixture."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException

from boostqa.errors import ConfigError
from boostqa.export.config import ExportRunConfig
from boostqa.export.general import load_general_sources, stage_general_corpus
from boostqa.export.mixture import MixtureExportResult, publish_mixture, published_manifest
from boostqa.export.token_counts import TokenCountResult
from boostqa.jobs.spec import JobSpec, LakeLocation
from boostqa_airflow.constants import S3_CONN_ID
from boostqa_airflow.failfast import fails_fast
from boostqa_airflow.hooks.lake import LakeHook
from boostqa_airflow.operators.ray_job import RayJobOperator
from boostqa_airflow.params import validated
from boostqa_airflow.runs import hand_over


@fails_fast
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


class CountTokensOperator(RayJobOperator):
    """Count the mixture candidates' tokens with the target tokenizer, as a job on the Ray cluster.

    Only what no earlier run counted with that tokenizer is tokenized. Returns the tokenizer's sha256 (which dbt's
    selection joins the counts by) and how many items and documents were counted.
    """

    run_config: ClassVar[type[ExportRunConfig]] = ExportRunConfig  # the DAG's params derive from it

    def job_spec(self) -> JobSpec:
        config = validated(self.run_config, self.stage_params)
        return JobSpec(stage="count_tokens", run_id=self.run_id,
                       lake=LakeLocation.of(LakeHook(self.lake_conn_id).get_config()),
                       params=config.model_dump(mode="json"))

    def summarize(self, result: dict[str, Any]) -> None:
        counted = TokenCountResult.model_validate(result)
        self.log.info("token counts %s (tokenizer sha256 %s): %d BoostQA items and %d documents counted, %d counted "
                      "before", counted.run_id, counted.tokenizer_sha256, counted.boostqa, counted.general,
                      counted.reused)


@fails_fast
class ExportMixtureOperator(RayJobOperator):
    """Tokenize, pack and export the mixture version dbt selected (parquet + card + packed + manifest) on Ray.

    The version (``run_id``) is this DAG run's own (a new one per run). A complete version is never exported again:
    a retry after the export finished returns it untouched without submitting a job (the job checks as well).
    """

    run_config: ClassVar[type[ExportRunConfig]] = ExportRunConfig  # the DAG's params derive from it

    def job_spec(self) -> JobSpec:
        config = validated(self.run_config, self.stage_params)
        return JobSpec(stage="export", run_id=self.run_id,
                       lake=LakeLocation.of(LakeHook(self.lake_conn_id).get_config()),
                       params=config.model_dump(mode="json"))

    def execute(self, context: Any) -> dict[str, Any] | None:
        validated(self.run_config, self.stage_params)  # bad params fail first, complete version or not
        published = published_manifest(LakeHook(self.lake_conn_id).get_conn(), self.run_id)
        if published is not None:
            self.log.info("mixture %s is already complete (manifest sha256 %s): not exported again", self.run_id,
                          published[1])
            return {"mixture_version": self.run_id, "manifest_sha256": published[1], "reused": True}
        return super().execute(context)

    def summarize(self, result: dict[str, Any]) -> None:
        if result.get("reused"):
            self.log.info("mixture %s was already complete: not exported again", result["mixture_version"])
            return
        export = MixtureExportResult.model_validate(result)
        self.log.info("mixture %s exported: %d samples (%d BoostQA, %d general), %d tokens, %d packed sequences -> %s",
                      export.mixture_version, export.samples, export.boostqa_samples, export.general_samples,
                      export.tokens, export.packed_sequences, export.manifest_uri)


@fails_fast
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
