"""The scaling sweep's plan: its data written once, then one training launch per base and per cell.

``prepare_sweep`` writes every blend the grid needs (each with the two held-out sets) under the study's folder and
into the lake, and returns the launches: pre-training runs for the bases, then the cells' mid-training runs, each
with the trainer overrides that make it (size, start weights, steps, data, held-out sets).
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

from boostqa.errors import ConfigError
from boostqa.export.mixture import load_selection
from boostqa.export.packing import TargetTokenizer, load_target_tokenizer
from boostqa.lake import layout
from boostqa.lake.read import read_prefix
from boostqa.lake.store import ObjectStore
from boostqa.studies.blend import Blend, Pools, build_pools, write_blend, write_heldout_set
from boostqa.studies.grid import Base, Cell, SweepRunConfig, bases, cells

log = logging.getLogger(__name__)
HELDOUT_SETS = ("boostqa", "general")
PLAN_NAME = "plan.json"


def study_rows(store: ObjectStore, mixture_version: str) -> list[dict[str, Any]]:
    """The BoostQA items of a mixture version and every staged general-corpus document, as pool rows.

    Raises:
        ConfigError: the mixture holds no BoostQA item, or no general document is staged.
    """
    items = [r for r in load_selection(store, mixture_version) if r["source"] == "boostqa"]
    general = read_prefix(store, f"{layout.RAW_GENERAL}/", ["doc_id", "text"])
    docs = [{"sample_id": r["doc_id"], "source": "general", "text": r["text"]}
            for r in (general.to_pylist() if general is not None else []) if r["text"]]
    if not items or not docs:
        raise ConfigError(f"mixture {mixture_version} gives {len(items)} BoostQA items and the lake {len(docs)} "
                          "general documents: a study needs both")
    return items + docs


def _write_blends(folder: Path, config: SweepRunConfig, pools: Pools, tokenizer: TargetTokenizer,
                  mixture_version: str) -> dict[str, Blend]:
    """Every blend of the grid: one per pre-training budget, a boostqa and a control blend per volume."""
    wanted: dict[str, dict[str, int]] = {}
    for base in bases(config):
        if base.pretrained:
            wanted[f"pretrain-b{base.base_tokens}"] = {"general": base.base_tokens}
    for volume in config.boostqa_tokens:
        general = round(config.general_ratio * volume)
        wanted[f"boostqa-d{volume}"] = {"boostqa": volume, "general": general}
        wanted[f"control-d{volume}"] = {"general": volume + general}
    blends = {}
    for name, parts in wanted.items():
        blend = write_blend(folder, name, {s: (pools.train.get(s, []), n) for s, n in parts.items() if n},
                            tokenizer, config.seq_len, mixture_version)
        for source in HELDOUT_SETS:  # inside the blend: a cluster run syncs one folder per run
            write_heldout_set(folder / name / "heldout" / f"{source}.npy", pools.heldout.get(source, []),
                              config.seq_len, config.heldout_docs)
        blends[name] = blend
    return blends


def _run_dir(training_dir: Path, run_id: str) -> Path:
    return training_dir.resolve() / "checkpoints" / run_id


def _launch(run_id: str, blend: Blend, config: SweepRunConfig, model: list[str], training_dir: Path,
            meta: dict[str, Any]) -> dict[str, Any]:
    """One training launch: the run id, the blend it reads and the trainer overrides."""
    steps = blend.sequences // (config.micro_batch_size * config.nproc_per_node)
    if steps < 1:
        raise ConfigError(f"blend {blend.name} packs {blend.sequences} sequences, fewer than one step of "
                          f"{config.micro_batch_size * config.nproc_per_node}: raise its tokens")
    heldout = [f"heldout.{s}={blend.manifest.parent / 'heldout' / f'{s}.npy'}" for s in HELDOUT_SETS]
    overrides = [*model, f"max_steps={steps}", f"checkpoint_every={steps}",
                 f"micro_batch_size={config.micro_batch_size}", f"optim.lr={config.lr}",
                 f"optim.warmup_steps={max(1, steps // 10)}", *heldout]
    return {"run_id": run_id, "blend": blend.name, "data_dir": str(blend.manifest.parent),
            "output_dir": str(_run_dir(training_dir, run_id)),
            "steps": steps, "tokens": steps * config.micro_batch_size * config.nproc_per_node * config.seq_len,
            "overrides": overrides, **meta}


def _tiny(base: Base) -> list[str]:
    hidden, layers = base.hidden_layers
    return ["model.source=tiny", f"model.hidden_size={hidden}", f"model.layers={layers}", f"model.heads={hidden // 16}"]


def _start_weights(base: Base, sweep_run_id: str, training_dir: Path) -> list[str]:
    """A cell's starting model: the named checkpoint, the base the sweep pre-trained, or the seeded init."""
    if base.checkpoint:
        return ["model.source=hf", f"model.path={base.checkpoint}"]
    if base.pretrained:
        return ["model.source=hf", f"model.path={_run_dir(training_dir, f'{sweep_run_id}.{base.base_id}') / 'hf'}"]
    return _tiny(base)


