"""mixture_export: QC'd BoostQA items + general corpus -> training mixture (parquet, dataset card, packed tokens).

Scheduled on the ``boostqa_qa`` asset. Stages the general corpus in the lake and runs it through QC (the QC job of
synthesized items, with document filters), counts the candidates' tokens with the target model's tokenizer (a Ray
job; only what no earlier run counted), builds the mixture marts in dbt (the ratio in tokens, bucket caps,
deterministic shuffle; exported to ``mixtures/<version>/selection.parquet``), tokenizes and packs the selection (a
Ray job), then builds the per-sample lineage mart and announces the
``training_mixture`` asset. Every run exports a new, immutable version (``mixture_<time>Z_<hash>``, passed to dbt as
the var ``mixture_version``); ``mixtures/latest.json`` points at it once it is complete, and the asset event's extra
carries the version and its manifest's sha256.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG

from boostqa_airflow import assets
from boostqa_airflow.alerting import dag_operations
from boostqa_airflow.dbt import warehouse_task_group
from boostqa_airflow.operators.mixture import (
    CountTokensOperator,
    ExportMixtureOperator,
    PublishMixtureOperator,
    StageGeneralCorpusOperator,
)
from boostqa_airflow.operators.qc import GeneralCorpusQcOperator
from boostqa_airflow.params import dag_params, dbt_values, templated
from boostqa_airflow.policy import TaskKind, retry_args
from boostqa_airflow.runs import run_id_template

# A new version per DAG run (retries keep it): mixture_<time>Z_<hash>.
MIXTURE_VERSION = run_id_template("mixture")
# The mixing params dbt applies when it selects the mixture (env vars over the dbt vars of the same meaning).
MIXING = dbt_values(ExportMixtureOperator.run_config, ExportMixtureOperator.run_config.DBT_VARS)
# The tokenizer whose counts the selection mixes by: the sha256 the count_tokens task returned.
TOKENIZER = "{{ ti.xcom_pull(task_ids='count_tokens')['tokenizer_sha256'] }}"

with DAG(
    dag_id="mixture_export",
    description="Select, shuffle, tokenize and pack the training mixture; dataset card, manifest, lineage",
    schedule=[assets.QA],
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["boostqa", "mixture", "training"],
    # qc_*: the QC params of the general corpus' QC; its shingle and LSH settings must be those of the synthesis runs'
    # QC (the index they share refuses others).
    params={**dag_params(ExportMixtureOperator.run_config),
            **dag_params(GeneralCorpusQcOperator.run_config, prefix="qc_")},
    **dag_operations("mixture_export"),
    doc_md=__doc__,
) as dag:
    general = StageGeneralCorpusOperator(task_id="stage_general_corpus", **retry_args(TaskKind.LAKE))
    # The staged documents through the same QC job as synthesized items (document filters, decontamination, dedup
    # against themselves and every indexed BoostQA item), redone after every staging.
    general_qc = GeneralCorpusQcOperator(
        task_id="qc_general_corpus", stage_params=templated(GeneralCorpusQcOperator.run_config, prefix="qc_"),
        execution_timeout=timedelta(hours=4), **retry_args(TaskKind.LAKE),
    )
    count = CountTokensOperator(
        task_id="count_tokens", run_id=MIXTURE_VERSION, stage_params=templated(CountTokensOperator.run_config),
        execution_timeout=timedelta(hours=12), **retry_args(TaskKind.LAKE),
    )
    selection = warehouse_task_group(
        "dbt_mixture", select=["path:models/staging/general/stg_general__documents.sql",
                               "path:models/staging/general/stg_mixtures__token_counts.sql", "stg_qc__general_kept",
                               "int_general_documents_passed", "fct_training_mixture", "export_training_mixture"],
        run_ids={"mixture_version": MIXTURE_VERSION, "mixture_tokenizer": TOKENIZER, **MIXING},
    )
    export = ExportMixtureOperator(
        task_id="export_mixture", run_id=MIXTURE_VERSION,
        stage_params=templated(ExportMixtureOperator.run_config), execution_timeout=timedelta(hours=12),
        **retry_args(TaskKind.LAKE),
    )
    lineage = warehouse_task_group("dbt_lineage", select=["stg_mixtures__lineage", "fct_mixture_lineage"],
                                   run_ids={"mixture_version": MIXTURE_VERSION})
    publish = PublishMixtureOperator(task_id="publish_mixture", mixture_version=MIXTURE_VERSION,
                                     outlets=[assets.TRAINING_MIXTURE], **retry_args(TaskKind.CONTROL))
    general >> general_qc >> count >> selection >> export >> lineage >> publish
