"""Operators of the ``qa_synthesis`` DAG: freeze the plan's jobs into shards, then synthesize one shard each."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from boostqa.annotate.task import AnnotationTask
from boostqa.annotate.taxonomy import load_taxonomy
from boostqa.errors import ConfigError
from boostqa.lake import layout
from boostqa.lake.versions import resolve_version
from boostqa.llm.budget import SpendBudget, SpendGuard
from boostqa.llm.prices import prices_from_settings
from boostqa.llm.projection import BudgetExceeded, preflight_stage
from boostqa.synthesize.refine import RefineTask
from boostqa.synthesize.runner import Roles, Synthesizer
from boostqa.synthesize.stage import STAGE, open_jobs, shard_indexes, snapshot_jobs, synthesize_shard
from boostqa.synthesize.strategies import default_strategies
from boostqa.synthesize.verify import DifficultyCheck
from boostqa.vocabulary import Role
from boostqa_airflow.constants import LLM_POOLS, POOLS, S3_CONN_ID
from boostqa_airflow.hooks.lake import LakeHook
from boostqa_airflow.hooks.llm import LlmHook
from boostqa_airflow.runs import from_asset_events

REFINE_POLICIES = ("keep_refined", "drop", "second_sample")


BUDGET_KEYS = ("run_tokens", "run_usd", "day_tokens", "day_usd")
ROLES: tuple[Role, ...] = ("generator", "annotator", "refiner")  # in the order of Roles' fields


def _optional_int(value: Any) -> int | None:
    return int(value) if value not in (None, "", "None") else None


def _budget_params(budget: dict[str, Any] | str | None) -> dict[str, Any]:
    """The DAG's budget params (``run_tokens`` ...); a missing or null one falls back to ``BOOSTQA_BUDGET__*``."""
    values = budget if isinstance(budget, dict) else {}
    return {k: values[k] for k in BUDGET_KEYS if values.get(k) not in (None, "", "None")}


class SnapshotSynthesisJobsOperator(BaseOperator):
    """Freeze the plan's synthesis jobs for this run; return the shard numbers to map over.

    The plan is ``plan_id`` when given, else the one the triggering ``boostqa_plan`` event names, else the one
    ``plans/latest.json`` points at. An empty plan (every target met) skips the rest of the run.
    """

    template_fields: Sequence[str] = ("run_id", "plan_id", "limit", "shard_size", "budget")

    def __init__(self, *, run_id: str, plan_id: str = "", limit: int | str | None = None,
                 shard_size: int | str = 32, budget: dict[str, Any] | None = None, lake_conn_id: str = S3_CONN_ID,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.run_id, self.plan_id, self.limit, self.shard_size = run_id, plan_id, limit, shard_size
        self.budget, self.lake_conn_id = budget, lake_conn_id

    def execute(self, context: Any) -> list[int]:
        store = LakeHook(self.lake_conn_id).get_conn()
        try:
            limit, shard_size = _optional_int(self.limit), int(self.shard_size)
            plan_id = resolve_version(store, "plans", self.plan_id or from_asset_events(context, "plan_id"))
        except (ValueError, ConfigError) as exc:
            raise AirflowFailException(f"bad synthesis parameters: {exc}") from exc
        jobs = snapshot_jobs(store, plan_id, self.run_id, limit)
        if jobs == 0:
            raise AirflowSkipException(f"run {self.run_id}: plan {plan_id} has no jobs (every target met, or no "
                                       "seed can serve the open buckets): nothing to synthesize, downstream skips")
        # The spend guard's pre-flight: projected spend of the jobs still to run against the run's and the day's
        # budgets; over budget fails here, before any LLM call (the message carries the numbers, and so the alert).
        models: dict[str, str] = {role: LlmHook(role).get_endpoint().model for role in ROLES}
        try:
            _, projection = preflight_stage(store, STAGE, self.run_id, open_jobs(store, self.run_id, jobs, shard_size),
                                            models, _budget_params(self.budget))
        except (BudgetExceeded, ConfigError) as exc:
            raise AirflowFailException(str(exc)) from exc
        shards = shard_indexes(jobs, shard_size)
        self.log.info("run %s: %d jobs of plan %s in %d shards of %d; %s", self.run_id, jobs, plan_id, len(shards),
                      shard_size, projection.describe())
        return shards


class SynthesizeShardOperator(BaseOperator):
    """Generate, verify and refine one shard (idempotent: a finished shard is skipped; calls replay the cache)."""

    template_fields: Sequence[str] = ("run_id", "shard_size", "difficulty_tolerance", "refine_policy", "temperature",
                                      "top_p", "plain_text", "generator_max_tokens", "refiner_max_tokens", "budget")

    def __init__(self, *, run_id: str, shard: int, shard_size: int | str = 32, difficulty_tolerance: int | str = 0,
                 refine_policy: str = "second_sample", temperature: float | str = 0.8, top_p: float | str = 0.95,
                 plain_text: bool | str = False, generator_max_tokens: int | str = 400,
                 refiner_max_tokens: int | str = 400, budget: dict[str, Any] | None = None,
                 lake_conn_id: str = S3_CONN_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.run_id, self.shard, self.shard_size, self.budget = run_id, shard, shard_size, budget
        self.difficulty_tolerance, self.refine_policy = difficulty_tolerance, refine_policy
        self.temperature, self.top_p = temperature, top_p
        self.plain_text = plain_text
        self.generator_max_tokens, self.refiner_max_tokens = generator_max_tokens, refiner_max_tokens
        self.lake_conn_id = lake_conn_id

    def execute(self, context: Any) -> dict[str, Any]:
        if self.refine_policy not in REFINE_POLICIES:
            raise AirflowFailException(f"refine_policy must be one of {REFINE_POLICIES}, got {self.refine_policy!r}")
        try:
            taxonomy = load_taxonomy()
            plain = str(self.plain_text).lower() in ("true", "1")
            synthesizer = Synthesizer(
                strategies=default_strategies(float(self.temperature), float(self.top_p), plain,
                                              int(self.generator_max_tokens)), taxonomy=taxonomy,
                check=DifficultyCheck(AnnotationTask(taxonomy), int(self.difficulty_tolerance)),
                refine=RefineTask(max_tokens=int(self.refiner_max_tokens), plain_text=plain),
                policy=self.refine_policy,  # type: ignore[arg-type]
            )
        except (ValueError, FileNotFoundError) as exc:
            raise AirflowFailException(f"bad synthesis parameters: {exc}") from exc
        roles = Roles(*(LlmHook(role).get_client(self.run_id) for role in ROLES))
        store = LakeHook(self.lake_conn_id).get_conn()
        roles.attach_guard(self._guard(store))
        result = synthesize_shard(store, self.run_id, int(self.shard), int(self.shard_size), synthesizer, roles)
        return result.model_dump()

    def _guard(self, store: Any) -> SpendGuard:
        """The run's caps for this shard.

        What other shards committed is read from the lake; shards running at the same time cannot see each other, so
        each gets an equal share of what is left (at most the pool's slots).
        """
        try:
            budget = SpendBudget.for_stage(STAGE).merged(_budget_params(self.budget))
            parallel = POOLS[LLM_POOLS["generator"]][0]
            own = layout.ledger_prefix(STAGE, self.run_id) + layout.part_name(int(self.shard))
            return SpendGuard.from_lake(store, STAGE, self.run_id, budget, prices_from_settings(),
                                        share=1 / parallel, exclude_keys={own})
        except ConfigError as exc:
            raise AirflowFailException(f"bad budget parameters: {exc}") from exc
