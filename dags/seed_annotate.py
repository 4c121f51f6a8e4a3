"""seed_annotate: label new seeds with discipline x difficulty through the annotator LLM role (incremental).

Scheduled on the seeds asset. Every DAG run is a new annotate run (``annotate_<time>Z_<hash>``): ``freeze_shards``
freezes the seeds no run has labelled yet and their shard boundaries (a retry or ``resume_run_id`` keeps both),
``annotate_shard`` is mapped over the shards in the annotator pool (a finished shard is skipped, a crashed one
replays its calls from the cache, a failed one retries alone), and ``finish_run`` writes the run's summary marker
once every shard is finished and announces the ``boostqa_annotations`` asset. No pending seed skips the run.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG, Param

from boostqa_airflow import assets
from boostqa_airflow.alerting import dag_operations
from boostqa_airflow.constants import LLM_POOLS
from boostqa_airflow.operators.annotate import (
    AnnotateShardOperator,
    FinishAnnotateRunOperator,
    FreezeAnnotateShardsOperator,
)
from boostqa_airflow.params import dag_params, templated
from boostqa_airflow.policy import TaskKind, retry_args
from boostqa_airflow.runs import RESUME_PARAM, run_id_template

RUN_ID = run_id_template("annotate")
STAGE_PARAMS = templated(AnnotateShardOperator.run_config)

with DAG(
    dag_id="seed_annotate",
    description="Seeds not yet annotated -> annotator role -> annotations/ (+ quarantine, token ledger)",
    schedule=[assets.SEEDS],
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["boostqa", "llm", "annotate"],
    params={
        **dag_params(AnnotateShardOperator.run_config),
        RESUME_PARAM: Param("", type="string", description="continue this earlier annotate run (its frozen work "
                            "list and finished shards) instead of starting a new one"),
    },
    **dag_operations("seed_annotate"),
    doc_md=__doc__,
) as dag:
    shards = FreezeAnnotateShardsOperator(
        task_id="freeze_shards", run_id=RUN_ID, stage_params=STAGE_PARAMS, **retry_args(TaskKind.LAKE),
    )
    annotated = AnnotateShardOperator.partial(
        task_id="annotate_shard", run_id=RUN_ID, stage_params=STAGE_PARAMS, pool=LLM_POOLS["annotator"],
        execution_timeout=timedelta(hours=6), **retry_args(TaskKind.LLM),
    ).expand(shard=shards.output)
    FinishAnnotateRunOperator(
        task_id="finish_run", run_id=RUN_ID, shard_results=annotated.output, outlets=[assets.ANNOTATIONS],
        **retry_args(TaskKind.CONTROL),
    )
