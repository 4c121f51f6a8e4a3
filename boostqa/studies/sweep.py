"""The scaling sweep's plan: its data written once, then one training launch per base and per cell.

``prepare_sweep`` writes every blend the grid needs (each with the two held-out sets) under the study's folder and
into the lake, and returns the launches: pre-training runs for the bases, then the cells' mid-training runs, each
with the trainer overrides that make it (size, start weights, steps, data, held-out sets).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from boostqa.export.packing import TargetTokenizer, load_target_tokenizer
from boostqa.lake.store import ObjectStore
from boostqa.studies.blend import Blend, Pools, build_pools, write_blend
from boostqa.studies.grid import Base, Cell, SweepRunConfig, bases, cells
from boostqa.studies.runs import launch, open_study_folder, run_dir, save_plan, study_rows, tiny_model, write_heldout

log = logging.getLogger(__name__)


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
        blends[name] = write_blend(folder, name, {s: (pools.train.get(s, []), n) for s, n in parts.items() if n},
                                   tokenizer, config.seq_len, mixture_version)
        write_heldout(folder / name, pools, config.seq_len, config.heldout_docs)
    return blends


def _tiny(base: Base) -> list[str]:
    return tiny_model(*base.hidden_layers)


def _start_weights(base: Base, sweep_run_id: str, training_dir: Path) -> list[str]:
    """A cell's starting model: the named checkpoint, the base the sweep pre-trained, or the seeded init."""
    if base.checkpoint:
        return ["model.source=hf", f"model.path={base.checkpoint}"]
    if base.pretrained:
        return ["model.source=hf", f"model.path={run_dir(training_dir, f'{sweep_run_id}.{base.base_id}') / 'hf'}"]
    return _tiny(base)


def _cell_meta(cell: Cell, blend: Blend) -> dict[str, Any]:
    hidden, layers = cell.base.hidden_layers
    return {"cell_id": cell.cell_id, "arm": cell.arm, "model_size": cell.base.size, "base_id": cell.base.base_id,
            "base_model": cell.base.checkpoint, "hidden_size": hidden, "layers": layers,
            # a named checkpoint's pre-training tokens are not ours to know: null, so its base_flops is null too
            "base_tokens": None if cell.base.checkpoint else cell.base.base_tokens,
            "boostqa_tokens": blend.tokens.get("boostqa", 0),
            "general_tokens": blend.tokens.get("general", 0), "boostqa_passes": blend.passes.get("boostqa", 0.0)}


def plan_launches(config: SweepRunConfig, sweep_run_id: str, blends: dict[str, Blend], training_dir: Path
                  ) -> dict[str, list[dict[str, Any]]]:
    """The pre-training launches (``bases``) and the cells' launches (``cells``) of a sweep."""
    pretrain = [launch(f"{sweep_run_id}.{b.base_id}", blends[f"pretrain-b{b.base_tokens}"], config, _tiny(b),
                       training_dir, {"base_id": b.base_id}) for b in bases(config) if b.pretrained]
    runs = [launch(f"{sweep_run_id}.{cell.cell_id}", blends[cell.blend], config,
                   _start_weights(cell.base, sweep_run_id, training_dir), training_dir,
                   _cell_meta(cell, blends[cell.blend])) for cell in cells(config)]
    return {"bases": pretrain, "cells": runs}


def prepare_sweep(store: ObjectStore, config: SweepRunConfig, sweep_run_id: str, mixture_version: str,
                  tokenizer_dir: Path, training_dir: Path) -> dict[str, Any]:
    """Write the sweep's data (locally and to the lake) and its plan; returns the plan."""
    folder, saved = open_study_folder(training_dir, sweep_run_id)
    if saved is not None:
        return saved
    tokenizer = load_target_tokenizer(tokenizer_dir)
    pools = build_pools(study_rows(store, mixture_version), tokenizer, config.heldout_fraction)
    blends = _write_blends(folder / "data", config, pools, tokenizer, mixture_version)
    plan = {"sweep_run_id": sweep_run_id, "mixture_version": mixture_version, "config": config.model_dump(),
            "launch": config.launch_settings(),
            "pools": {side: {s: len(d) for s, d in getattr(pools, side).items()} for side in ("train", "heldout")},
            **plan_launches(config, sweep_run_id, blends, training_dir)}
    save_plan(store, folder, sweep_run_id, plan)
    log.info("sweep %s on mixture %s: %d bases to pre-train, %d cells", sweep_run_id, mixture_version,
             len(plan["bases"]), len(plan["cells"]))
    return plan
