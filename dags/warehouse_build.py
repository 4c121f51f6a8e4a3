"""warehouse_build: dbt (via cosmos) builds taxonomy seeds, staging, intermediate and marts over the lake.

Scheduled on new seeds, new annotations and new evaluations (``boostqa_eval``: the closed loop). Each run exports a
new generation plan under its own ``plan_id`` (``plans/plan_id=<id>/``, never rewritten by a later run), then points
``plans/latest.json`` at it and announces ``boostqa_plan`` with the id in the event's extra. A run that evaluations
alone triggered does so only when the deficiency probe moved by ``replan_min_change`` (else ``publish_plan`` is
skipped): the loop cannot turn without new information.
Beside the build, ``check_source_freshness`` judges how fresh the lake's tables are as of the run: it logs every
table past its ``warn_after`` and fails (the run fails and alerts) on one past its ``error_after``, without holding
the build back.
"""

from __future__ import annotations

from datetime import datetime

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG

from boostqa_airflow import assets
from boostqa_airflow.alerting import dag_operations
from boostqa_airflow.constants import DBT_POOL
from boostqa_airflow.dbt import warehouse_task_group
from boostqa_airflow.operators.freshness import SourceFreshnessOperator
from boostqa_airflow.operators.lake import PrepareLakeOperator
from boostqa_airflow.operators.plan import PublishPlanOperator
from boostqa_airflow.params import dag_params, templated
from boostqa_airflow.policy import TaskKind, retry_args
from boostqa_airflow.runs import run_id_template

PLAN_ID = run_id_template("plan")

with DAG(
    dag_id="warehouse_build",
    description="dbt build of the DuckDB warehouse, one task per model, in the one-slot dbt pool",
    schedule=(assets.SEEDS | assets.ANNOTATIONS | assets.EVAL),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["boostqa", "dbt"],
    params=dag_params(PublishPlanOperator.run_config),
    **dag_operations("warehouse_build"),
    doc_md=__doc__,
) as dag:
    # The mixture is selected and exported by mixture_export under its own version and tokenizer, never by a
    # warehouse build (it has neither; every sample's token count would be missing).
    build = warehouse_task_group("dbt", exclude=["fct_training_mixture", "export_training_mixture"],
                                 run_ids={"plan_id": PLAN_ID})
    publish_warehouse = EmptyOperator(task_id="publish_warehouse", outlets=[assets.WAREHOUSE],
                                      **retry_args(TaskKind.CONTROL))
    publish = PublishPlanOperator(task_id="publish_plan", plan_id=PLAN_ID,
                                  stage_params=templated(PublishPlanOperator.run_config), outlets=[assets.PLAN],
                                  **retry_args(TaskKind.CONTROL))
    freshness = SourceFreshnessOperator(task_id="check_source_freshness", pool=DBT_POOL, **retry_args(TaskKind.DBT))
    PrepareLakeOperator(task_id="prepare_lake", **retry_args(TaskKind.LAKE)) >> [freshness, build]
    build >> [publish_warehouse, publish]
