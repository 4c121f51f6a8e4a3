"""The report's research section: the newest scaling sweep's grid and its gains against BoostQA tokens."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from boostqa.report import plots

Rows = Callable[[Path, str], list[dict[str, Any]]]


def study_sections(warehouse: Path, rows: Rows) -> dict[str, Any]:
    """``scaling`` (the newest sweep's grid with its fit) and ``scaling_plot``; nothing before the first sweep."""
    grid = rows(warehouse, """
        select grid.sweep_run_id, grid.model_size, grid.base_tokens, grid.boostqa_tokens, grid.tokens,
               grid.non_embedding_parameters, grid.gain_boostqa, grid.gain_general, grid.boostqa_passes,
               trend.fit_slope, trend.residual
        from marts.fct_scaling_grid as grid
        left join marts.fct_scaling_trend as trend using (sweep_run_id, base_id, boostqa_tokens)
        where grid.sweep_run_id = (select max(sweep_run_id) from marts.fct_scaling_grid)
        order by grid.non_embedding_parameters, grid.base_tokens, grid.boostqa_tokens""")
    if not grid:
        return {}
    curves: dict[str, tuple[list[float], list[float]]] = {}
    for row in grid:
        x, y = curves.setdefault(f"{row['model_size']} from {row['base_tokens']:,} tokens", ([], []))
        x.append(float(row["boostqa_tokens"]))
        y.append(float(row["gain_boostqa"]))
    plot = plots.lines(curves, "held-out BoostQA loss: control minus BoostQA arm", "BoostQA tokens (log)",
                       "gain (nats / token)", log_x=True)
    return {"scaling": grid, "scaling_plot": plot}
