"""seed_annotate: label new seeds with discipline x difficulty through the annotator LLM role (incremental)."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG, Param

from boostqa_airflow import assets
from boostqa_airflow.alerting import dag_operations
from boostqa_airflow.constants import LLM_POOLS
from boostqa_airflow.operators.annotate import AnnotateSeedsOperator
from boostqa_airflow.params import dag_params, templated
from boostqa_airflow.policy import TaskKind, retry_args
from boostqa_airflow.runs import RESUME_PARAM, run_id_template

with DAG(
    dag_id="seed_annotate",
    description="Seeds not yet annotated -> annotator role -> annotations/ (+ quarantine, token ledger)",
    schedule=[assets.SEEDS],
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["boostqa", "llm", "annotate"],
    params={
        **dag_params(AnnotateSeedsOperator.run_config),
        RESUME_PARAM: Param("", type="string", description="continue this earlier annotate run (its frozen work "
                            "list and finished shards) instead of starting a new one"),
    },
    **dag_operations("seed_annotate"),
    doc_md=__doc__,
) as dag:
    AnnotateSeedsOperator(
        task_id="annotate_seeds",
        run_id=run_id_template("annotate"),
        stage_params=templated(AnnotateSeedsOperator.run_config),
        pool=LLM_POOLS["annotator"],
        execution_timeout=timedelta(hours=6),
        outlets=[assets.ANNOTATIONS], **retry_args(TaskKind.LLM),
    )
