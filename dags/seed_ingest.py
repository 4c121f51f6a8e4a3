"""seed_ingest: fetch every seed source, validate, normalize and write the raw zone; bad rows to quarantine."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG, Param

from boostqa_airflow import assets
from boostqa_airflow.constants import DEFAULT_RETRIES, OWNER
from boostqa_airflow.operators.ingest import IngestSeedSourceOperator, ListSeedSourcesOperator, PublishSeedsOperator

with DAG(
    dag_id="seed_ingest",
    description="Seed sources -> S3 raw zone (parquet, manifests) + quarantine",
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["boostqa", "ingest"],
    params={"sources_file": Param(None, type=["null", "string"], description="seed sources YAML (default: shipped)")},
    default_args={"owner": OWNER, "retries": DEFAULT_RETRIES, "retry_delay": timedelta(minutes=1),
                  "retry_exponential_backoff": True},
    doc_md=__doc__,
) as dag:
    sources = ListSeedSourcesOperator(task_id="list_sources", sources_file="{{ params.sources_file or '' }}")
    ingested = IngestSeedSourceOperator.partial(
        task_id="ingest_source", sources_file="{{ params.sources_file or '' }}"
    ).expand(source_name=sources.output)
    PublishSeedsOperator(task_id="publish_seeds", results=ingested.output, outlets=[assets.SEEDS])
