"""Operators of the ``qa_synthesis`` DAG: freeze the plan's jobs into shards, then synthesize one shard each."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from boostqa.annotate.task import AnnotationTask
from boostqa.annotate.taxonomy import load_taxonomy
from boostqa.errors import ConfigError
from boostqa.lake.versions import resolve_version
from boostqa.synthesize.refine import RefineTask
from boostqa.synthesize.runner import Roles, Synthesizer
from boostqa.synthesize.stage import shard_indexes, snapshot_jobs, synthesize_shard
from boostqa.synthesize.strategies import default_strategies
from boostqa.synthesize.verify import DifficultyCheck
from boostqa_airflow.constants import S3_CONN_ID
from boostqa_airflow.hooks.lake import LakeHook
from boostqa_airflow.hooks.llm import LlmHook
from boostqa_airflow.runs import from_asset_events

REFINE_POLICIES = ("keep_refined", "drop", "second_sample")


def _optional_int(value: Any) -> int | None:
    return int(value) if value not in (None, "", "None") else None


class SnapshotSynthesisJobsOperator(BaseOperator):
    """Freeze the plan's synthesis jobs for this run; return the shard numbers to map over.

    The plan is ``plan_id`` when given, else the one the triggering ``boostqa_plan`` event names, else the one
    ``plans/latest.json`` points at. An empty plan (every target met) skips the rest of the run.
    """

    template_fields: Sequence[str] = ("run_id", "plan_id", "limit", "shard_size")

    def __init__(self, *, run_id: str, plan_id: str = "", limit: int | str | None = None,
                 shard_size: int | str = 32, lake_conn_id: str = S3_CONN_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.run_id, self.plan_id, self.limit, self.shard_size = run_id, plan_id, limit, shard_size
        self.lake_conn_id = lake_conn_id

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
        shards = shard_indexes(jobs, shard_size)
        self.log.info("run %s: %d jobs of plan %s in %d shards of %d", self.run_id, jobs, plan_id, len(shards),
                      shard_size)
        return shards


class SynthesizeShardOperator(BaseOperator):
    """Generate, verify and refine one shard (idempotent: a finished shard is skipped; calls replay the cache)."""

    template_fields: Sequence[str] = ("run_id", "shard_size", "difficulty_tolerance", "refine_policy", "temperature",
                                      "top_p", "plain_text", "generator_max_tokens", "refiner_max_tokens")

    def __init__(self, *, run_id: str, shard: int, shard_size: int | str = 32, difficulty_tolerance: int | str = 0,
                 refine_policy: str = "second_sample", temperature: float | str = 0.8, top_p: float | str = 0.95,
                 plain_text: bool | str = False, generator_max_tokens: int | str = 400,
                 refiner_max_tokens: int | str = 400, lake_conn_id: str = S3_CONN_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.run_id, self.shard, self.shard_size = run_id, shard, shard_size
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
        roles = Roles(*(LlmHook(role).get_client(self.run_id) for role in ("generator", "annotator", "refiner")))
        result = synthesize_shard(LakeHook(self.lake_conn_id).get_conn(), self.run_id, int(self.shard),
                                  int(self.shard_size), synthesizer, roles)
        return result.model_dump()
