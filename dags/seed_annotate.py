"""seed_annotate: label new seeds with discipline x difficulty through the annotator LLM role (incremental)."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG, Param

from boostqa_airflow import assets
from boostqa_airflow.alerting import dag_operations
from boostqa_airflow.constants import LLM_POOLS
from boostqa_airflow.operators.annotate import DEFAULT_PROMPT_VERSION, AnnotateSeedsOperator
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
        "limit": Param(None, type=["null", "integer"], minimum=1, description="annotate at most this many seeds"),
        "shard_size": Param(64, type="integer", minimum=1, description="seeds per resumable shard"),
        "samples": Param(1, type="integer", minimum=1, maximum=9,
                         description="labels per seed; several give a consensus and an agreement rate in dbt"),
        "prompt_version": Param(DEFAULT_PROMPT_VERSION, type="string", description="prompt template version"),
        RESUME_PARAM: Param("", type="string", description="continue this earlier annotate run (its frozen work "
                            "list and finished shards) instead of starting a new one"),
    },
    **dag_operations("seed_annotate"),
    doc_md=__doc__,
) as dag:
    AnnotateSeedsOperator(
        task_id="annotate_seeds",
        run_id=run_id_template("annotate"),
        prompt_version="{{ params.prompt_version }}",
        limit="{{ params.limit }}",
        shard_size="{{ params.shard_size }}",
        samples="{{ params.samples }}",
        pool=LLM_POOLS["annotator"],
        execution_timeout=timedelta(hours=6),
        outlets=[assets.ANNOTATIONS], **retry_args(TaskKind.LLM),
    )
