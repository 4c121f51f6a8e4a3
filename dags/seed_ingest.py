"""seed_ingest: fetch every seed source, validate, normalize and write the raw zone; bad rows to quarantine."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from boostqa_airflow import assets
from boostqa_airflow.alerting import dag_operations
from boostqa_airflow.operators.ingest import IngestSeedSourceOperator, ListSeedSourcesOperator, PublishSeedsOperator
from boostqa_airflow.params import dag_params, templated
from boostqa_airflow.policy import TaskKind, retry_args

STAGE_PARAMS = templated(IngestSeedSourceOperator.run_config)

with DAG(
    dag_id="seed_ingest",
    description="Seed sources -> S3 raw zone (parquet, manifests) + quarantine",
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["boostqa", "ingest"],
    params=dag_params(IngestSeedSourceOperator.run_config),
    **dag_operations("seed_ingest"),
    doc_md=__doc__,
) as dag:
    sources = ListSeedSourcesOperator(task_id="list_sources", stage_params=STAGE_PARAMS, **retry_args(TaskKind.CONTROL))
    ingested = IngestSeedSourceOperator.partial(
        task_id="ingest_source", stage_params=STAGE_PARAMS, **retry_args(TaskKind.LAKE)
    ).expand(source_name=sources.output)
    PublishSeedsOperator(task_id="publish_seeds", results=ingested.output, outlets=[assets.SEEDS],
                         **retry_args(TaskKind.CONTROL))
