"""The report's figures, drawn with matplotlib (Agg, no display) and returned as inline SVG."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")  # a headless renderer: workers and CI have no display
import matplotlib.pyplot as plt  # noqa: E402 - after the backend is chosen
from matplotlib.figure import Figure  # noqa: E402


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg"):]  # drop the XML prolog: the SVG is inlined in HTML


def heatmap(rows: Sequence[Mapping[str, Any]], row_key: str, col_key: str, value_key: str, title: str,
            fmt: str = "{:.0f}", cmap: str = "Blues", center_zero: bool = False) -> str:
    """A labelled heatmap of ``value_key`` over ``row_key`` × ``col_key``."""
    row_labels = sorted({str(r[row_key]) for r in rows})
    col_labels = sorted({r[col_key] for r in rows})
    grid = [[float("nan")] * len(col_labels) for _ in row_labels]
    for r in rows:
        if r[value_key] is not None:
            grid[row_labels.index(str(r[row_key]))][col_labels.index(r[col_key])] = float(r[value_key])
    figure, axes = plt.subplots(figsize=(1.2 + 0.9 * len(col_labels), 0.9 + 0.32 * len(row_labels)))
    values = [v for line in grid for v in line if v == v]
    limit = max((abs(v) for v in values), default=1.0) or 1.0
    image = axes.imshow(grid, cmap=cmap, aspect="auto", vmin=-limit if center_zero else None,
                        vmax=limit if center_zero else None)
    axes.set_xticks(range(len(col_labels)), [str(c) for c in col_labels])
    axes.set_yticks(range(len(row_labels)), row_labels, fontsize=8)
    axes.set_xlabel(col_key)
    for i, line in enumerate(grid):
        for j, value in enumerate(line):
            if value == value:
                axes.text(j, i, fmt.format(value), ha="center", va="center", fontsize=7)
    figure.colorbar(image, ax=axes, shrink=0.6)
    axes.set_title(title)
    return _svg(figure)


def bars(labels: Sequence[str], series: Mapping[str, Sequence[float]], title: str, ylabel: str) -> str:
    """Grouped vertical bars: one group per label, one bar per series."""
    figure, axes = plt.subplots(figsize=(max(5.0, 0.7 * len(labels) * max(1, len(series))), 3.6))
    width = 0.8 / max(1, len(series))
    for k, (name, values) in enumerate(series.items()):
        axes.bar([i + k * width for i in range(len(labels))], values, width, label=name)
    axes.set_xticks([i + width * (len(series) - 1) / 2 for i in range(len(labels))], labels, rotation=30,
                    ha="right", fontsize=8)
    axes.set_ylabel(ylabel)
    axes.set_title(title)
    if len(series) > 1:
        axes.legend(fontsize=8)
    return _svg(figure)


def lines(series: Mapping[str, tuple[Sequence[float], Sequence[float]]], title: str, xlabel: str,
          ylabel: str, log_x: bool = False) -> str:
    """One line per series of (x, y); ``log_x`` draws x on a log scale."""
    figure, axes = plt.subplots(figsize=(6.0, 3.4))
    for name, (x, y) in series.items():
        axes.plot(x, y, marker=".", label=name)
    if log_x:
        axes.set_xscale("log")
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.set_title(title)
    axes.legend(fontsize=8)
    return _svg(figure)
