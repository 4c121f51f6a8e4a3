"""What both studies' plans are made of: their documents from the lake, training launches, and the saved plan."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

from boostqa.errors import ConfigError
from boostqa.export.mixture import load_selection
from boostqa.lake import layout
from boostqa.lake.read import read_prefix
from boostqa.lake.store import ObjectStore
from boostqa.runs import check_id
from boostqa.studies.blend import Blend, Pools, write_heldout_set
from boostqa.studies.config import StudyRunConfig

log = logging.getLogger(__name__)
HELDOUT_SETS = ("boostqa", "general")
PLAN_NAME = "plan.json"


def boostqa_rows(store: ObjectStore, mixture_version: str) -> list[dict[str, Any]]:
    """The BoostQA items of a mixture version's selection."""
    return [r for r in load_selection(store, mixture_version) if r["source"] == "boostqa"]


def general_rows(store: ObjectStore) -> list[dict[str, Any]]:
    """Every staged general-corpus document, as a pool row."""
    general = read_prefix(store, f"{layout.RAW_GENERAL}/", ["doc_id", "text"])
    return [{"sample_id": r["doc_id"], "source": "general", "text": r["text"]}
            for r in (general.to_pylist() if general is not None else []) if r["text"]]


def study_rows(store: ObjectStore, mixture_version: str) -> list[dict[str, Any]]:
    """A mixture version's BoostQA items and the staged general corpus.

    Raises:
        ConfigError: the mixture holds no BoostQA item, or no general document is staged.
    """
    items, docs = boostqa_rows(store, mixture_version), general_rows(store)
    if not items or not docs:
        raise ConfigError(f"mixture {mixture_version} gives {len(items)} BoostQA items and the lake {len(docs)} "
                          "general documents: a study needs both")
    return items + docs


def write_heldout(folder: Path, pools: Pools, seq_len: int, limit: int) -> None:
    """Both held-out sets inside a blend's folder (a cluster run syncs one folder per run).

    Beside each ``<set>.npy``, ``<set>.rows.json`` names its rows' documents and buckets, in row order.
    """
    for source in HELDOUT_SETS:
        chosen = write_heldout_set(folder / "heldout" / f"{source}.npy", pools.heldout.get(source, []), seq_len,
                                   limit)
        rows = [{"sample_id": d.sample_id, "item_id": d.item_id, "discipline_id": d.discipline_id,
                 "difficulty": d.difficulty, "strategy": d.strategy} for d in chosen]
        (folder / "heldout" / f"{source}.rows.json").write_text(json.dumps(rows))


def run_dir(training_dir: Path, run_id: str) -> Path:
    """Where a training run writes (as the midtrain operator places it)."""
    return training_dir.resolve() / "checkpoints" / run_id


def tiny_model(hidden: int, layers: int) -> list[str]:
    """Trainer overrides of a seeded random-init tiny Llama (heads of 16 dimensions)."""
    return ["model.source=tiny", f"model.hidden_size={hidden}", f"model.layers={layers}", f"model.heads={hidden // 16}"]


def launch(run_id: str, blend: Blend, config: StudyRunConfig, model: list[str], training_dir: Path,
           meta: dict[str, Any], extra: list[str] | None = None) -> dict[str, Any]:
    """One training launch: one epoch of the blend, its held-out sets scored before and after.

    A step is ``micro_batch_size`` x ranks sequences (no gradient accumulation, whatever the recipe says), so the
    steps times the batch are the blend's sequences.

    Raises:
        ConfigError: the blend is smaller than one optimizer step.
    """
    steps = blend.sequences // config.global_batch
    if steps < 1:
        raise ConfigError(f"blend {blend.name} packs {blend.sequences} sequences, fewer than one step of "
                          f"{config.global_batch}: raise its tokens")
    heldout = [f"heldout.{s}={blend.manifest.parent / 'heldout' / f'{s}.npy'}" for s in HELDOUT_SETS]
    overrides = [*model, f"max_steps={steps}", f"checkpoint_every={steps}", "grad_accum_steps=1",
                 f"micro_batch_size={config.micro_batch_size}", f"optim.lr={config.lr}",
                 f"optim.warmup_steps={max(1, steps // 10)}", *heldout, *(extra or [])]
    return {"run_id": run_id, "blend": blend.name, "data_dir": str(blend.manifest.parent),
            "output_dir": str(run_dir(training_dir, run_id)), "steps": steps,
            "tokens": steps * config.global_batch * config.seq_len, "overrides": overrides, **meta}


def study_dir(training_dir: Path, run_id: str) -> Path:
    """Where a study run keeps its data and plan (in the training folder the trainer shares)."""
    return training_dir.resolve() / "studies" / check_id(run_id)


def load_plan(folder: Path) -> dict[str, Any] | None:
    """The plan a finished prepare wrote into a study folder, or None."""
    path = folder / PLAN_NAME
    return dict(json.loads(path.read_text())) if path.exists() else None


def open_study_folder(training_dir: Path, run_id: str) -> tuple[Path, dict[str, Any] | None]:
    """The study run's folder, and the plan a finished prepare of this run id wrote there (None: prepare it).

    A retried or cleared prepare task reuses that plan: rewriting the data could change it under runs that already
    read it (a newer general corpus, a newer latest mixture), and a resumed run refuses data that changed. A try that
    died before its plan left no plan: its folder is emptied for the new try.
    """
    folder = study_dir(training_dir, run_id)
    plan = load_plan(folder)
    if plan is None:
        shutil.rmtree(folder, ignore_errors=True)
    return folder, plan


def save_plan(store: ObjectStore, folder: Path, run_id: str, plan: dict[str, Any]) -> None:
    """Write the plan beside the study's data, then copy the whole folder to ``studies/data/run_id=<run>/``."""
    (folder / PLAN_NAME).write_text(json.dumps(plan, indent=2))
    prefix = layout.study_data_prefix(run_id)
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        store.put_bytes(prefix + path.relative_to(folder).as_posix(), path.read_bytes())
    log.info("study %s: data and plan in %s and %s", run_id, folder, store.config.uri(prefix))
