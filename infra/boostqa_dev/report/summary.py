"""The operator summary printed by ``make demo`` and ``boostqa summary``: counts, quarantine, where things live."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any, cast

from rich.console import Console
from rich.table import Table

from boostqa.settings import BoostqaSettings
from boostqa.vocabulary import VOCABULARIES
from boostqa.warehouse import query, warehouse_snapshot
from boostqa_dev.report.results import eval_table, report_line, training_lines


def _latest_date(settings: BoostqaSettings) -> date | None:
    rows = query(settings.warehouse_path, "select max(ingest_date) as d from marts.fct_seed_ingest_counts")
    return rows[0]["d"] if rows else None


def _sources_table(settings: BoostqaSettings, day: date) -> Table:
    rows = query(
        settings.warehouse_path,
        f"""
        select source_name, string_agg(language || ':' || seed_rows, ' ' order by language) as by_language,
               sum(seed_rows) as seed_rows, max(source_quarantined_rows) as quarantined
        from marts.fct_seed_ingest_counts where ingest_date = date '{day.isoformat()}'
        group by 1 order by 1
        """,
    )
    table = Table(title=f"seeds per source, ingest date {day}")
    for column in ("source", "valid rows", "by language", "quarantined"):
        table.add_column(column, justify="right" if column != "source" else "left")
    for row in rows:
        table.add_row(row["source_name"], str(row["seed_rows"]), row["by_language"], str(row["quarantined"]))
    table.add_row("[bold]total", f"[bold]{sum(r['seed_rows'] for r in rows)}", "",
                  f"[bold]{sum(r['quarantined'] for r in rows)}")
    return table


def _reasons_table(settings: BoostqaSettings, day: date) -> Table:
    rows = query(
        settings.warehouse_path,
        f"""
        select reason, sum(quarantined_rows) as n, string_agg(distinct source_name, ', ') as sources
        from marts.fct_quarantine_reasons where ingest_date = date '{day.isoformat()}'
        group by 1 order by n desc, reason
        """,
    )
    table = Table(title="quarantined rows per reason")
    table.add_column("reason")
    table.add_column("rows", justify="right")
    table.add_column("sources")
    for row in rows:
        table.add_row(row["reason"], str(row["n"]), row["sources"])
    return table


def _coverage_line(settings: BoostqaSettings) -> str:
    row = query(
        settings.warehouse_path,
        """
        select sum(distinct_seeds) as seeds, count(distinct discipline_id) filter (where discipline_id <> 'unmapped')
               as disciplines, count(distinct difficulty_hint) as bands,
               count(distinct category_id) filter (where category_id <> 'unmapped') as categories
        from marts.fct_seed_coverage
        """,
    )[0]
    return (f"{row['seeds']} distinct seeds over {row['disciplines']} disciplines in {row['categories']} categories, "
            f"{row['bands']} difficulty bands (by the sources' hints)")


def _distribution_table(settings: BoostqaSettings) -> Table | None:
    rows = query(settings.warehouse_path, """
        select discipline_id, difficulty, items from marts.fct_annotation_distribution""")
    if not rows:
        return None
    cells: dict[str, dict[int, int]] = {}
    for row in rows:
        cells.setdefault(row["discipline_id"], {})[row["difficulty"]] = row["items"]
    table = Table(title="annotated seeds: discipline x difficulty")
    table.add_column("discipline")
    for level in range(1, 6):
        table.add_column(str(level), justify="right")
    table.add_column("total", justify="right")
    for discipline, counts in sorted(cells.items(), key=lambda kv: -sum(kv[1].values())):
        table.add_row(discipline, *(str(counts.get(d, "")) for d in range(1, 6)), str(sum(counts.values())))
    return table


def _planning_lines(settings: BoostqaSettings) -> list[str]:
    status = query(settings.warehouse_path, "select * from marts.fct_annotation_status order by 1")
    plan = query(settings.warehouse_path, """
        select plan_id, strategy, count(*) as buckets, sum(quota) as quota
        from marts.fct_generation_plan group by 1, 2 order by 2""")
    plan_id = plan[0]["plan_id"] if plan else "-"
    lines = ["annotation: " + ", ".join(f"{r['annotation_status']} {r['seeds']}" for r in status)]
    lines.append(f"generation plan {plan_id} (s3://{settings.lake.bucket}/plans/plan_id={plan_id}/): "
                 + (", ".join(f"{r['strategy']} {r['quota']} items over {r['buckets']} buckets" for r in plan)
                    or "nothing to generate"))
    return lines


def _usage_table(settings: BoostqaSettings) -> Table | None:
    rows = query(settings.warehouse_path, """
        select stage, run_id, role, model, items, calls, cache_hits, billed_prompt_tokens, billed_completion_tokens,
               p50_latency_ms, cost_usd
        from marts.fct_llm_usage where run_id != '_bootstrap' order by stage, run_id, role, model""")
    if not rows:
        return None
    table = Table(title="LLM usage (token ledger; cache hits cost no call)")
    for column in ("stage", "run", "role", "model", "items", "calls", "cache hits", "prompt tok", "completion tok",
                   "p50 ms", "cost $"):
        table.add_column(column, justify="left" if column in ("stage", "run", "role", "model") else "right")
    for r in rows:
        cost = "n/a" if r["cost_usd"] is None else f"{r['cost_usd']:.4f}"
        p50 = "" if r["p50_latency_ms"] is None else f"{r['p50_latency_ms']:.0f}"
        table.add_row(r["stage"], r["run_id"], r["role"], r["model"], str(r["items"]), str(r["calls"]),
                      str(r["cache_hits"]),
                      str(r["billed_prompt_tokens"]), str(r["billed_completion_tokens"]), p50, cost)
    return table


def _funnel_table(settings: BoostqaSettings) -> Table | None:
    rows = query(settings.warehouse_path, """
        select strategy, sum(jobs) as jobs, sum(generated) as generated, sum(verified) as verified,
               sum(reached_difficulty) as reached, sum(kept) as kept, sum(rejected_difficulty_degraded) as degraded,
               sum(rejected_refine_unresolved + rejected_refine_disagreement + rejected_refine_invalid) as refine_lost
        from marts.fct_synthesis_funnel where synthesis_run_id != '_bootstrap' group by 1 order by 1""")
    if not rows:
        return None
    table = Table(title="synthesis funnel (all runs)")
    for column in ("strategy", "jobs", "valid draft", "verified", "reached difficulty", "kept", "degraded",
                   "lost in refine"):
        table.add_column(column, justify="left" if column == "strategy" else "right")
    for r in rows:
        table.add_row(r["strategy"], *(str(r[k]) for k in ("jobs", "generated", "verified", "reached", "kept",
                                                             "degraded", "refine_lost")))
    return table


# fct_qc_funnel's removed_* columns: one per later step, one per filter reason (the mart pivots the same list)
_QC_REASONS = ("contaminated", "exact_duplicates", "near_duplicates", *VOCABULARIES["qc_filter_reason"])


def _qc_table(settings: BoostqaSettings) -> Table | None:
    sums = ", ".join(f"sum(removed_{r}) as {r}" for r in _QC_REASONS)
    rows = query(settings.warehouse_path, f"""
        select strategy, sum(synthesized) as synthesized, sum(after_filters) as filters,
               sum(after_decontamination) as decontaminated, sum(after_exact_dedup) as exact, sum(kept) as kept,
               {sums}
        from marts.fct_qc_funnel where synthesis_run_id != '_bootstrap' group by 1 order by 1""")
    if not rows:
        return None
    removed = {r: sum(int(row[r]) for row in rows) for r in _QC_REASONS}
    caption = "removed by first reason: " + (", ".join(f"{r} {n}" for r, n in removed.items() if n) or "none")
    table = Table(title="QC funnel (all runs)", caption=caption)
    for column in ("strategy", "synthesized", "passed filters", "not contaminated", "not exact dup", "kept"):
        table.add_column(column, justify="left" if column == "strategy" else "right")
    for r in rows:
        table.add_row(r["strategy"], *(str(r[k]) for k in ("synthesized", "filters", "decontaminated", "exact",
                                                             "kept")))
    return table


def _examples(settings: BoostqaSettings, count: int = 3) -> list[str]:
    rows = query(settings.warehouse_path, f"""
        select strategy, discipline_id, target_difficulty, verified_difficulty, question, options, refined_option,
               refined_answer
        from marts.fct_qc_passed_items order by length(question) desc, item_id limit {int(count)}""")
    lines = []
    for r in rows:
        options = "".join(f"\n      {chr(65 + i)}. {o}" for i, o in enumerate(r["options"] or []))
        answer = f"{r['refined_option']}: " if r["refined_option"] else ""
        lines.append(f"  [{r['strategy']}, {r['discipline_id']}, target {r['target_difficulty']}, "
                     f"verified {r['verified_difficulty']}] {r['question'][:300]}{options}\n"
                     f"      answer {answer}{r['refined_answer'][:300]}")
    return lines


def _print_results(settings: BoostqaSettings, console: Console, day: date) -> None:
    for line in training_lines(settings, day):
        console.print(line)
    evaluation = eval_table(settings)
    if evaluation is not None:
        console.print(evaluation)
    report = report_line(settings)
    if report:
        console.print(f"[bold]{report}[/]")


class _OnSnapshot:
    """The settings as the summary reads them: ``warehouse_path`` is the pinned snapshot, never dbt's file."""

    def __init__(self, settings: BoostqaSettings, snapshot: Path) -> None:
        self._settings, self.warehouse_path = settings, snapshot

    def __getattr__(self, name: str) -> Any:
        return getattr(self._settings, name)


