"""``boostqa report``: an HTML report of the warehouse, saved locally and to S3.

It covers data, QC, cost, training, before/after accuracy and the newest research studies.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
from jinja2 import Environment, FileSystemLoader, select_autoescape

from boostqa.lake.store import ObjectStore
from boostqa.package_data import package_path
from boostqa.report import plots
from boostqa.report.studies import study_sections
from boostqa.settings import BoostqaSettings
from boostqa.warehouse import query, warehouse_snapshot

log = logging.getLogger(__name__)
TEMPLATES = package_path("boostqa.report", "templates")


def _rows(warehouse: Path, sql: str) -> list[dict[str, Any]]:
    """Rows of a mart, or none when the mart does not exist yet (its stage never ran)."""
    try:
        return query(warehouse, sql)
    except duckdb.CatalogException:
        return []


def _eval_sections(warehouse: Path) -> dict[str, Any]:
    headline = _rows(warehouse, "select * from marts.fct_eval_headline order by evaluated_at")
    comparison = _rows(warehouse, """select * from marts.fct_eval_comparison where model_id != baseline_model_id
                                    and model_id not in (select model_id from marts.fct_eval_headline where is_study)
                                    order by benchmark, model_id""")
    bucket = _rows(warehouse, """select discipline_id, difficulty, delta_points from marts.fct_eval_bucket_comparison
                                where model_id = (select model_id from marts.fct_eval_headline
                                                  where not is_baseline and not is_study
                                                  order by evaluated_at desc limit 1)""")
    sections: dict[str, Any] = {"headline": headline, "comparison": comparison}
    if comparison:
        labels = sorted({r["benchmark"] for r in comparison})
        missing = float("nan")  # a score that does not exist is no bar, never a 0 % bar

        def percent(value: float | None) -> float:
            return missing if value is None else 100 * value

        series: dict[str, list[float]] = {"baseline": []}
        by_model: dict[str, dict[str, float]] = defaultdict(dict)
        baseline: dict[str, float] = {}
        for r in comparison:
            baseline[r["benchmark"]] = percent(r["baseline_value"])
            by_model[r["model_id"]][r["benchmark"]] = percent(r["model_value"])
        series["baseline"] = [baseline.get(b, missing) for b in labels]
        series |= {m: [values.get(b, missing) for b in labels] for m, values in by_model.items()}
        sections["benchmark_plot"] = plots.bars(labels, series, "primary metric per benchmark", "%")
    if bucket:
        sections["bucket_plot"] = plots.heatmap(bucket, "discipline_id", "difficulty", "delta_points",
                                                "accuracy change vs baseline (points)", "{:+.0f}", "RdYlGn", True)
    return sections


def _data_sections(warehouse: Path) -> dict[str, Any]:
    sections: dict[str, Any] = {}
    seeds = _rows(warehouse, "select discipline_id, difficulty, items from marts.fct_annotation_distribution")
    if seeds:
        sections["seed_plot"] = plots.heatmap(seeds, "discipline_id", "difficulty", "items",
                                              "annotated seeds: discipline x difficulty")
    passed = _rows(warehouse, """select discipline_id, target_difficulty as difficulty, count(*) as items
                                from marts.fct_qc_passed_items group by all""")
    if passed:
        sections["passed_plot"] = plots.heatmap(passed, "discipline_id", "difficulty", "items",
                                                "QC-passed BoostQA items: discipline x target difficulty",
                                                cmap="Greens")
    funnel = _rows(warehouse, """select sum(synthesized) as synthesized, sum(after_filters) as after_filters,
                                       sum(after_decontamination) as after_decontamination,
                                       sum(after_exact_dedup) as after_exact_dedup, sum(kept) as kept
                                from marts.fct_qc_funnel where synthesis_run_id != '_bootstrap'""")
    if funnel and funnel[0]["synthesized"]:
        steps = list(funnel[0])
        sections["qc_plot"] = plots.bars(steps, {"items": [float(funnel[0][s] or 0) for s in steps]},
                                         "QC funnel (all runs)", "items")
    sections["ledger"] = _rows(warehouse, """
        select stage, role, model, sum(calls) as calls, sum(cache_hits) as cache_hits,
               sum(billed_prompt_tokens) as prompt_tokens, sum(billed_completion_tokens) as completion_tokens,
               sum(cost_usd) as cost_usd
        from marts.fct_llm_usage where run_id != '_bootstrap' group by all order by stage, role, model""")
    step_rows = _rows(warehouse, "select run_id, step, loss, loss_trailing_mean from marts.fct_training_steps "
                                "order by run_id, step")
    if step_rows:
        curves: dict[str, tuple[list[float], list[float]]] = {}
        for r in step_rows:
            x, y = curves.setdefault(r["run_id"], ([], []))
            x.append(r["step"] + 1)
            y.append(r["loss"])
        sections["loss_plot"] = plots.lines(curves, "training loss per step", "step", "loss")
    return sections


def _fmt() -> dict[str, Any]:
    def pct(v: float | None) -> str:
        return "–" if v is None else f"{100 * v:.1f}"

    def pts(v: float | None) -> str:
        return "–" if v is None else f"{v:+.1f}"

    def rel(v: float | None) -> str:
        return "–" if v is None else f"{v:+.1f} %"

    def sign(v: float | None, within_noise: bool = False) -> str:
        return "" if not v or within_noise else ("up" if v > 0 else "down")

    def ci(low: float | None, high: float | None, within_noise: bool | None) -> str:
        """A change's confidence interval and its verdict ("within noise" when the interval holds 0)."""
        if low is None or high is None:
            return "no interval: within noise"
        return f"{low:+.1f} to {high:+.1f}: {'within noise' if within_noise else 'beyond noise'}"

    return {"pct": pct, "pts": pts, "rel": rel, "sign": sign, "ci": ci}


def render_report(settings: BoostqaSettings, report_id: str) -> str:
    """The report's HTML."""
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]))
    with warehouse_snapshot(settings.warehouse_path) as warehouse:
        sections = _eval_sections(warehouse) | _data_sections(warehouse) | study_sections(warehouse, _rows)
    context = {"report_id": report_id, "generated_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
               "warehouse": settings.warehouse_path, **_fmt(), **sections}
    return env.get_template("report.html.j2").render(context)


def write_report(settings: BoostqaSettings, store: ObjectStore | None, report_id: str) -> tuple[Path, str | None]:
    """Render the report to ``<state>/reports/<id>/index.html`` and ``s3://<bucket>/reports/<id>/index.html``.

    The S3 copy is written when a store is given. Returns the local path and the S3 URI.
    """
    html = render_report(settings, report_id)
    path = settings.state_dir / "reports" / report_id / "index.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    uri = None
    if store is not None:
        key = f"reports/{report_id}/index.html"
        store.put_bytes(key, html.encode("utf-8"), content_type="text/html; charset=utf-8")
        uri = store.config.uri(key)
    log.info("report %s written to %s%s", report_id, path, f" and {uri}" if uri else "")
    return path, uri
