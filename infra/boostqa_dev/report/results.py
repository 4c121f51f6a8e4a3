"""The model side of the operator summary: the mixture, the training run, before/after accuracy, the report."""

from __future__ import annotations

import json
from datetime import date

from rich.table import Table

from boostqa.settings import BoostqaSettings
from boostqa.warehouse import query


def mixture_line(settings: BoostqaSettings, version: str | None) -> str | None:
    """The exported mixture's counts: ``version`` when its manifest exists, else the newest export."""
    manifests = sorted((settings.state_dir / "mixtures").glob("*/manifest.json"), key=lambda p: p.stat().st_mtime)
    chosen = [p for p in manifests if p.parent.name == version] or manifests[-1:]
    if not chosen:
        return None
    m = json.loads(chosen[-1].read_text())
    by_source = ", ".join(f"{k} {v}" for k, v in m["counts"]["by_source"].items())
    packed = sum(s["sequences"] for s in m["packed"]["shards"])
    return (f"mixture {m['mixture_version']}: {m['counts']['samples']} samples ({by_source}), {m['tokens']:,} "
            f"tokens, {packed} packed sequences of {m['packed']['seq_len']} "
            f"(s3://{settings.lake.bucket}/mixtures/{m['mixture_version']}/)")


def training_lines(settings: BoostqaSettings, day: date) -> list[str]:
    """The mixture, the newest run in fct_training_runs, and the day's HF folder or failure."""
    runs = query(settings.warehouse_path, """
        select run_id, training_config, mixture_version, last_step, loss_first, loss_last, loss_last_trailing_mean,
               tokens_trained, tokens_per_s, mixture_epochs
        from marts.fct_training_runs order by run_id desc limit 1""")
    run = runs[0] if runs else None
    mixture = mixture_line(settings, run["mixture_version"] if run else None)
    lines = [mixture] if mixture else []
    if run:
        lines.append(f"mid-training {run['run_id']} ({run['training_config']}, {run['last_step']} steps, "
                     f"{run['tokens_trained']:,} tokens at {run['tokens_per_s']:.0f} tokens/s, "
                     f"{run['mixture_epochs'] or 0:.1f} passes over the mixture): loss {run['loss_first']:.3f} at "
                     f"the start -> {run['loss_last']:.3f} at the end (trailing mean "
                     f"{run['loss_last_trailing_mean']:.3f}; marts.fct_training_runs, fct_training_steps)")
    # the newest training run on this machine, finished or not (a failed one never reaches the marts)
    statuses = sorted((settings.state_dir / "checkpoints").glob("*/status.json"), key=lambda p: p.stat().st_mtime)
    if statuses:
        status, name = json.loads(statuses[-1].read_text()), statuses[-1].parent.name
        if status["state"] == "succeeded":
            lines.append(f"mid-trained model {name} (HF folder): {status.get('hf_folder')}")
        else:
            lines.append(f"mid-training {name}: {status['state']} {status.get('error') or ''}")
    return lines


def change_text(points: float | None, low: float | None, high: float | None, within_noise: bool | None) -> str:
    """A before/after change with its confidence interval: "+25.0 points, CI -8.3 to +58.3: within noise"."""
    if points is None:
        return "-"
    if low is None or high is None:
        return f"{points:+.1f} points, no interval: within noise"
    verdict = "within noise" if within_noise else "beyond noise"
    return f"{points:+.1f} points, CI {low:+.1f} to {high:+.1f}: {verdict}"


def eval_table(settings: BoostqaSettings) -> Table | None:
    """Baseline vs the newest evaluated model per benchmark, with the headline as caption.

    Every change carries its paired bootstrap interval and says "within noise" when that interval holds 0.
    """
    rows = query(settings.warehouse_path, """
        select display_name, metric, items, shared_items, baseline_value, model_value, delta_points, relative_pct,
               delta_ci_low_points, delta_ci_high_points, within_noise, model_id
        from marts.fct_eval_comparison
        where model_id = (select model_id from marts.fct_eval_headline where not is_baseline and not is_study
                          order by evaluated_at desc limit 1)
        order by in_headline desc, display_name""")
    if not rows:
        return None
    (headline,) = query(settings.warehouse_path, f"""
        select * from marts.fct_eval_headline where model_id = '{rows[0]["model_id"]}'""")

    def pct(value: float | None) -> str:
        return "-" if value is None else f"{100 * value:.1f}"

    caption = (f"headline (avg MMLU, CMMLU): {pct(headline['baseline_headline'])} -> {pct(headline['headline'])} ("
               + change_text(headline["headline_delta_points"], headline["headline_ci_low_points"],
                             headline["headline_ci_high_points"], headline["headline_within_noise"])
               + f"); average of {headline['benchmarks']} benchmarks: {pct(headline['baseline_average_12'])} -> "
               f"{pct(headline['average_12'])} ("
               + change_text(headline["average_12_delta_points"], headline["average_12_ci_low_points"],
                             headline["average_12_ci_high_points"], headline["average_12_within_noise"])
               + "). CI: paired bootstrap interval over the items both answered (dbt var eval_ci_level)")
    table = Table(title=f"benchmarks: baseline vs {rows[0]['model_id']} (marts.fct_eval_comparison)",
                  caption=caption)
    for column in ("benchmark", "metric", "items", "baseline", "mid-trained", "points", "CI", "relative"):
        table.add_column(column, justify="left" if column in ("benchmark", "metric") else "right")
    for r in rows:
        interval = ("-" if r["delta_ci_low_points"] is None
                    else f"{r['delta_ci_low_points']:+.1f} to {r['delta_ci_high_points']:+.1f}")
        relative = "-" if r["relative_pct"] is None else f"{r['relative_pct']:+.0f} %"
        if r["within_noise"]:
            relative = f"within noise ({relative})"
        table.add_row(r["display_name"], r["metric"], str(r["items"]), pct(r["baseline_value"]),
                      pct(r["model_value"]), f"{r['delta_points']:+.1f}" if r["delta_points"] is not None else "-",
                      interval, relative)
    return table


def report_line(settings: BoostqaSettings) -> str | None:
    """Where the newest HTML report is, locally and in S3."""
    reports = sorted((settings.state_dir / "reports").glob("*/index.html"), key=lambda p: p.stat().st_mtime)
    if not reports:
        return None
    report_id = reports[-1].parent.name
    return f"report: {reports[-1]} (s3://{settings.lake.bucket}/reports/{report_id}/index.html)"
