"""mixture_export: QC'd BoostQA items + general corpus -> training mixture (parquet, dataset card, packed tokens).

Scheduled on the ``boostqa_qa`` asset. Stages the general corpus in the lake, builds the mixture marts in dbt
(ratio, bucket caps, deterministic shuffle; exported to ``mixtures/<version>/selection.parquet``), tokenizes and
packs the selection with the target model's tokenizer, then builds the per-sample lineage mart and announces the
``training_mixture`` asset. The mixture version is the dbt var ``mixture_version`` (default v1).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import DAG, Param

from boostqa_airflow import assets
from boostqa_airflow.alerting import dag_operations
from boostqa_airflow.dbt import warehouse_task_group
from boostqa_airflow.operators.mixture import ExportMixtureOperator, StageGeneralCorpusOperator
from boostqa_airflow.policy import TaskKind, retry_args

with DAG(
    dag_id="mixture_export",
    description="Select, shuffle, tokenize and pack the training mixture; dataset card, manifest, lineage",
    schedule=[assets.QA],
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["boostqa", "mixture", "training"],
    params={
        "mixture_version": Param("v1", type="string", description="must equal the dbt var mixture_version"),
        "seq_len": Param(512, type="integer", minimum=16, description="tokens per packed sequence"),
        "tokenizer_dir": Param("", type="string", description="HF folder of the target model (default: the "
                               "embedded stack's SmolLM2 folder)"),
    },
    **dag_operations("mixture_export"),
    doc_md=__doc__,
) as dag:
    general = StageGeneralCorpusOperator(task_id="stage_general_corpus", **retry_args(TaskKind.LAKE))
    selection = warehouse_task_group(
        "dbt_mixture", select=["path:models/staging/general/stg_general__documents.sql",
                               "fct_training_mixture", "export_training_mixture"],
    )
    export = ExportMixtureOperator(
        task_id="export_mixture", mixture_version="{{ params.mixture_version }}", seq_len="{{ params.seq_len }}",
        tokenizer_dir="{{ params.tokenizer_dir }}", execution_timeout=timedelta(hours=12), **retry_args(TaskKind.LAKE),
    )
    lineage = warehouse_task_group("dbt_lineage", select=["fct_mixture_lineage"])
    publish = EmptyOperator(task_id="publish_mixture", outlets=[assets.TRAINING_MIXTURE],
                            **retry_args(TaskKind.CONTROL))
    general >> selection >> export >> lineage >> publish
