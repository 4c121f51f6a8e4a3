"""warehouse_build: dbt (via cosmos) builds taxonomy seeds, staging, intermediate and marts over the lake."""

from __future__ import annotations

from datetime import datetime

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG

from boostqa_airflow import assets
from boostqa_airflow.alerting import dag_operations
from boostqa_airflow.dbt import warehouse_task_group
from boostqa_airflow.operators.lake import PrepareLakeOperator
from boostqa_airflow.policy import TaskKind, retry_args

with DAG(
    dag_id="warehouse_build",
    description="dbt build of the DuckDB warehouse, one task per model, in the one-slot dbt pool",
    schedule=(assets.SEEDS | assets.ANNOTATIONS),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["boostqa", "dbt"],
    **dag_operations("warehouse_build"),
    doc_md=__doc__,
) as dag:
    build = warehouse_task_group("dbt")
    # The plan and its synthesis jobs are exported by this build: it also announces a new plan.
    publish = EmptyOperator(task_id="publish_warehouse", outlets=[assets.WAREHOUSE, assets.PLAN],
                            **retry_args(TaskKind.CONTROL))
    PrepareLakeOperator(task_id="prepare_lake", **retry_args(TaskKind.LAKE)) >> build >> publish
