"""Operators of the ``qa_synthesis`` DAG: freeze the plan's jobs into shards, then synthesize one shard each."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from boostqa.annotate.taxonomy import load_taxonomy
from boostqa.errors import ConfigError
from boostqa.lake import layout
from boostqa.lake.versions import resolve_version
from boostqa.llm.budget import SpendBudget, SpendGuard
from boostqa.llm.prices import prices_from_settings
from boostqa.llm.projection import BudgetExceeded, preflight_stage
from boostqa.synthesize.config import SynthesisRunConfig
from boostqa.synthesize.runner import Roles
from boostqa.synthesize.stage import STAGE, open_jobs, shard_indexes, snapshot_jobs, synthesize_shard
from boostqa.vocabulary import Role
from boostqa_airflow.constants import LLM_POOLS, POOLS, S3_CONN_ID
from boostqa_airflow.failfast import fails_fast
from boostqa_airflow.hooks.lake import LakeHook
from boostqa_airflow.hooks.llm import LlmHook
from boostqa_airflow.params import validated
from boostqa_airflow.runs import from_asset_events

ROLES: tuple[Role, ...] = ("generator", "annotator", "refiner")  # in the order of Roles' fields



@fails_fast
class SnapshotSynthesisJobsOperator(BaseOperator):
    """Freeze the plan's synthesis jobs for this run; return the shard numbers to map over.

    The plan is ``plan_id`` when given, else the one the triggering ``boostqa_plan`` event names, else the one
    ``plans/latest.json`` points at. An empty plan (every target met) skips the rest of the run.
    """

    run_config: ClassVar[type[SynthesisRunConfig]] = SynthesisRunConfig  # the DAG's params derive from it
    template_fields: Sequence[str] = ("run_id", "stage_params")

    def __init__(self, *, run_id: str, stage_params: Mapping[str, Any] | None = None,
                 lake_conn_id: str = S3_CONN_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.run_id, self.stage_params, self.lake_conn_id = run_id, dict(stage_params or {}), lake_conn_id

    def execute(self, context: Any) -> list[int]:
        config = validated(self.run_config, self.stage_params)
        store = LakeHook(self.lake_conn_id).get_conn()
        shard_size = config.shard_size
        try:
            plan_id = resolve_version(store, "plans", config.plan_id or from_asset_events(context, "plan_id"))
        except ConfigError as exc:
            raise AirflowFailException(f"bad synthesis parameters: {exc}") from exc
        jobs = snapshot_jobs(store, plan_id, self.run_id, config.limit)
        if jobs == 0:
            raise AirflowSkipException(f"run {self.run_id}: plan {plan_id} has no jobs (every target met, or no "
                                       "seed can serve the open buckets): nothing to synthesize, downstream skips")
        # The spend guard's pre-flight: projected spend of the jobs still to run against the run's and the day's
        # budgets; over budget fails here, before any LLM call (the message carries the numbers, and so the alert).
        models: dict[str, str] = {role: LlmHook(role).get_endpoint().model for role in config.roles()}
        try:
            _, projection = preflight_stage(store, STAGE, self.run_id, open_jobs(store, self.run_id, jobs, shard_size),
                                            models, config.budget_overrides())
        except (BudgetExceeded, ConfigError) as exc:
            raise AirflowFailException(str(exc)) from exc
        shards = shard_indexes(jobs, shard_size)
        self.log.info("run %s: %d jobs of plan %s in %d shards of %d; %s", self.run_id, jobs, plan_id, len(shards),
                      shard_size, projection.describe())
        return shards


@fails_fast
class SynthesizeShardOperator(BaseOperator):
    """Generate, verify and refine one shard (idempotent: a finished shard is skipped; calls replay the cache)."""

    run_config: ClassVar[type[SynthesisRunConfig]] = SynthesisRunConfig  # the DAG's params derive from it
    template_fields: Sequence[str] = ("run_id", "stage_params")

    def __init__(self, *, run_id: str, shard: int, stage_params: Mapping[str, Any] | None = None,
                 lake_conn_id: str = S3_CONN_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.run_id, self.shard, self.stage_params = run_id, shard, dict(stage_params or {})
        self.lake_conn_id = lake_conn_id

    def execute(self, context: Any) -> dict[str, Any]:
        config = validated(self.run_config, self.stage_params)
        try:
            synthesizer = config.synthesizer(load_taxonomy())
        except FileNotFoundError as exc:
            raise AirflowFailException(f"bad synthesis parameters: {exc}") from exc
        generator, annotator, refiner = (LlmHook(role).get_client(self.run_id) for role in ROLES)
        roles = Roles(generator, annotator, refiner,
                      solver=LlmHook("solver").get_client(self.run_id) if "solver" in config.roles() else None)
        store = LakeHook(self.lake_conn_id).get_conn()
        roles.attach_guard(self._guard(store, config))
        result = synthesize_shard(store, self.run_id, int(self.shard), config.shard_size, synthesizer, roles)
        return result.model_dump()  # a server refusing the run (LlmRefused) fails fast: @fails_fast

    def _guard(self, store: Any, config: SynthesisRunConfig) -> SpendGuard:
        """The run's caps for this shard.

        What other shards committed is read from the lake; shards running at the same time cannot see each other, so
        each gets an equal share of what is left (at most the pool's slots).
        """
        try:
            budget = SpendBudget.for_stage(STAGE).merged(config.budget_overrides())
            parallel = POOLS[LLM_POOLS["generator"]][0]
            own = layout.ledger_prefix(STAGE, self.run_id) + layout.part_name(int(self.shard))
            return SpendGuard.from_lake(store, STAGE, self.run_id, budget, prices_from_settings(),
                                        share=1 / parallel, exclude_keys={own})
        except ConfigError as exc:
            raise AirflowFailException(f"bad budget parameters: {exc}") from exc
