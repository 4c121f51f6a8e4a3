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


def eval_table(settings: BoostqaSettings) -> Table | None:
    """Baseline vs the newest evaluated model per benchmark, with the headline as caption."""
    rows = query(settings.warehouse_path, """
        select display_name, metric, items, baseline_value, model_value, delta_points, relative_pct, model_id
        from marts.fct_eval_comparison
        where model_id = (select model_id from marts.fct_eval_headline where not is_baseline
                          order by evaluated_at desc limit 1)
        order by in_headline desc, display_name""")
    if not rows:
        return None
    (headline,) = query(settings.warehouse_path, f"""
        select * from marts.fct_eval_headline where model_id = '{rows[0]["model_id"]}'""")

    def pct(value: float | None) -> str:
        return "-" if value is None else f"{100 * value:.1f}"

    def points(value: float | None) -> str:
        return "-" if value is None else f"{value:+.1f}"

    caption = (f"headline (avg MMLU, CMMLU): {pct(headline['baseline_headline'])} -> {pct(headline['headline'])} "
               f"({points(headline['headline_delta_points'])} points); average of {headline['benchmarks']} "
               f"benchmarks: {pct(headline['baseline_average_12'])} -> {pct(headline['average_12'])} "
               f"({points(headline['average_12_delta_points'])} points)")
    table = Table(title=f"benchmarks: baseline vs {rows[0]['model_id']} (marts.fct_eval_comparison)",
                  caption=caption)
    for column in ("benchmark", "metric", "items", "baseline", "mid-trained", "points", "relative"):
        table.add_column(column, justify="left" if column in ("benchmark", "metric") else "right")
    for r in rows:
        relative = "-" if r["relative_pct"] is None else f"{r['relative_pct']:+.0f} %"
        table.add_row(r["display_name"], r["metric"], str(r["items"]), pct(r["baseline_value"]),
                      pct(r["model_value"]), points(r["delta_points"]), relative)
    return table


def report_line(settings: BoostqaSettings) -> str | None:
    """Where the newest HTML report is, locally and in S3."""
    reports = sorted((settings.state_dir / "reports").glob("*/index.html"), key=lambda p: p.stat().st_mtime)
    if not reports:
        return None
    report_id = reports[-1].parent.name
    return f"report: {reports[-1]} (s3://{settings.lake.bucket}/reports/{report_id}/index.html)"
