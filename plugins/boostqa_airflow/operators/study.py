"""Operators of the research studies: prepare a study's data and plan, train one of its runs, collect its rows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import pyarrow.parquet as pq
from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException

from boostqa.errors import ConfigError, LakeError
from boostqa.eval.config import EvalRunConfig
from boostqa.lake import layout
from boostqa.lake.store import ObjectStore
from boostqa.lake.versions import resolve_version
from boostqa.launch.config import LaunchRunConfig
from boostqa.runs import check_id
from boostqa.settings import get_settings
from boostqa.studies.anneal import CANDIDATE_ITEMS, AnnealRunConfig, prepare_anneal
from boostqa.studies.collect import publish_cells, publish_probe
from boostqa.studies.config import StudyRunConfig
from boostqa.studies.grid import SweepRunConfig
from boostqa.studies.runs import load_plan, study_dir
from boostqa.studies.sweep import prepare_sweep
from boostqa_airflow.constants import S3_CONN_ID
from boostqa_airflow.failfast import fails_fast
from boostqa_airflow.hooks.lake import LakeHook
from boostqa_airflow.operators.train import DeepSpeedTrainOperator
from boostqa_airflow.params import validated
from boostqa_airflow.runs import from_asset_events


def study_folder(run_id: str) -> Path:
    """Where a study run keeps its data and plan (in the training folder the trainer shares)."""
    return study_dir(get_settings().training_dir, run_id)


def launch_kwargs(plan: dict[str, Any], runs: str, data_uri: str) -> list[dict[str, Any]]:
    """The mapped training tasks' kwargs for the plan's ``runs`` (``bases``, ``cells``, ``arms``)."""
    return [{"run_id": run["run_id"], "data_dir": run["data_dir"], "data_uri": f"{data_uri}data/{run['blend']}/",
             "stage_params": {**plan["launch"], "overrides": run["overrides"],
                              "mixture_version": plan["mixture_version"], "output_dir": run["output_dir"]}}
            for run in plan[runs]]


def read_plan(run_id: str) -> dict[str, Any]:
    """The plan a study's prepare task wrote.

    Raises:
        AirflowFailException: there is none (the prepare task has not run for this run id).
    """
    folder = study_folder(run_id)
    plan = load_plan(folder)
    if plan is None:
        raise AirflowFailException(f"study {run_id} has no plan in {folder}: run its prepare task first")
    return plan


@fails_fast
class _PrepareStudyOperator(BaseOperator):
    """Resolve the study's mixture and tokenizer, write its data and plan, and log what it will train."""

    run_config: ClassVar[type[StudyRunConfig]]
    template_fields: Sequence[str] = ("run_id", "stage_params")

    def __init__(self, *, run_id: str, stage_params: Mapping[str, Any] | None = None,
                 lake_conn_id: str = S3_CONN_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.run_id, self.stage_params, self.lake_conn_id = run_id, dict(stage_params or {}), lake_conn_id

    def _prepare(self, store: ObjectStore, config: Any, mixture: str, tokenizer: Path) -> dict[str, Any]:
        raise NotImplementedError

    def execute(self, context: Any) -> dict[str, Any]:
        config = validated(self.run_config, self.stage_params)
        store = LakeHook(self.lake_conn_id).get_conn()
        try:
            explicit = config.mixture_version or from_asset_events(context, "mixture_version")
            mixture = resolve_version(store, "mixtures", explicit)
            tokenizer = Path(config.tokenizer_dir) if config.tokenizer_dir else get_settings().served_model_dir
            plan = self._prepare(store, config, mixture, tokenizer)
        except (ConfigError, LakeError) as exc:
            raise AirflowFailException(str(exc)) from exc
        runs = {kind: len(plan[kind]) for kind in ("bases", "cells", "arms") if kind in plan}
        self.log.info("%s %s on mixture %s: runs %s", config.stage, self.run_id, mixture, runs)
        return {"run_id": self.run_id, "mixture_version": mixture, **runs}


@fails_fast
class PrepareSweepOperator(_PrepareStudyOperator):
    """Write a scaling sweep's blends, held-out sets and plan (its launches: :class:`StudyLaunchesOperator`)."""

    run_config: ClassVar[type[StudyRunConfig]] = SweepRunConfig

    def _prepare(self, store: ObjectStore, config: Any, mixture: str, tokenizer: Path) -> dict[str, Any]:
        return prepare_sweep(store, config, self.run_id, mixture, tokenizer, get_settings().training_dir)


@fails_fast
class PrepareAnnealOperator(_PrepareStudyOperator):
    """Write an anneal probe's blends (candidate and control arms), held-out sets and plan; its base if needed."""

    run_config: ClassVar[type[StudyRunConfig]] = AnnealRunConfig

    def _prepare(self, store: ObjectStore, config: Any, mixture: str, tokenizer: Path) -> dict[str, Any]:
        return prepare_anneal(store, config, self.run_id, mixture, tokenizer, get_settings().training_dir)


@fails_fast
class StudyLaunchesOperator(BaseOperator):
    """Hand one kind of a study's training runs (``bases``, ``cells``, ``arms``) to a mapped training task."""

    template_fields: Sequence[str] = ("run_id",)

    def __init__(self, *, run_id: str, runs: str, lake_conn_id: str = S3_CONN_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.run_id, self.runs, self.lake_conn_id = run_id, runs, lake_conn_id

    def execute(self, context: Any) -> list[dict[str, Any]]:
        plan = read_plan(self.run_id)
        data_uri = LakeHook(self.lake_conn_id).get_config().uri(layout.study_data_prefix(self.run_id))
        return launch_kwargs(plan, self.runs, data_uri)


class StudyTrainOperator(DeepSpeedTrainOperator):
    """One training run of a study: the midtrain operator on the study's own packed blend instead of a mixture."""

    run_config: ClassVar[type[LaunchRunConfig]] = LaunchRunConfig

    def __init__(self, *, data_dir: str, data_uri: str, poll_seconds: float = 5.0, **kwargs: Any) -> None:
        # A study's runs are many and short: waiting up to 15 s (midtrain's poll) after each adds up over a grid.
        super().__init__(poll_seconds=poll_seconds, **kwargs)
        self.data_dir, self.data_uri = data_dir, data_uri

    def _resolve_mixture(self, context: Any) -> str:
        return check_id(self.launch.mixture_version, "mixture version")  # the version the blend was cut from

    def _mixture_dir(self, mixture_version: str) -> Path:
        return Path(self.data_dir)

    def _mixture_uri(self, mixture_version: str) -> str:
        return self.data_uri


@fails_fast
class ProbeEvalTargetsOperator(BaseOperator):
    """The probe's two arms as evaluation tasks' kwargs (``{model, benchmarks}``), with the DAG's eval params."""

    run_config: ClassVar[type[EvalRunConfig]] = EvalRunConfig
    template_fields: Sequence[str] = ("run_id", "stage_params")

    def __init__(self, *, run_id: str, stage_params: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.run_id, self.stage_params = run_id, dict(stage_params or {})

    def execute(self, context: Any) -> list[dict[str, Any]]:
        benchmarks = validated(self.run_config, self.stage_params).benchmark_names()
        return [{"model": model, "benchmarks": benchmarks} for model in read_plan(self.run_id)["evals"]]


@fails_fast
class _CollectStudyOperator(BaseOperator):
    """Read the study's plan, publish its rows (one per trained run and more) for dbt, and log what went where."""

    template_fields: Sequence[str] = ("run_id",)

    def __init__(self, *, run_id: str, lake_conn_id: str = S3_CONN_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.run_id, self.lake_conn_id = run_id, lake_conn_id

    def _publish(self, store: ObjectStore, plan: dict[str, Any]) -> dict[str, int]:
        raise NotImplementedError

    def execute(self, context: Any) -> dict[str, Any]:
        plan = read_plan(self.run_id)
        try:
            rows = self._publish(LakeHook(self.lake_conn_id).get_conn(), plan)
        except ConfigError as exc:  # a run of the plan did not succeed
            raise AirflowFailException(str(exc)) from exc
        self.log.info("study %s: rows published %s", self.run_id, rows)
        return {"run_id": self.run_id, "mixture_version": plan["mixture_version"], **rows}


@fails_fast
class CollectSweepOperator(_CollectStudyOperator):
    """Join every cell's plan to its trainer's status and publish the sweep's rows (``studies/scaling_cells/``)."""

    def _publish(self, store: ObjectStore, plan: dict[str, Any]) -> dict[str, int]:
        return {"cells": publish_cells(store, plan)}


@fails_fast
class CollectProbeOperator(_CollectStudyOperator):
    """Join both arms to their trainers' held-out losses; publish ``studies/anneal_arms/`` and ``anneal_documents/``."""

    def _publish(self, store: ObjectStore, plan: dict[str, Any]) -> dict[str, int]:
        items = pq.read_table(study_folder(self.run_id) / CANDIDATE_ITEMS).to_pylist()
        arms, documents = publish_probe(store, plan, items)
        return {"arms": arms, "documents": documents}
