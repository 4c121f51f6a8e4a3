"""qa_synthesis: the plan's jobs -> generator (drafts) -> annotator (difficulty check) -> refiner -> qa/ -> QC.

Scheduled on the plan asset. Every DAG run is a new synthesis run (``synthesize_<time>Z_<hash>``) over the plan the
triggering event names; an empty plan skips the run cleanly. Mapped over shards of the frozen job list; each shard
is idempotent (completion marker, cached calls), so a retried run (or one resumed by ``resume_run_id``) continues
where it stopped. The quality_control task group then
filters the run's items, drops benchmark-contaminated ones and removes exact and near duplicates (within the run
and against every earlier run). Ends with the dbt models of the synthesized items and of QC (funnels, usage, plan
versus actual, audit pairs) and announces the ``boostqa_qa`` asset.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG, Param, TaskGroup

from boostqa_airflow import assets
from boostqa_airflow.alerting import dag_operations
from boostqa_airflow.constants import LLM_POOLS
from boostqa_airflow.dbt import warehouse_task_group
from boostqa_airflow.operators.qc import QualityControlOperator
from boostqa_airflow.operators.synthesize import SnapshotSynthesisJobsOperator, SynthesizeShardOperator
from boostqa_airflow.params import dag_params, templated
from boostqa_airflow.policy import TaskKind, retry_args
from boostqa_airflow.runs import RESUME_PARAM, run_id_template

RUN_ID = run_id_template("synthesize")
STAGE_PARAMS = templated(SynthesizeShardOperator.run_config)

with DAG(
    dag_id="qa_synthesis",
    description="Synthesize STEM multi-grade and high-difficulty QA from the plan; verify difficulty; refine answers",
    schedule=[assets.PLAN],
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["boostqa", "llm", "synthesis"],
    params={
        RESUME_PARAM: Param("", type="string", description="continue this earlier synthesis run (its frozen jobs "
                            "and finished shards) instead of starting a new one"),
        **dag_params(SynthesizeShardOperator.run_config),
        **dag_params(QualityControlOperator.run_config, prefix="qc_"),
    },
    **dag_operations("qa_synthesis"),
    doc_md=__doc__,
) as dag:
    shards = SnapshotSynthesisJobsOperator(
        task_id="snapshot_jobs", run_id=RUN_ID, stage_params=STAGE_PARAMS, **retry_args(TaskKind.LAKE),
    )
    synthesize = SynthesizeShardOperator.partial(
        task_id="synthesize_shard", run_id=RUN_ID, stage_params=STAGE_PARAMS, pool=LLM_POOLS["generator"],
        execution_timeout=timedelta(hours=6), **retry_args(TaskKind.LLM),
    ).expand(shard=shards.output)
    with TaskGroup("quality_control", tooltip="filters -> decontamination -> exact dedup -> near dedup") as qc:
        QualityControlOperator(
            task_id="filter_decontaminate_dedup", run_id=RUN_ID,
            stage_params=templated(QualityControlOperator.run_config, prefix="qc_"),
            execution_timeout=timedelta(hours=4), **retry_args(TaskKind.LAKE),
        )
    marts = warehouse_task_group(
        "dbt_synthesis", select=["path:models/staging/qa", "path:models/marts/synthesis", "path:models/staging/llm",
                                 "path:models/marts/llm", "path:models/staging/qc", "int_qa_items_screened",
                                 "path:models/marts/qc"],
    )
    publish = EmptyOperator(task_id="publish_qa", outlets=[assets.QA], **retry_args(TaskKind.CONTROL))
    synthesize >> qc >> marts >> publish
