"""midtrain: mid-train the target model on the exported mixture with DeepSpeed, launched and watched by Airflow.

Scheduled on the ``training_mixture`` asset (the mixture version is in the event's extra). Every DAG run is a new
training run (``midtrain_<time>Z_<hash>``, its own checkpoint folder): it resumes another only when the
``resume_run_id`` param names it. The DeepSpeed operator submits ``training.train`` through a
launcher (``local``: torchrun in .venv-train on this machine; ``kubernetes``: a Job rendered from
infra/k8s/training-job.yaml; ``slurm``: infra/slurm/train.sbatch), then defers to a trigger that polls the run's
status file. A killed or preempted run resumes from its last checkpoint with the same data order. On success the
run's per-step metrics and the samples each step read go to the lake (``training/metrics/``,
``training/samples/``), the ``checkpoint`` asset is announced with the
exported HF folder as its event's extra, and dbt builds the training marts (loss curve, run summary).
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG, Param

from boostqa_airflow import assets
from boostqa_airflow.alerting import dag_operations
from boostqa_airflow.dbt import warehouse_task_group
from boostqa_airflow.operators.train import DeepSpeedTrainOperator, PublishTrainingRunOperator
from boostqa_airflow.params import dag_params, templated
from boostqa_airflow.policy import TaskKind, retry_args
from boostqa_airflow.runs import RESUME_PARAM, run_id_template

with DAG(
    dag_id="midtrain",
    description="DeepSpeed mid-training on the training mixture; checkpoints, resume, HF export",
    schedule=[assets.TRAINING_MIXTURE],
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["boostqa", "training"],
    params={
        **dag_params(DeepSpeedTrainOperator.run_config),
        RESUME_PARAM: Param("", type="string", description="resume this earlier training run from its last "
                            "checkpoint (same mixture only) instead of starting a new run"),
    },
    **dag_operations("midtrain"),
    doc_md=__doc__,
) as dag:
    train = DeepSpeedTrainOperator(
        task_id="train",
        run_id=run_id_template("midtrain"),
        stage_params=templated(DeepSpeedTrainOperator.run_config),
        **retry_args(TaskKind.TRAIN),
    )
    publish = PublishTrainingRunOperator(task_id="publish_training_run", outlets=[assets.CHECKPOINT],
                                         **retry_args(TaskKind.CONTROL))
    marts = warehouse_task_group("dbt_training", select=["path:models/staging/training", "fct_training_steps",
                                                         "fct_training_runs", "fct_checkpoint_samples"])
    train >> publish >> marts
