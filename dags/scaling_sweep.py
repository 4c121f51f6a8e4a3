"""scaling_sweep: does the gain grow with model size, initial compute and BoostQA tokens? A grid of mid-training runs.

Triggered by hand (a research study, not a daily job). ``prepare_sweep`` cuts the mixture's BoostQA items and the
staged general corpus into train and held-out documents and writes every blend the grid needs; ``pretrain_bases``
pre-trains each model size on general text for each ``base_tokens`` budget (mapped; a budget of 0 is the seeded
random init); ``train_cells`` mid-trains every cell (mapped): per base and BoostQA volume a ``boostqa`` arm and a
``control`` arm on general text alone at the same token count. Every run goes through the training launcher (local,
Kubernetes or Slurm) and scores both held-out sets before and after. ``collect_cells`` publishes one row per arm
(``studies/scaling_cells/``), and dbt builds ``fct_scaling_grid`` (gains, 6 N D compute) and ``fct_scaling_trend``
(gain against ln tokens per base, with residuals); the report shows the newest sweep's gains. In production
``base_checkpoints`` names real bases.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from boostqa_airflow.alerting import dag_operations
from boostqa_airflow.dbt import warehouse_task_group
from boostqa_airflow.operators.report import ReportOperator
from boostqa_airflow.operators.study import (
    CollectSweepOperator,
    PrepareSweepOperator,
    StudyLaunchesOperator,
    StudyTrainOperator,
)
from boostqa_airflow.params import dag_params, templated
from boostqa_airflow.policy import TaskKind, retry_args
from boostqa_airflow.runs import run_id_template

SWEEP_ID = run_id_template("scaling_sweep")

with DAG(
    dag_id="scaling_sweep",
    description="scaling study: model sizes x base compute x BoostQA tokens, each cell against a general-text control",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["boostqa", "training", "research"],
    params=dag_params(PrepareSweepOperator.run_config),
    **dag_operations("scaling_sweep"),
    doc_md=__doc__,
) as dag:
    prepare = PrepareSweepOperator(task_id="prepare_sweep", run_id=SWEEP_ID,
                                   stage_params=templated(PrepareSweepOperator.run_config),
                                   **retry_args(TaskKind.LAKE))
    base_runs = StudyLaunchesOperator(task_id="base_runs", run_id=SWEEP_ID, runs="bases",
                                      **retry_args(TaskKind.CONTROL))
    cell_runs = StudyLaunchesOperator(task_id="cell_runs", run_id=SWEEP_ID, runs="cells",
                                      **retry_args(TaskKind.CONTROL))
    bases = StudyTrainOperator.partial(task_id="pretrain_bases", **retry_args(TaskKind.TRAIN)).expand_kwargs(
        base_runs.output)
    cells = StudyTrainOperator.partial(task_id="train_cells", trigger_rule="none_failed",
                                       **retry_args(TaskKind.TRAIN)).expand_kwargs(cell_runs.output)
    collect = CollectSweepOperator(task_id="collect_cells", run_id=SWEEP_ID, **retry_args(TaskKind.LAKE))
    marts = warehouse_task_group("dbt_scaling", select=["stg_studies__scaling_cells", "fct_scaling_grid",
                                                        "fct_scaling_trend"])
    report = ReportOperator(task_id="report", report_id=SWEEP_ID, **retry_args(TaskKind.LAKE))
    prepare >> [base_runs, cell_runs]
    base_runs >> bases >> cells
    cell_runs >> cells
    cells >> collect >> marts >> report
