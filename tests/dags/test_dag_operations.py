"""Every DAG is operable: failure callbacks, a stage deadline, kind-based retries, pools that exist, runbook cover."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from boostqa.ops.runbook import DAG_INCIDENTS
from boostqa_airflow.constants import DBT_POOL, EVAL_POOL, LLM_POOLS, POOLS
from boostqa_dev.checkout import PROJECT_ROOT

pytestmark = pytest.mark.dag


@pytest.fixture(scope="module")
def dags() -> Iterator[dict[str, object]]:
    from airflow.dag_processing.dagbag import DagBag

    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("AIRFLOW_CONN_")}
    try:
        bag = DagBag(dag_folder=str(PROJECT_ROOT / "dags"))
        assert bag.import_errors == {}
        yield bag.dags
    finally:
        os.environ.update(saved)


def _notifier_scopes(callbacks: object) -> list[str]:
    from boostqa_airflow.alerting import OnCallNotifier

    items = callbacks if isinstance(callbacks, list) else [callbacks]
    return [c.scope for c in items if isinstance(c, OnCallNotifier)]


def test_every_dag_and_every_task_alerts_on_failure(dags: dict[str, object]) -> None:
    for dag_id, dag in dags.items():
        assert _notifier_scopes(dag.on_failure_callback) == ["dag"], dag_id  # type: ignore[attr-defined]
        for task in dag.tasks:  # type: ignore[attr-defined]
            assert _notifier_scopes(task.on_failure_callback) == ["task"], f"{dag_id}.{task.task_id}"


def test_every_dag_has_its_stage_deadline_and_it_survives_serialization(dags: dict[str, object]) -> None:
    from airflow.serialization.serialized_objects import DagSerialization

    from boostqa_airflow.alerting import STAGE_DEADLINES

    assert set(STAGE_DEADLINES) == set(dags)
    for dag_id, dag in dags.items():
        [deadline] = dag.deadline  # type: ignore[attr-defined]
        assert deadline.interval == STAGE_DEADLINES[dag_id]
        assert deadline.callback.kwargs["dag_id"] == dag_id
        # The scheduler only sees the serialized DAG: the deadline and its callback path must round-trip.
        [restored] = DagSerialization.from_dict(DagSerialization.to_dict(dag)).deadline
        assert restored["reference"]["reference_type"] == "DagRunQueuedAtDeadline"
        assert restored["interval"]["__data__"] == STAGE_DEADLINES[dag_id].total_seconds()
        callback = restored["callback"]["__data__"]
        assert callback["path"] == "boostqa_airflow.alerting.notify_deadline_missed"
        assert callback["kwargs"]["dag_id"] == dag_id


def test_every_task_retries_as_its_kind_says(dags: dict[str, object]) -> None:
    from boostqa_airflow.policy import RETRY_POLICIES, kind_of

    for dag_id, dag in dags.items():
        for task in dag.tasks:  # type: ignore[attr-defined]
            policy = RETRY_POLICIES[kind_of(task.operator_name)]
            where = f"{dag_id}.{task.task_id} ({task.operator_name})"
            assert task.retries == policy.retries, where
            assert task.retry_delay == policy.retry_delay, where
            # Airflow 3.3 stores the backoff as a multiplier (True -> 2.0, False -> 0).
            assert bool(task.retry_exponential_backoff) == policy.exponential, where
            assert task.max_retry_delay == policy.max_retry_delay, where


def test_every_task_of_ours_fails_fast_on_errors_no_retry_heals(dags: dict[str, object]) -> None:
    """A ConfigError or RunPermanent (a revoked key, a 403 from S3) must fail the task, not burn its retries."""
    from boostqa_airflow.failfast import ENTRY_POINTS

    seen = 0
    for dag_id, dag in dags.items():
        for task in dag.tasks:  # type: ignore[attr-defined]
            cls = getattr(task, "operator_class", type(task))
            if not cls.__module__.startswith("boostqa_airflow."):
                continue
            seen += 1
            for name in ENTRY_POINTS:
                if hasattr(cls, name):
                    assert getattr(getattr(cls, name), "__fails_fast__", False), f"{dag_id}.{task.task_id}.{name}"
    assert seen > 20


def test_pools_exist_and_cap_the_llm_roles_the_dbt_writer_and_eval(dags: dict[str, object]) -> None:
    from boostqa_airflow.policy import TaskKind, kind_of

    for dag_id, dag in dags.items():
        for task in dag.tasks:  # type: ignore[attr-defined]
            kind = kind_of(task.operator_name)
            where = f"{dag_id}.{task.task_id}"
            if kind is TaskKind.LLM:
                assert task.pool in LLM_POOLS.values(), where
            elif kind is TaskKind.DBT:
                assert task.pool == DBT_POOL, where
            elif kind is TaskKind.EVAL:
                assert task.pool == EVAL_POOL, where
            else:
                assert task.pool in {*POOLS, "default_pool"}, where
    assert POOLS[DBT_POOL][0] == 1


def test_every_dag_is_covered_by_the_runbook(dags: dict[str, object]) -> None:
    assert set(DAG_INCIDENTS) == set(dags)
