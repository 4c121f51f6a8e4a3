"""The one place that builds cosmos configuration and runs dbt outside a task group (``dbt source freshness``)."""

from __future__ import annotations

import json
import shutil
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from cosmos import DbtTaskGroup, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import ExecutionMode, InvocationMode, LoadMode, TestBehavior
from cosmos.profiles.base import BaseProfileMapping

from boostqa.warehouse import dbt_env, dbt_project_dir
from boostqa_airflow.constants import DBT_POOL, S3_CONN_ID, WAREHOUSE_CONN_ID
from boostqa_airflow.hooks.lake import LakeHook
from boostqa_airflow.hooks.warehouse import WarehouseHook
from boostqa_airflow.policy import TaskKind, retry_args

PROFILE_NAME = "boostqa"
TARGET_NAME = "dev"


def manifest_path() -> Path:
    """The parsed manifest cosmos renders task groups from (``make install`` and the image run ``dbt parse``)."""
    return dbt_project_dir() / "target" / "manifest.json"


@cache
def _checked_in_profile() -> dict[str, Any]:
    """The target of dbt_project/profiles.yml: one profile definition for Airflow and the command line."""
    profiles = yaml.safe_load((dbt_project_dir() / "profiles.yml").read_text())
    output: dict[str, Any] = profiles[PROFILE_NAME]["outputs"][TARGET_NAME]
    return output


class WarehouseProfileMapping(BaseProfileMapping):
    """Profile = the checked-in DuckDB profile; its env vars come from the warehouse and S3 connections.

    Secrets stay out of the rendered profile: it only holds ``env_var()`` references, and cosmos passes
    the values as environment of the dbt invocation (cosmos' secret-as-env-ref pattern).
    """

    airflow_connection_type: str = "duckdb"
    dbt_profile_type: str = "duckdb"
    required_fields = ["path"]
    airflow_param_mapping = {"path": "host"}

    def __init__(self, conn_id: str = WAREHOUSE_CONN_ID, lake_conn_id: str = S3_CONN_ID, **kwargs: Any) -> None:
        super().__init__(conn_id=conn_id, **kwargs)
        self.lake_conn_id = lake_conn_id

    @property
    def profile(self) -> dict[str, Any]:
        """The checked-in profile (``env_var`` references only)."""
        return dict(_checked_in_profile())

    @property
    def env_vars(self) -> dict[str, str]:
        """Values for the profile's ``env_var`` references, read through the hooks at execution time."""
        lake = LakeHook(self.lake_conn_id).get_config()
        return dbt_env(lake, WarehouseHook(self.conn_id).get_path())


def profile_config() -> ProfileConfig:
    """The cosmos ``ProfileConfig`` over our connections."""
    return ProfileConfig(profile_name=PROFILE_NAME, target_name=TARGET_NAME, profile_mapping=WarehouseProfileMapping())


def source_freshness(conn_id: str = WAREHOUSE_CONN_ID, lake_conn_id: str = S3_CONN_ID) -> dict[str, Any]:
    """``dbt source freshness`` over the lake tables that declare one; returns dbt's ``sources.json``.

    Invoked in-process through dbtRunner, as cosmos runs the task groups' dbt (its ``run_command``), with the same
    profile and env vars (:class:`WarehouseProfileMapping`). dbt writes into a temporary target that starts from the
    project's partial-parse file, so it re-parses only what changed. A stale table is not a failure here: the caller
    judges the returned results.

    Raises:
        RuntimeError: dbt stopped before checking any table (no ``sources.json``: profile, parse or connection).
    """
    from cosmos.dbt.runner import run_command

    env = WarehouseProfileMapping(conn_id, lake_conn_id).env_vars
    with tempfile.TemporaryDirectory(prefix="boostqa-freshness-") as folder:
        target = Path(folder) / "target"
        target.mkdir()
        partial = manifest_path().with_name("partial_parse.msgpack")
        if partial.exists():
            shutil.copyfile(partial, target / partial.name)
        project = str(dbt_project_dir())
        result = run_command(["dbt", "source", "freshness", "--project-dir", project, "--profiles-dir", project,
                              "--target-path", str(target), "--log-path", folder], env, folder)
        sources = target / "sources.json"
        if not sources.exists():
            raise RuntimeError(f"`dbt source freshness` checked no table: {result.exception or 'see its log above'}")
        data: dict[str, Any] = json.loads(sources.read_text())
        return data


