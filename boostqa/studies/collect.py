"""Finished studies' rows: each run of the plan joined to what its trainer reported (status, held-out losses)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from boostqa.errors import ConfigError
from boostqa.lake import layout
from boostqa.lake.parquet import write_rows
from boostqa.lake.store import ObjectStore
from boostqa.lake.tables import ANNEAL_ARM_SCHEMA, ANNEAL_DOCUMENT_SCHEMA, SCALING_CELL_SCHEMA


def _status(output_dir: str) -> dict[str, Any]:
    path = Path(output_dir) / "status.json"
    status: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    if status.get("state") != "succeeded":
        raise ConfigError(f"training run in {output_dir} has not succeeded (status {status.get('state')!r}): rerun "
                          "its cell before collecting the sweep")
    return status


def cell_rows(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per cell of the plan, with its trained tokens, compute inputs, times and held-out losses.

    Raises:
        ConfigError: a cell's run has not succeeded.
    """
    rows = []
    for cell in plan["cells"]:
        status = _status(cell["output_dir"])
        before, after = status.get("heldout_before", {}), status.get("heldout_after", {})
        rows.append({**{name: cell.get(name) for name in SCALING_CELL_SCHEMA.names},
                     "run_id": plan["sweep_run_id"], "training_run_id": cell["run_id"],
                     "mixture_version": plan["mixture_version"],
                     "parameters": status.get("parameters"),
                     "non_embedding_parameters": status.get("non_embedding_parameters"),
                     "train_seconds": status.get("train_seconds"), "wall_seconds": status.get("wall_seconds"),
                     "loss_last": status.get("loss_last"),
                     **{f"heldout_{s}_{when}": losses.get(s) for s in ("boostqa", "general")
                        for when, losses in (("before", before), ("after", after))}})
    return rows


def publish_cells(store: ObjectStore, plan: dict[str, Any]) -> int:
    """Write the sweep's rows to ``studies/scaling_cells/run_id=<sweep>/`` (replacing a retry's); returns the rows."""
    rows = cell_rows(plan)
    write_rows(store, layout.scaling_cells_part(plan["sweep_run_id"]), rows, SCALING_CELL_SCHEMA)
    return len(rows)


def _heldout_documents(arm: dict[str, Any], probe_run_id: str) -> list[dict[str, Any]]:
    """Each held-out document's losses in one arm, with its bucket (the set's ``rows.json``)."""
    losses = json.loads((Path(arm["output_dir"]) / "heldout.json").read_text())
    rows = []
    for name in ("boostqa", "general"):
        meta = json.loads((Path(arm["data_dir"]) / "heldout" / f"{name}.rows.json").read_text())
        if name not in losses.get("after", {}) or name not in losses.get("before", {}):
            raise ConfigError(f"training run in {arm['output_dir']} has no {name} held-out losses before and after: "
                              "rerun its arm from the start (a new run id)")
        before, after = losses["before"][name], losses["after"][name]
        for index, doc in enumerate(meta):
            rows.append({**doc, "run_id": probe_run_id, "arm": arm["arm"], "use": "heldout", "heldout_set": name,
                         "tokens": after["row_tokens"][index], "loss_before": before["row_losses"][index],
                         "loss_after": after["row_losses"][index]})
    return rows


def probe_rows(plan: dict[str, Any], candidate_items: list[dict[str, Any]]) -> tuple[list[dict[str, Any]],
                                                                                   list[dict[str, Any]]]:
    """An anneal probe's arm rows and document rows (held out in each arm; the candidate items it trained on).

    Raises:
        ConfigError: an arm's run has not succeeded.
    """
    config, run = plan["config"], plan["probe_run_id"]
    arms, documents = [], []
    for arm in plan["arms"]:
        status = _status(arm["output_dir"])
        before, after = status.get("heldout_before", {}), status.get("heldout_after", {})
        arms.append({"run_id": run, "arm": arm["arm"], "training_run_id": arm["run_id"],
                     "eval_model_id": f"{run}.{arm['arm']}", "mixture_version": plan["mixture_version"],
                     "reference_version": config["reference_version"] or None,
                     "slice_discipline": config["slice_discipline"] or None,
                     "slice_difficulty": config["slice_difficulty"], "slice_strategy": config["slice_strategy"] or None,
                     "base_model": plan["base_model"], "candidate_share": config["candidate_share"],
                     "tokens": arm["tokens"], "candidate_tokens": arm["candidate_tokens"],
                     "candidate_passes": arm["candidate_passes"], "steps": arm["steps"],
                     "wall_seconds": status.get("wall_seconds"), "loss_last": status.get("loss_last"),
                     **{f"heldout_{s}_{when}": losses.get(s) for s in ("boostqa", "general")
                        for when, losses in (("before", before), ("after", after))}})
        documents += _heldout_documents(arm, run)
    documents += [{**item, "run_id": run, "arm": "candidate", "use": "trained"} for item in candidate_items]
    return arms, documents


def publish_probe(store: ObjectStore, plan: dict[str, Any], candidate_items: list[dict[str, Any]]) -> tuple[int, int]:
    """Write the probe's rows to ``studies/anneal_arms/`` and ``studies/anneal_documents/``; returns their counts."""
    arms, documents = probe_rows(plan, candidate_items)
    write_rows(store, layout.anneal_part("anneal_arms", plan["probe_run_id"]), arms, ANNEAL_ARM_SCHEMA)
    write_rows(store, layout.anneal_part("anneal_documents", plan["probe_run_id"]), documents,
               ANNEAL_DOCUMENT_SCHEMA)
    return len(arms), len(documents)
