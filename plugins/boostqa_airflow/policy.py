"""Retry policy per task kind, and the kind of every operator the DAGs use: one table, enforced by the DAG tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any


class TaskKind(StrEnum):
    """What a task mostly waits on, which decides how it should be retried."""

    CONTROL = "control"  # bookkeeping: list, resolve, snapshot, publish an asset
    LAKE = "lake"  # reads/writes object storage, fetches seed sources, CPU work over lake parts
    LLM = "llm"  # calls a vLLM server; resumable shards over a response cache
    DBT = "dbt"  # writes the single-writer DuckDB warehouse
    TRAIN = "train"  # a DeepSpeed job that resumes from its last checkpoint
    EVAL = "eval"  # loads a model and scores benchmarks


@dataclass(frozen=True)
class RetryPolicy:
    """Airflow retry arguments for one kind, with the reason an operator can read in the DAG tests' failures."""

    retries: int
    retry_delay: timedelta
    exponential: bool = False
    max_retry_delay: timedelta | None = None
    why: str = ""

    def task_args(self) -> dict[str, Any]:
        """Keyword arguments for an operator (or ``.partial()``)."""
        args: dict[str, Any] = {"retries": self.retries, "retry_delay": self.retry_delay,
                                "retry_exponential_backoff": self.exponential}
        if self.max_retry_delay is not None:
            args["max_retry_delay"] = self.max_retry_delay
        return args


RETRY_POLICIES: dict[TaskKind, RetryPolicy] = {
    TaskKind.CONTROL: RetryPolicy(2, timedelta(seconds=30), why="cheap and idempotent; fails only on an outage"),
    TaskKind.LAKE: RetryPolicy(3, timedelta(minutes=1), True, timedelta(minutes=15),
                               why="S3 and source blips heal in minutes; writes are atomic, so retries are safe"),
    TaskKind.LLM: RetryPolicy(4, timedelta(minutes=2), True, timedelta(minutes=30),
                              why="the client already retries each request; a task retry outlives a server "
                                  "restart or a 429 storm and resumes its shard from the response cache"),
    TaskKind.DBT: RetryPolicy(2, timedelta(minutes=2),
                              why="mostly a DuckDB lock held by a hand-run dbt: wait for it, then give up"),
    TaskKind.TRAIN: RetryPolicy(1, timedelta(minutes=10),
                                why="covers a failed submission; a failed run is final (an OOM repeats), and "
                                    "preemptions resume inside the cluster (Job backoffLimit, Slurm --requeue)"),
    TaskKind.EVAL: RetryPolicy(1, timedelta(minutes=5), why="a model load is expensive; answers already scored "
                                                           "are reused on retry"),
}

# Operator class name -> kind. A new operator without an entry fails tests/dags/test_dag_operations.py.
OPERATOR_KINDS: dict[str, TaskKind] = {
    "ListSeedSourcesOperator": TaskKind.CONTROL,
    "IngestSeedSourceOperator": TaskKind.LAKE,
    "PublishSeedsOperator": TaskKind.CONTROL,
    "PrepareLakeOperator": TaskKind.LAKE,
    "FreezeAnnotateShardsOperator": TaskKind.LAKE,
    "AnnotateShardOperator": TaskKind.LLM,
    "FinishAnnotateRunOperator": TaskKind.CONTROL,
    "SnapshotSynthesisJobsOperator": TaskKind.LAKE,
    "SynthesizeShardOperator": TaskKind.LLM,
    "QualityControlOperator": TaskKind.LAKE,
    "GeneralCorpusQcOperator": TaskKind.LAKE,
    "StageGeneralCorpusOperator": TaskKind.LAKE,
    "CountTokensOperator": TaskKind.LAKE,
    "ExportMixtureOperator": TaskKind.LAKE,
    "PublishMixtureOperator": TaskKind.CONTROL,
    "PublishPlanOperator": TaskKind.CONTROL,
    "SourceFreshnessOperator": TaskKind.DBT,
    "PublishWarehouseSnapshotOperator": TaskKind.DBT,
    "DeepSpeedTrainOperator": TaskKind.TRAIN,
    "PublishTrainingRunOperator": TaskKind.CONTROL,
    "PrepareSweepOperator": TaskKind.LAKE,
    "PrepareAnnealOperator": TaskKind.LAKE,
    "ProbeEvalTargetsOperator": TaskKind.CONTROL,
    "CollectProbeOperator": TaskKind.LAKE,
    "StudyLaunchesOperator": TaskKind.CONTROL,
    "StudyTrainOperator": TaskKind.TRAIN,
    "CollectSweepOperator": TaskKind.LAKE,
    "ResolveEvalTargetsOperator": TaskKind.CONTROL,
    "EvaluateModelOperator": TaskKind.EVAL,
    "ReportOperator": TaskKind.LAKE,
    "EmptyOperator": TaskKind.CONTROL,
}


def retry_args(kind: TaskKind) -> dict[str, Any]:
    """The retry arguments of ``kind`` (spread into an operator call: ``Op(..., **retry_args(TaskKind.LLM))``)."""
    return RETRY_POLICIES[kind].task_args()


def kind_of(operator_name: str) -> TaskKind:
    """The kind of an operator class; cosmos' dbt operators are all DBT.

    Raises:
        KeyError: an operator nobody classified.
    """
    if operator_name.startswith("Dbt"):
        return TaskKind.DBT
    return OPERATOR_KINDS[operator_name]
