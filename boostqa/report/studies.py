"""The report's research sections: the newest scaling sweep's gains, and the newest anneal probes' attributions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from boostqa.report import plots

Rows = Callable[[Path, str], list[dict[str, Any]]]


def study_sections(warehouse: Path, rows: Rows) -> dict[str, Any]:
    """The scaling and the anneal sections (each absent before its first study)."""
    return _scaling(warehouse, rows) | _anneal(warehouse, rows)


def _anneal(warehouse: Path, rows: Rows, probes: int = 3) -> dict[str, Any]:
    """``anneal``: the newest probes' attributions, benchmarks first, then buckets by how much the data helped."""
    found = rows(warehouse, f"""
        select probe_run_id, mixture_version, coalesce(slice_discipline, 'all') as slice_discipline,
               coalesce(cast(slice_difficulty as varchar), 'all') as slice_difficulty, attribution_kind,
               coalesce(benchmark, discipline_id || ' / ' || difficulty) as attribution_key, metric,
               candidate_value, control_value, delta, within_noise, measured, candidate_items
        from marts.fct_anneal_attribution
        where probe_run_id in (select distinct probe_run_id from marts.fct_anneal_attribution
                               order by probe_run_id desc limit {probes})
        order by probe_run_id desc, attribution_kind, delta desc""")
    return {"anneal": found} if found else {}


def _scaling(warehouse: Path, rows: Rows) -> dict[str, Any]:
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
