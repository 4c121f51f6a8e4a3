"""warehouse_build: dbt (via cosmos) builds taxonomy seeds, staging, intermediate and marts over the lake.

Each run exports a new generation plan under its own ``plan_id`` (``plans/plan_id=<id>/``, never rewritten by a later
run), then points ``plans/latest.json`` at it and announces ``boostqa_plan`` with the id in the event's extra.
Beside the build, ``check_source_freshness`` judges how fresh the lake's tables are as of the run: it logs every
table past its ``warn_after`` and fails (the run fails and alerts) on one past its ``error_after``, without holding
the build back.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from boostqa_airflow import assets
from boostqa_airflow.alerting import dag_operations
from boostqa_airflow.constants import DBT_POOL
from boostqa_airflow.dbt import warehouse_task_group
from boostqa_airflow.operators.freshness import SourceFreshnessOperator
from boostqa_airflow.operators.lake import PrepareLakeOperator
from boostqa_airflow.operators.plan import PublishPlanOperator
from boostqa_airflow.policy import TaskKind, retry_args
from boostqa_airflow.runs import run_id_template

PLAN_ID = run_id_template("plan")

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
    # The mixture is selected and exported by mixture_export under its own version and tokenizer, never by a
    # warehouse build (it has neither; every sample's token count would be missing).
    build = warehouse_task_group("dbt", exclude=["fct_training_mixture", "export_training_mixture"],
                                 run_ids={"plan_id": PLAN_ID})
    publish = PublishPlanOperator(task_id="publish_warehouse", plan_id=PLAN_ID,
                                  outlets=[assets.WAREHOUSE, assets.PLAN], **retry_args(TaskKind.CONTROL))
    freshness = SourceFreshnessOperator(task_id="check_source_freshness", pool=DBT_POOL, **retry_args(TaskKind.DBT))
    PrepareLakeOperator(task_id="prepare_lake", **retry_args(TaskKind.LAKE)) >> [freshness, build]
    build >> publish
