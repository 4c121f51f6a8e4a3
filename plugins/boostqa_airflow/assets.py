"""Airflow assets that chain the DAGs: each stage updates one, the next stage is scheduled on it."""

from __future__ import annotations

from airflow.sdk import Asset

SEEDS = Asset(name="boostqa_seeds", uri="boostqa://lake/raw/seeds")
WAREHOUSE = Asset(name="boostqa_warehouse", uri="boostqa://warehouse/marts")
ANNOTATIONS = Asset(name="boostqa_annotations", uri="boostqa://lake/annotations")
PLAN = Asset(name="boostqa_plan", uri="boostqa://lake/plans/latest")
QA = Asset(name="boostqa_qa", uri="boostqa://lake/qa")
TRAINING_MIXTURE = Asset(name="training_mixture", uri="boostqa://lake/mixtures")
CHECKPOINT = Asset(name="checkpoint", uri="boostqa://checkpoints/midtrain")
EVAL = Asset(name="boostqa_eval", uri="boostqa://lake/eval")
