"""Operators of ``benchmark_eval``: decide which models to score, then score one model on its benchmarks."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException
from pydantic import ValidationError

from boostqa.benchmarks.registry import BY_NAME
from boostqa.errors import ConfigError
from boostqa.eval.runner import ModelTarget, evaluate_model
from boostqa.eval.tasks import EvalTaskSettings
from boostqa.lake.versions import read_pointer
from boostqa.settings import get_settings
from boostqa.stack.llm_server import model_dir
from boostqa_airflow.constants import S3_CONN_ID
from boostqa_airflow.hooks.lake import LakeHook

BASELINE_MODEL_ID = "baseline"


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


class ResolveEvalTargetsOperator(BaseOperator):
    """Turn params (or the triggering checkpoint event) into one ``{model, benchmarks}`` per evaluation task.

    The model is ``hf_folder`` (named ``model_id``) when given, else the checkpoint that triggered the run, else the
    newest finished training run (``training/latest.json``); the
    baseline (the embedded stack's base model unless ``baseline_hf_folder`` says otherwise) is added when
    ``with_baseline``, so every run yields a before/after comparison.
    """

    template_fields: Sequence[str] = ("model_id", "hf_folder", "server_url", "served_model", "with_baseline",
                                      "baseline_hf_folder", "benchmarks")

    def __init__(self, *, model_id: str = "", hf_folder: str = "", server_url: str = "", served_model: str = "",
                 with_baseline: bool | str = True, baseline_hf_folder: str = "",
                 benchmarks: list[str] | str = "", lake_conn_id: str = S3_CONN_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.lake_conn_id = lake_conn_id
        self.model_id, self.hf_folder, self.server_url, self.served_model = model_id, hf_folder, server_url, \
            served_model
        self.with_baseline, self.baseline_hf_folder, self.benchmarks = with_baseline, baseline_hf_folder, benchmarks

    def _benchmarks(self) -> list[str]:
        wanted = self.benchmarks
        if isinstance(wanted, str):
            wanted = [b.strip() for b in wanted.replace("\n", ",").split(",") if b.strip()]
        wanted = list(wanted) or list(BY_NAME)
        unknown = [b for b in wanted if b not in BY_NAME]
        if unknown:
            raise AirflowFailException(f"unknown benchmarks {unknown}; registered: {', '.join(BY_NAME)}")
        return wanted

    def _newest_checkpoint(self) -> dict[str, str] | None:
        """The newest finished training run (``training/latest.json``), for a run started by hand."""
        pointer = read_pointer(LakeHook(self.lake_conn_id).get_conn(), "training")
        if pointer is None:
            return None
        return {"model_id": pointer["version"], "hf_folder": pointer["hf_folder"], "checkpoint_id": pointer["version"],
                "mixture_version": pointer.get("mixture_version") or ""}

    def execute(self, context: Any) -> list[dict[str, Any]]:
        models: list[dict[str, str]] = []
        if self.hf_folder or self.server_url:
            if not self.model_id:
                raise AirflowFailException("model_id is required with hf_folder or server_url")
            models.append({"model_id": self.model_id, "hf_folder": self.hf_folder, "server_url": self.server_url,
                           "served_model": self.served_model})
        else:
            checkpoint = _checkpoint_from_events(context) or self._newest_checkpoint()
            if checkpoint is not None:
                models.append(checkpoint)
        if str(self.with_baseline).lower() in ("true", "1"):
            baseline = self.baseline_hf_folder or str(model_dir(get_settings()))
            models.insert(0, {"model_id": BASELINE_MODEL_ID, "hf_folder": baseline})
        if not models:
            raise AirflowFailException("nothing to evaluate: give hf_folder (and model_id), or trigger from the "
                                       "checkpoint asset, or set with_baseline")
        for model in models:
            try:
                ModelTarget.model_validate(model)
            except ValidationError as exc:
                raise AirflowFailException(f"bad model {model}: {exc}") from exc
        benchmarks = self._benchmarks()
        self.log.info("evaluating %s on %d benchmarks: %s", [m["model_id"] for m in models], len(benchmarks),
                      ", ".join(benchmarks))
        return [{"model": m, "benchmarks": benchmarks} for m in models]


class EvaluateModelOperator(BaseOperator):
    """Score one model on its benchmarks with one model load.

    Per-item results and metrics of each benchmark go to ``eval/`` in the lake. Benchmarks already answered by an
    earlier try are not sent to the model again.
    """

    template_fields: Sequence[str] = ("benchmarks", "model", "limit", "num_fewshot", "max_new_tokens", "source")

    def __init__(self, *, benchmarks: list[str], model: dict[str, str] | str, limit: int | str | None = None,
                 num_fewshot: dict[str, int] | str = "", max_new_tokens: int | str = 256, source: str = "local",
                 lake_conn_id: str = S3_CONN_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.benchmarks, self.model, self.limit, self.num_fewshot = benchmarks, model, limit, num_fewshot
        self.max_new_tokens, self.source, self.lake_conn_id = max_new_tokens, source, lake_conn_id

    def _settings(self) -> EvalTaskSettings:
        shots = self.num_fewshot
        try:
            if isinstance(shots, str):
                shots = json.loads(shots) if shots.strip() else {}
            limit = None if self.limit is None or self.limit in ("", "None", 0, "0") else int(self.limit)
            return EvalTaskSettings(num_fewshot=shots, limit=limit, max_new_tokens=int(self.max_new_tokens))
        except (ValueError, ValidationError) as exc:
            raise AirflowFailException(f"bad evaluation parameters: {exc}") from exc

    def execute(self, context: Any) -> list[dict[str, Any]]:
        model = json.loads(self.model) if isinstance(self.model, str) else self.model
        target = ModelTarget.model_validate({k: v for k, v in model.items() if v})
        work_dir = get_settings().state_dir.resolve() / "eval"
        try:
            results = evaluate_model(LakeHook(self.lake_conn_id).get_conn(), target, list(self.benchmarks),
                                     self._settings(), Path(work_dir), context["run_id"], self.source)
        except ConfigError as exc:
            raise AirflowFailException(str(exc)) from exc
        return [r.model_dump() for r in results]
