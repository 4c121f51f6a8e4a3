"""Operators of the ``seed_annotate`` DAG: freeze the run's seeds into shards, annotate one shard each, finish."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any, ClassVar

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from boostqa.annotate.config import AnnotateRunConfig
from boostqa.annotate.finish import finish_run
from boostqa.annotate.runner import AnnotateShardResult, annotate_shard
from boostqa.annotate.task import STAGE, AnnotationTask
from boostqa.annotate.taxonomy import load_taxonomy
from boostqa.annotate.worklist import freeze_worklist, open_seeds
from boostqa.errors import ConfigError, RunIncomplete
from boostqa.lake import layout
from boostqa.lake.store import ObjectStore
from boostqa.llm.budget import SpendBudget, SpendGuard
from boostqa.llm.prices import prices_from_settings
from boostqa.llm.projection import preflight_stage
from boostqa_airflow.constants import LLM_POOLS, POOLS, S3_CONN_ID
from boostqa_airflow.failfast import fails_fast
from boostqa_airflow.hooks.lake import LakeHook
from boostqa_airflow.hooks.llm import LlmHook
from boostqa_airflow.params import validated
from boostqa_airflow.runs import hand_over

__all__ = ["AnnotateShardOperator", "FinishAnnotateRunOperator", "FreezeAnnotateShardsOperator"]


def _task(config: AnnotateRunConfig) -> AnnotationTask:
    """The annotation task of the params; an unknown prompt version fails without retry."""
    try:
        return config.task(load_taxonomy())
    except (ValueError, FileNotFoundError) as exc:
        raise AirflowFailException(f"bad annotate parameters: {exc}") from exc


class _AnnotateOperator(BaseOperator):
    """What the three tasks share: the run id, the lake and the annotator role's connection."""

    template_fields: Sequence[str] = ("run_id",)

    def __init__(self, *, run_id: str, lake_conn_id: str = S3_CONN_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.run_id, self.lake_conn_id = run_id, lake_conn_id

    @cached_property
    def lake(self) -> LakeHook:
        return LakeHook(self.lake_conn_id)

    @cached_property
    def llm(self) -> LlmHook:
        return LlmHook("annotator")


@fails_fast
class FreezeAnnotateShardsOperator(_AnnotateOperator):
    """Freeze the run's pending seeds and shard boundaries (kept as they are on a resume); return the shard numbers.

    Before any call, the spend guard's pre-flight projects the seeds of the unfinished shards x samples against the
    run's and the day's caps (``BOOSTQA_BUDGET__ANNOTATE_*``). No pending seed skips the rest of the run.
    """

    run_config: ClassVar[type[AnnotateRunConfig]] = AnnotateRunConfig  # the DAG's params derive from it
    template_fields: Sequence[str] = ("run_id", "stage_params")

    def __init__(self, *, stage_params: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.stage_params = dict(stage_params or {})

    def execute(self, context: Any) -> list[int]:
        config = validated(self.run_config, self.stage_params)
        _task(config)  # a bad prompt version fails here, before anything is frozen
        store = self.lake.get_conn()
        try:
            frozen = freeze_worklist(store, self.run_id, config)
        except ConfigError as exc:
            raise AirflowFailException(str(exc)) from exc
        if not frozen.seeds:
            raise AirflowSkipException(f"run {self.run_id}: no seed is waiting for a label with prompt version "
                                       f"{frozen.prompt_version}: nothing to annotate, downstream skips")
        try:
            _, projection = preflight_stage(store, STAGE, self.run_id, open_seeds(store, frozen) * frozen.samples,
                                            {"annotator": self.llm.get_endpoint().model})
        except ConfigError as exc:  # over budget (BudgetExceeded) or an unpriced model under a USD cap
            raise AirflowFailException(str(exc)) from exc
        self.log.info("run %s: %d seeds in %d shards of %d; %s", self.run_id, frozen.seeds, len(frozen.bounds),
                      frozen.shard_size, projection.describe())
        return frozen.shard_ids()


@fails_fast
class AnnotateShardOperator(_AnnotateOperator):
    """Annotate one frozen shard (idempotent: a finished shard is skipped; a crashed one replays the cache)."""

    run_config: ClassVar[type[AnnotateRunConfig]] = AnnotateRunConfig  # the DAG's params derive from it
    template_fields: Sequence[str] = ("run_id", "stage_params")

    def __init__(self, *, shard: int, stage_params: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.shard, self.stage_params = shard, dict(stage_params or {})

    def execute(self, context: Any) -> dict[str, Any]:
        task = _task(validated(self.run_config, self.stage_params))
        store = self.lake.get_conn()
        client = self.llm.get_client(self.run_id)
        client.guard = self._guard(store)
        try:
            result = annotate_shard(store, self.run_id, int(self.shard), task, client)
        except ConfigError as exc:  # params that differ from the frozen run's
            raise AirflowFailException(str(exc)) from exc
        return result.model_dump()

    def _guard(self, store: ObjectStore) -> SpendGuard:
        """The run's caps for this shard.

        What finished shards spent is read from the lake; shards running at the same time cannot see each other, so
        each gets an equal share of what is left (at most the pool's slots run at once).
        """
        try:
            own = layout.ledger_prefix(STAGE, self.run_id) + layout.part_name(int(self.shard))
            return SpendGuard.from_lake(store, STAGE, self.run_id, SpendBudget.for_stage(STAGE),
                                        prices_from_settings(), share=1 / POOLS[LLM_POOLS["annotator"]][0],
                                        exclude_keys={own})
        except ConfigError as exc:
            raise AirflowFailException(f"bad budget parameters: {exc}") from exc


@fails_fast
class FinishAnnotateRunOperator(_AnnotateOperator):
    """Write the run's summary marker once every shard is finished, and announce the annotations asset.

    A run whose shards the spend guard stopped is left unfinished (skipped, no marker, no asset event): its seeds go
    to the next run, or ``resume_run_id`` finishes it.
    """

    template_fields: Sequence[str] = ("run_id", "shard_results")

    def __init__(self, *, shard_results: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.shard_results = shard_results  # the mapped shards' return values (an XComArg until rendered)

    def execute(self, context: Any) -> dict[str, Any]:
        results = [AnnotateShardResult.model_validate(r) for r in self.shard_results or [] if r is not None]
        try:
            result = finish_run(self.lake.get_conn(), self.run_id, results)
        except RunIncomplete as exc:
            if any(r.stopped_at_cap for r in results):
                raise AirflowSkipException(f"{exc}: the spend guard stopped it; its open seeds go to the next run "
                                           f"(or resume_run_id={self.run_id} after raising the cap)") from exc
            raise AirflowFailException(f"{exc}: clear the unfinished annotate_shard tasks") from exc
        # the run whose labels the warehouse build will plan from
        hand_over(context, self.outlets, {"run_id": self.run_id, "annotated": result.annotated})
        return result.model_dump()
