"""A finished sweep's rows: each cell's plan joined to what its trainer reported (``status.json``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from boostqa.errors import ConfigError
from boostqa.lake import layout
from boostqa.lake.parquet import write_rows
from boostqa.lake.store import ObjectStore
from boostqa.lake.tables import SCALING_CELL_SCHEMA


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
