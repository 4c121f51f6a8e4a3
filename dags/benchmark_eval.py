"""benchmark_eval: score a model on the 12 benchmarks, compare it with the baseline, refresh the closed loop.

Scheduled on the ``checkpoint`` asset (the model is the HF folder in the triggering event's extra) and
triggerable by hand for any model folder (params ``model_id`` + ``hf_folder``; or a vLLM server for the
generative benchmarks). With ``with_baseline`` the base model is scored in the same run, so every run ends
with a before/after comparison. One mapped task per model (one model load) scores its benchmarks and writes
per-item results (labelled with discipline and difficulty) and metrics per benchmark to ``eval/`` in the
lake; dbt builds the eval marts and refills ``fct_deficiency_probe`` and ``fct_mixing_ratios`` (the next
``warehouse_build`` turns them into the next generation plan); the report is rendered to
``reports/<run>/index.html``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG

from boostqa_airflow import assets
from boostqa_airflow.alerting import dag_operations
from boostqa_airflow.constants import EVAL_POOL
from boostqa_airflow.dbt import warehouse_task_group
from boostqa_airflow.operators.evaluate import EvaluateModelOperator, ResolveEvalTargetsOperator
from boostqa_airflow.operators.report import ReportOperator
from boostqa_airflow.params import dag_params, templated
from boostqa_airflow.policy import TaskKind, retry_args

STAGE_PARAMS = templated(ResolveEvalTargetsOperator.run_config)

with DAG(
    dag_id="benchmark_eval",
    description="Score checkpoint and baseline on the 12 benchmarks; eval marts, deficiency probe, report",
    schedule=[assets.CHECKPOINT],
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["boostqa", "eval"],
    params={
        **dag_params(ResolveEvalTargetsOperator.run_config),
    },
    **dag_operations("benchmark_eval"),
    doc_md=__doc__,
) as dag:
    targets = ResolveEvalTargetsOperator(
        task_id="resolve_models", stage_params=STAGE_PARAMS, **retry_args(TaskKind.CONTROL),
    )
    evaluate = EvaluateModelOperator.partial(
        task_id="evaluate", stage_params=STAGE_PARAMS, pool=EVAL_POOL,
        execution_timeout=timedelta(hours=6), **retry_args(TaskKind.EVAL),
    ).expand_kwargs(targets.output)
    marts = warehouse_task_group("dbt_eval", select=["eval_benchmarks", "path:models/staging/eval",
                                                     "path:models/marts/eval", "fct_deficiency_probe",
                                                     "fct_mixing_ratios"])
    report = ReportOperator(task_id="report", outlets=[assets.EVAL], **retry_args(TaskKind.LAKE))
    evaluate >> marts >> report