def plan_launches(config: SweepRunConfig, sweep_run_id: str, blends: dict[str, Blend], training_dir: Path
                  ) -> dict[str, list[dict[str, Any]]]:
    """The pre-training launches (``bases``) and the cells' launches (``cells``) of a sweep."""
    pretrain = [_launch(f"{sweep_run_id}.{b.base_id}", blends[f"pretrain-b{b.base_tokens}"], config, _tiny(b),
                        training_dir, {"base_id": b.base_id}) for b in bases(config) if b.pretrained]
    runs = []
    for cell in cells(config):
        meta = _cell_meta(cell, blends[cell.blend])
        runs.append(_launch(f"{sweep_run_id}.{cell.cell_id}", blends[cell.blend], config,
                            _start_weights(cell.base, sweep_run_id, training_dir), training_dir, meta))
    return {"bases": pretrain, "cells": runs}


def _cell_meta(cell: Cell, blend: Blend) -> dict[str, Any]:
    hidden, layers = cell.base.hidden_layers
    return {"cell_id": cell.cell_id, "arm": cell.arm, "model_size": cell.base.size, "base_id": cell.base.base_id,
            "base_model": cell.base.checkpoint, "hidden_size": hidden, "layers": layers,
            "base_tokens": cell.base.base_tokens, "boostqa_tokens": blend.tokens.get("boostqa", 0),
            "general_tokens": blend.tokens.get("general", 0), "boostqa_passes": blend.passes.get("boostqa", 0.0)}


def prepare_sweep(store: ObjectStore, config: SweepRunConfig, sweep_run_id: str, mixture_version: str,
                  tokenizer_dir: Path, training_dir: Path) -> dict[str, Any]:
    """Write the sweep's data (locally and to the lake) and its plan; returns the plan."""
    folder = training_dir.resolve() / "studies" / sweep_run_id
    shutil.rmtree(folder, ignore_errors=True)  # a retry writes the same data again from scratch
    tokenizer = load_target_tokenizer(tokenizer_dir)
    pools = build_pools(study_rows(store, mixture_version), tokenizer, config.heldout_fraction)
    blends = _write_blends(folder / "data", config, pools, tokenizer, mixture_version)
    plan = {"sweep_run_id": sweep_run_id, "mixture_version": mixture_version, "config": config.model_dump(),
            "pools": {side: {s: len(d) for s, d in getattr(pools, side).items()} for side in ("train", "heldout")},
            **plan_launches(config, sweep_run_id, blends, training_dir)}
    (folder / PLAN_NAME).write_text(json.dumps(plan, indent=2))
    prefix = layout.study_data_prefix(sweep_run_id)
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        store.put_bytes(prefix + path.relative_to(folder).as_posix(), path.read_bytes())
    log.info("sweep %s on mixture %s: %d bases to pre-train, %d cells, data in %s and %s", sweep_run_id,
             mixture_version, len(plan["bases"]), len(plan["cells"]), folder, store.config.uri(prefix))
    return plan