def print_summary(settings: BoostqaSettings, console: Console, day: date | None = None) -> None:
    """Print what the last run produced and where to look next, from the warehouse's published snapshot."""
    with warehouse_snapshot(settings.warehouse_path) as snapshot:
        _print_summary(cast(BoostqaSettings, _OnSnapshot(settings, snapshot)), console, day)


def _print_summary(settings: BoostqaSettings, console: Console, day: date | None) -> None:
    day = day or _latest_date(settings)
    if day is None:
        console.print("[yellow]the warehouse has no seeds yet: run `make demo`[/]")
        return
    console.print(_sources_table(settings, day))
    console.print(_reasons_table(settings, day))
    console.print(f"coverage: {_coverage_line(settings)}")
    for table in (_distribution_table(settings), _usage_table(settings), _funnel_table(settings)):
        if table is not None:
            console.print(table)
    qc = _qc_table(settings)
    if qc is not None:
        console.print(qc)
        console.print("[bold]examples of items that passed QC[/]")
        for line in _examples(settings):
            console.print(line, markup=False)
    for line in _planning_lines(settings):
        console.print(line)
    _print_results(settings, console, day)
    bucket = settings.lake.bucket
    console.print(
        "\n[bold]where the data lives[/]\n"
        f"  raw zone      s3://{bucket}/raw/seeds/source=<name>/ingest_date={day}/ (+ _manifest.json)\n"
        f"  quarantine    s3://{bucket}/quarantine/ingest/run_id=ingest_{day}/source=<name>/\n"
        f"  QC decisions  s3://{bucket}/qc/{{kept,removals,index}}/run_id=<synthesis run>/ "
        "(marts.fct_qc_funnel, fct_qc_duplicate_pairs, fct_qc_contamination_pairs, fct_qc_passed_items)\n"
        f"  mixtures      s3://{bucket}/mixtures/<version>/ (marts.fct_training_mixture, fct_mixture_lineage)\n"
        f"  training      {settings.state_dir / 'checkpoints'}/<run>/, s3://{bucket}/training/metrics/ "
        "(marts.fct_training_runs, fct_training_steps)\n"
        f"  evaluation    s3://{bucket}/eval/{{items,scores}}/model_id=<model>/benchmark=<name>/ "
        "(marts.fct_eval_headline, fct_eval_comparison, fct_eval_bucket_comparison, fct_deficiency_probe)\n"
        f"  S3 endpoint   {settings.s3_endpoint} (credentials in {settings.state_dir / 'env.sh'})\n"
        f"  warehouse     {settings.warehouse_path} (marts.fct_seed_ingest_counts, marts.fct_quarantine_reasons)\n"
        f"  logs          {settings.state_dir / 'logs'}\n"
        "\n[bold]next[/]\n"
        f"  Airflow UI    `.venv/bin/boostqa stack up --ui` -> http://{settings.host}:{settings.ports.airflow_api}\n"
        f"  dbt docs      `make docs` -> http://{settings.host}:{settings.ports.dbt_docs} (lineage from S3 sources)\n"
        "  inspect       `source .state/env.sh` then `.venv/bin/dbt show --project-dir dbt_project "
        "--profiles-dir dbt_project --inline 'select * from marts.fct_quarantine_reasons'`\n"
        "  stop          `.venv/bin/boostqa stack down`"
    )
