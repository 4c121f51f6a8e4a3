"""Operator of the ``seed_annotate`` DAG: annotate the seeds no earlier run has labelled."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException

from boostqa.annotate.runner import annotate_seeds, seeds_to_annotate
from boostqa.annotate.task import DEFAULT_PROMPT_VERSION, STAGE, AnnotationTask
from boostqa.annotate.taxonomy import load_taxonomy
from boostqa.errors import ConfigError
from boostqa.llm.budget import BudgetExhausted, SpendGuard
from boostqa.llm.prices import prices_from_settings
from boostqa.llm.projection import preflight_stage
from boostqa_airflow.constants import S3_CONN_ID
from boostqa_airflow.hooks.lake import LakeHook
from boostqa_airflow.hooks.llm import LlmHook
from boostqa_airflow.runs import hand_over, run_id_template

__all__ = ["DEFAULT_PROMPT_VERSION", "AnnotateSeedsOperator"]


class AnnotateSeedsOperator(BaseOperator):
    """Label pending seeds with discipline x difficulty through the annotator role; resumable by shard."""

    template_fields: Sequence[str] = ("run_id", "prompt_version", "limit", "shard_size", "samples")

    def __init__(self, *, run_id: str = run_id_template("annotate"), prompt_version: str = DEFAULT_PROMPT_VERSION,
                 limit: int | str | None = None, shard_size: int | str = 64, samples: int | str = 1,
                 lake_conn_id: str = S3_CONN_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.run_id = run_id
        self.prompt_version = prompt_version
        self.limit = limit
        self.shard_size = shard_size
        self.samples = samples
        self.lake_conn_id = lake_conn_id

    @cached_property
    def lake(self) -> LakeHook:
        return LakeHook(self.lake_conn_id)

    @cached_property
    def llm(self) -> LlmHook:
        return LlmHook("annotator")

    def execute(self, context: Any) -> dict[str, Any]:
        try:
            limit = int(self.limit) if self.limit is not None and self.limit not in ("", "None") else None
            shard_size = int(self.shard_size)
            task = AnnotationTask(load_taxonomy(), prompt_version=self.prompt_version, samples=int(self.samples))
        except (ValueError, FileNotFoundError) as exc:
            raise AirflowFailException(f"bad annotate parameters: {exc}") from exc
        store = self.lake.get_conn()
        seeds = seeds_to_annotate(store, self.run_id, task.prompt_version, limit)
        self.log.info("%d seeds to annotate in run %s (shards of %d)", len(seeds), self.run_id, shard_size)
        client = self.llm.get_client(self.run_id)
        # The spend guard: the projection (seeds x samples, tokens per seed from history) must fit the run's and the
        # day's caps before any call (BOOSTQA_BUDGET__ANNOTATE_*); during the run the client stops at the cap.
        try:
            budget, _ = preflight_stage(store, STAGE, self.run_id, len(seeds) * task.samples,
                                        {"annotator": client.endpoint.model})
        except ConfigError as exc:
            raise AirflowFailException(str(exc)) from exc
        client.guard = SpendGuard.from_lake(store, STAGE, self.run_id, budget, prices_from_settings())
        try:
            result = annotate_seeds(seeds, task, client, store, self.run_id, shard_size)
        except BudgetExhausted as exc:
            # finished shards are written; the seeds of the cut-off shard go to the next run's work list (their
            # calls made so far replay from the cache for free)
            self.log.warning("annotate %s stopped at its spend cap: %s", self.run_id, exc)
            return {"run_id": self.run_id, "stopped_at_cap": str(exc)}
        # the run whose labels the warehouse build will plan from
        hand_over(context, self.outlets, {"run_id": self.run_id, "annotated": result.annotated})
        return result.model_dump()