def run_id_env(name: str) -> str:
    """The env var a dbt model reads a run-scoped id from (``plan_id`` -> ``BOOSTQA_PLAN_ID``).

    It falls back to the dbt var of the same name when it is unset (a hand-run ``dbt build``).
    """
    return f"BOOSTQA_{name.upper()}"


def warehouse_task_group(group_id: str, select: list[str] | None = None, exclude: list[str] | None = None,
                         run_ids: dict[str, str] | None = None, **kwargs: Any) -> DbtTaskGroup:
    """A DbtTaskGroup over the project, rendered from the parsed manifest (no dbt call at DAG parse time).

    Watcher mode: the group's selection is built by one ``dbt build`` (one dbt start-up instead of one per model,
    about half the time of ``warehouse_build``), and each model still has its task, showing the state dbt gave it;
    a retried model task that the build did not reach runs that model alone (cosmos' fallback).

    Every dbt task runs in the one-slot ``boostqa_dbt`` pool: DuckDB allows a single writer. Tests run once,
    after all models (AFTER_ALL): relationship tests span models, so a per-model test could run before the
    model it references exists on a fresh warehouse. ``run_ids`` are the run-scoped ids the models read
    (``plan_id``, ``mixture_version``), handed to dbt as env vars (:func:`run_id_env`); their values may be
    templates (cosmos renders ``env`` per task), so every task of the group builds with the ids of the DAG run.
    Env vars rather than ``--vars``: a new ``--vars`` value makes dbt re-parse the whole project (seconds per
    task), a new env var value only the few models that read it.
    """
    manifest = manifest_path()
    if not manifest.exists():
        raise FileNotFoundError(f"{manifest} is missing: run `make install` (it runs `dbt parse`)")
    group = DbtTaskGroup(
        group_id=group_id,
        project_config=ProjectConfig(
            dbt_project_path=dbt_project_dir(), manifest_path=manifest, install_dbt_deps=False
        ),
        profile_config=profile_config(),
        execution_config=ExecutionConfig(execution_mode=ExecutionMode.WATCHER,
                                         invocation_mode=InvocationMode.DBT_RUNNER),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST, select=select or [], exclude=exclude or [],
            test_behavior=TestBehavior.AFTER_ALL,
        ),
        operator_args={"pool": DBT_POOL, **retry_args(TaskKind.DBT),
                       **({"env": {run_id_env(k): v for k, v in run_ids.items()}} if run_ids else {})},
        **kwargs,
    )
    _consumers_after_producer(group)
    _publish_after(group)
    return group


def _publish_after(group: DbtTaskGroup) -> None:
    """End the group with the warehouse snapshot's publication (readers never open the file dbt writes)."""
    from boostqa_airflow.operators.snapshot import PublishWarehouseSnapshotOperator

    leaves = list(group.get_leaves())  # before the publish task joins the group (it would be a leaf itself)
    with group:
        publish = PublishWarehouseSnapshotOperator(task_id="publish_snapshot", pool=DBT_POOL,
                                                   **retry_args(TaskKind.DBT))
    for leaf in leaves:
        leaf >> publish


def _consumers_after_producer(group: DbtTaskGroup) -> None:
    """Start the per-model tasks once the group's one ``dbt build`` (the watcher producer) has finished.

    In watcher mode the producer runs the whole selection in one dbt process and each model's task only reports
    the state the producer recorded for it. cosmos leaves a task group's root models free to start first and
    wait (deferred) for the producer, which deadlocks ``airflow dags test``: it runs one task at a time, so a
    waiting model task never lets the producer run. After the producer, each model task reads its state at once;
    the grid still shows every model's state, and a failed build marks the models it did not reach.
    """
    tasks = {t.task_id: t for t in group.iter_tasks()}
    producer = next(t for task_id, t in tasks.items() if task_id.endswith(".dbt_producer_watcher"))
    gate = [t for task_id, t in tasks.items() if task_id.endswith(".dbt_producer_watcher_done")]
    for task in gate:  # cosmos' skip gate (an EmptyOperator): the group's pool, the retries of a control task
        task.pool = DBT_POOL
        for name, value in retry_args(TaskKind.CONTROL).items():
            setattr(task, name, value)
    for task in tasks.values():
        if task is producer or task in gate or set(task.upstream_task_ids) & tasks.keys():
            continue
        producer >> task
