"""What each stage job does on the cluster: one function per stage, from its typed run config to a small result."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from boostqa.export.config import ExportRunConfig
from boostqa.export.distributed import export_on_ray, selection_rows
from boostqa.export.mixture import export_mixture, load_selection, published_manifest
from boostqa.export.packing import load_target_tokenizer
from boostqa.export.token_counts import count_tokens
from boostqa.jobs.spec import JobSpec, StageName
from boostqa.lake.store import ObjectStore
from boostqa.qc.config import QcRunConfig
from boostqa.qc.pipeline import LocalTasks, RayTasks, Tasks
from boostqa.qc.run import run_parts, run_qc
from boostqa.settings import get_settings


def _on_ray(on_ray: bool | None) -> bool:
    """Whether this process is a Ray job's driver (it has ``RAY_ADDRESS``), unless the caller says."""
    return bool(os.environ.get("RAY_ADDRESS")) if on_ray is None else on_ray


def qc_job(store: ObjectStore, spec: JobSpec, on_ray: bool | None = None) -> dict[str, Any]:
    """QC one synthesis run (filters, decontamination, exact and near dedup) unless it is done.

    On a Ray cluster (a job's driver has ``RAY_ADDRESS``; or ``on_ray``) a run of at least ``distributed_min_items``
    items runs its phases as Ray tasks spread over the cluster; smaller runs, and every run elsewhere, in this
    process. The result is the same either way.
    """
    config = QcRunConfig.model_validate(spec.params)
    parts = run_parts(store, spec.run_id)
    tasks: Tasks = LocalTasks()
    if _on_ray(on_ray) and sum(rows for _, rows in parts) >= config.distributed_min_items:
        tasks = RayTasks()
    return run_qc(store, spec.run_id, config.qc_config(), force=config.force, tasks=tasks, parts=parts).model_dump()


def count_tokens_job(store: ObjectStore, spec: JobSpec, on_ray: bool | None = None) -> dict[str, Any]:
    """Count the mixture candidates' tokens with the target tokenizer (those no earlier run counted).

    ``run_id`` is the mixture version the counts are for; the result names the tokenizer's sha256, which dbt's
    selection joins the counts by.

    Raises:
        ConfigError: the tokenizer folder has no tokenizer or names no EOS token.
    """
    config = ExportRunConfig.model_validate(spec.params)
    tokenizer = load_target_tokenizer(config.tokenizer_path())
    return count_tokens(store, spec.run_id, tokenizer, on_ray=_on_ray(on_ray),
                        distributed_min_samples=config.distributed_min_samples).model_dump()


def export_job(store: ObjectStore, spec: JobSpec, on_ray: bool | None = None) -> dict[str, Any]:
    """Tokenize, pack and export the mixture version ``run_id`` dbt selected, unless the version is complete.

    On a Ray cluster a selection of at least ``distributed_min_samples`` samples is exported by Ray Data workers,
    straight to the lake; smaller ones, and every export elsewhere, in this process (which also keeps a local copy
    under ``<state_dir>/mixtures/<version>``). The files are the same bytes either way.

    Raises:
        ConfigError: the tokenizer folder is unusable, or the selection was counted with another tokenizer.
    """
    config = ExportRunConfig.model_validate(spec.params)
    published = published_manifest(store, spec.run_id)
    if published is not None:  # versions are immutable: a retry after the export finished changes nothing
        return {"mixture_version": spec.run_id, "manifest_sha256": published[1], "reused": True}
    tokenizer = load_target_tokenizer(config.tokenizer_path())
    sizes = {"seq_len": config.seq_len, "rows_per_shard": config.rows_per_shard,
             "sequences_per_shard": config.sequences_per_shard}
    if _on_ray(on_ray) and selection_rows(store, spec.run_id) >= config.distributed_min_samples:
        result = export_on_ray(store, spec.run_id, tokenizer, **sizes)
    else:
        out_dir = get_settings().state_dir / "mixtures" / spec.run_id
        result = export_mixture(store, load_selection(store, spec.run_id), spec.run_id, tokenizer, out_dir, **sizes)
    return result.model_dump() | {"reused": False}


STAGES: dict[StageName, Callable[[ObjectStore, JobSpec], dict[str, Any]]] = {
    "qc": qc_job, "count_tokens": count_tokens_job, "export": export_job}
