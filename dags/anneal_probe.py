"""anneal_probe: what does a mixture version (or one slice of it) add? Anneal it into a reference mix and compare.

Standing: scheduled on each new ``training_mixture`` version, and triggered by hand for a slice (one discipline, one
difficulty, one strategy) or another version. From one fixed base checkpoint (``base_model``; on the embedded stack
the probe's own tiny base, pre-trained once on general text and reused by every probe on the same data), the
``candidate`` arm anneals on ``candidate_share`` (30 %) candidate data and the rest reference mix, the ``control`` arm
on the reference mix alone at the same tokens; both decay the learning rate to zero. Both arms score the held-out
BoostQA items (per document, so per discipline x difficulty bucket) and general text, and are evaluated on the
benchmarks (``eval_*`` params; study models stay out of the closed loop's deficiency probe). ``collect_probe``
publishes the arms and their documents (``studies/anneal_arms/``, ``studies/anneal_documents/``); dbt builds
``fct_anneal_attribution`` (the delta per benchmark and per bucket, joined to the version and the items it
contains), and the report shows the newest probes.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG

from boostqa_airflow import assets
from boostqa_airflow.alerting import dag_operations
from boostqa_airflow.constants import EVAL_POOL
from boostqa_airflow.dbt import warehouse_task_group
from boostqa_airflow.operators.evaluate import EvaluateModelOperator
from boostqa_airflow.operators.report import ReportOperator
from boostqa_airflow.operators.study import (
    CollectProbeOperator,
    PrepareAnnealOperator,
    ProbeEvalTargetsOperator,
    StudyLaunchesOperator,
    StudyTrainOperator,
)
from boostqa_airflow.params import dag_params, templated
from boostqa_airflow.policy import TaskKind, retry_args
from boostqa_airflow.runs import run_id_template

PROBE_ID = run_id_template("anneal_probe")
EVAL_PARAMS = templated(ProbeEvalTargetsOperator.run_config, prefix="eval_")  # benchmark_eval's, prefixed

with DAG(
    dag_id="anneal_probe",
    description="attribution probe: anneal a mixture version (or a slice) into a reference mix against a control",
    schedule=[assets.TRAINING_MIXTURE],
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["boostqa", "training", "research"],
    params={**dag_params(PrepareAnnealOperator.run_config),
            **dag_params(ProbeEvalTargetsOperator.run_config, prefix="eval_")},
    **dag_operations("anneal_probe"),
    doc_md=__doc__,
) as dag:
    prepare = PrepareAnnealOperator(task_id="prepare_probe", run_id=PROBE_ID,
                                    stage_params=templated(PrepareAnnealOperator.run_config),
                                    **retry_args(TaskKind.LAKE))
    base_runs = StudyLaunchesOperator(task_id="base_runs", run_id=PROBE_ID, runs="bases",
                                      **retry_args(TaskKind.CONTROL))
    arm_runs = StudyLaunchesOperator(task_id="arm_runs", run_id=PROBE_ID, runs="arms",
                                     **retry_args(TaskKind.CONTROL))
    base = StudyTrainOperator.partial(task_id="pretrain_base", **retry_args(TaskKind.TRAIN)).expand_kwargs(
        base_runs.output)
    arms = StudyTrainOperator.partial(task_id="anneal_arms", trigger_rule="none_failed",
                                      **retry_args(TaskKind.TRAIN)).expand_kwargs(arm_runs.output)
    targets = ProbeEvalTargetsOperator(task_id="eval_targets", run_id=PROBE_ID, stage_params=EVAL_PARAMS,
                                       **retry_args(TaskKind.CONTROL))
    evaluate = EvaluateModelOperator.partial(
        task_id="evaluate", stage_params=EVAL_PARAMS, pool=EVAL_POOL, execution_timeout=timedelta(hours=6),
        **retry_args(TaskKind.EVAL),
    ).expand_kwargs(targets.output)
    collect = CollectProbeOperator(task_id="collect_probe", run_id=PROBE_ID, **retry_args(TaskKind.LAKE))
    marts = warehouse_task_group("dbt_anneal", select=["eval_benchmarks", "path:models/staging/eval", "fct_eval_scores",
                                                       "stg_studies__anneal_arms", "stg_studies__anneal_documents",
                                                       "fct_anneal_attribution"])
    report = ReportOperator(task_id="report", report_id=PROBE_ID, **retry_args(TaskKind.LAKE))
    prepare >> [base_runs, arm_runs]
    base_runs >> base >> arms
    arm_runs >> arms
    arms >> targets >> evaluate >> collect >> marts >> report
