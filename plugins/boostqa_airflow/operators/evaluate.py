"""Operators of ``benchmark_eval``: decide which models to score, then score one model on its benchmarks."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException, AirflowNotFoundException
from pydantic import ValidationError

from boostqa.errors import ConfigError
from boostqa.eval.config import EvalRunConfig
from boostqa.eval.runner import ModelTarget, evaluate_model
from boostqa.lake.versions import read_pointer
from boostqa.settings import get_settings
from boostqa_airflow.constants import LLM_EVAL_CONN_ID, S3_CONN_ID
from boostqa_airflow.failfast import fails_fast
from boostqa_airflow.hooks.lake import LakeHook
from boostqa_airflow.hooks.llm import EvalServer, eval_server
from boostqa_airflow.params import validated

BASELINE_MODEL_ID = "baseline"


def _run_config(stage_params: Mapping[str, Any]) -> EvalRunConfig:
    """The run's typed params (rendered templates); a bad one fails the task without retries."""
    return validated(EvalRunConfig, stage_params)


def _checkpoint_from_events(context: Any) -> dict[str, str] | None:
    """The newest ``checkpoint`` asset event's run id and HF folder (set by midtrain's publish task)."""
    events = context.get("triggering_asset_events") or {}
    newest = None
    for asset_events in events.values():
        for event in asset_events:
            if event.extra.get("hf_folder") and (newest is None or event.timestamp > newest.timestamp):
                newest = event
    if newest is None:
        return None
    return {"model_id": str(newest.extra["run_id"]), "hf_folder": str(newest.extra["hf_folder"]),
            "checkpoint_id": str(newest.extra["run_id"]),
            "mixture_version": str(newest.extra.get("mixture_version", ""))}


def _eval_server() -> EvalServer:
    """The ``boostqa_llm_eval`` connection's server; a missing connection fails the task (not worth a retry)."""
    try:
        return eval_server()
    except (AirflowNotFoundException, KeyError) as exc:
        raise AirflowFailException(f"server_models needs the {LLM_EVAL_CONN_ID} connection (host = the server's base "
                                   f"URL, extra model = its served name): {exc!r}") from exc


def _route_generations(models: list[dict[str, str]], server_models: list[str]) -> None:
    """Point the models named in ``server_models`` at the evaluation server (their generative benchmarks go there)."""
    if not server_models:
        return
    server = _eval_server()
    unknown = set(server_models) - {m["model_id"] for m in models}
    if unknown:
        raise AirflowFailException(f"server_models names models not evaluated in this run: {sorted(unknown)}")
    for model in models:
        if model["model_id"] in server_models:
            model |= {"server_url": server.url, "served_model": server.model}


@fails_fast
class ResolveEvalTargetsOperator(BaseOperator):
    """Turn params (or the triggering checkpoint event) into one ``{model, benchmarks}`` per evaluation task.

    The model is ``hf_folder`` (named ``model_id``) when given, else the checkpoint that triggered the run, else the
    newest finished training run (``training/latest.json``); the
    baseline (the embedded stack's base model unless ``baseline_hf_folder`` says otherwise) is added when
    ``with_baseline``, so every run yields a before/after comparison.
    """

    run_config: ClassVar[type[EvalRunConfig]] = EvalRunConfig  # the DAG's params derive from it
    template_fields: Sequence[str] = ("stage_params",)

    def __init__(self, *, stage_params: Mapping[str, Any] | None = None, lake_conn_id: str = S3_CONN_ID,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.stage_params, self.lake_conn_id = dict(stage_params or {}), lake_conn_id

    def _newest_checkpoint(self) -> dict[str, str] | None:
        """The newest finished training run (``training/latest.json``), for a run started by hand."""
        pointer = read_pointer(LakeHook(self.lake_conn_id).get_conn(), "training")
        if pointer is None:
            return None
        return {"model_id": pointer["version"], "hf_folder": pointer["hf_folder"], "checkpoint_id": pointer["version"],
                "mixture_version": pointer.get("mixture_version") or ""}

    def execute(self, context: Any) -> list[dict[str, Any]]:
        config = _run_config(self.stage_params)
        models: list[dict[str, str]] = []
        if config.hf_folder or config.server_url:
            if not config.model_id:
                raise AirflowFailException("model_id is required with hf_folder or server_url")
            models.append({"model_id": config.model_id, "hf_folder": config.hf_folder,
                           "server_url": config.server_url, "served_model": config.served_model})
        else:
            checkpoint = _checkpoint_from_events(context) or self._newest_checkpoint()
            if checkpoint is not None:
                models.append(checkpoint)
        if config.with_baseline:
            baseline = config.baseline_hf_folder or str(get_settings().served_model_dir)
            models.insert(0, {"model_id": BASELINE_MODEL_ID, "hf_folder": baseline})
        if not models:
            raise AirflowFailException("nothing to evaluate: give hf_folder (and model_id), or trigger from the "
                                       "checkpoint asset, or set with_baseline")
        _route_generations(models, config.server_models)
        for model in models:
            try:
                ModelTarget.model_validate(model)
            except ValidationError as exc:
                raise AirflowFailException(f"bad model {model}: {exc}") from exc
        benchmarks = config.benchmark_names()
        self.log.info("evaluating %s on %d benchmarks: %s", [m["model_id"] for m in models], len(benchmarks),
                      ", ".join(benchmarks))
        return [{"model": m, "benchmarks": benchmarks} for m in models]


@fails_fast
class EvaluateModelOperator(BaseOperator):
    """Score one model on its benchmarks with one model load.

    Per-item results and metrics of each benchmark go to ``eval/`` in the lake. Benchmarks already answered by an
    earlier try are not sent to the model again.
    """

    run_config: ClassVar[type[EvalRunConfig]] = EvalRunConfig
    template_fields: Sequence[str] = ("benchmarks", "model", "stage_params")

    def __init__(self, *, benchmarks: list[str], model: dict[str, str] | str,
                 stage_params: Mapping[str, Any] | None = None, lake_conn_id: str = S3_CONN_ID,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.benchmarks, self.model = benchmarks, model
        self.stage_params, self.lake_conn_id = dict(stage_params or {}), lake_conn_id

    def execute(self, context: Any) -> list[dict[str, Any]]:
        model = json.loads(self.model) if isinstance(self.model, str) else self.model
        target = ModelTarget.model_validate({k: v for k, v in model.items() if v})
        config = _run_config(self.stage_params)
        runtime = config.runtime()
        if target.server_url and target.model_id in config.server_models:
            runtime = runtime.model_copy(update={"server_api_key": _eval_server().api_key})
        work_dir = get_settings().state_dir.resolve() / "eval"
        try:
            results = evaluate_model(LakeHook(self.lake_conn_id).get_conn(), target, list(self.benchmarks),
                                     config.task_settings(), Path(work_dir), context["run_id"],
                                     config.benchmark_source(), runtime)
        except ConfigError as exc:
            raise AirflowFailException(str(exc)) from exc
        return [r.model_dump() for r in results]
