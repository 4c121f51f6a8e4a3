"""The ``boostqa`` command line: manage the embedded stack, ingest seeds, run the demo, print summaries."""

from __future__ import annotations

import logging
import sys
from datetime import date
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from boostqa.errors import BoostqaError
from boostqa.settings import get_settings
from boostqa_dev.checkout import use_checkout_defaults
from boostqa_dev.ops.cli import ops_app

app = typer.Typer(help="BoostQA Warehouse: seeds -> S3 -> dbt warehouse under Airflow.", no_args_is_help=True)
stack_app = typer.Typer(help="The embedded stack (SeaweedFS S3, Airflow home, DuckDB warehouse).",
                        no_args_is_help=True)
app.add_typer(stack_app, name="stack")
app.add_typer(ops_app, name="ops")
# Wide output when piped (make, CI logs) so tables and paths do not wrap.
console = Console(width=None if sys.stdout.isatty() else 140)


def _print_parts(title: str, parts: list) -> bool:  # type: ignore[type-arg]
    table = Table(title=title)
    table.add_column("part")
    table.add_column("ok")
    table.add_column("detail")
    for part in parts:
        table.add_row(part.name, "[green]yes[/]" if part.healthy else "[red]no[/]", part.detail)
    console.print(table)
    return all(p.healthy for p in parts)


def _fail(exc: BoostqaError) -> typer.Exit:
    console.print(f"[red]error:[/] {exc}")
    return typer.Exit(code=1)


@app.callback()
def _main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="debug logging")] = False) -> None:
    use_checkout_defaults()  # the library's path settings (state folder, dbt project, venvs) from this checkout
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@stack_app.command("up")
def stack_up(ui: Annotated[bool, typer.Option("--ui", help="also start the Airflow UI and dbt docs")] = False) -> None:
    """Start the embedded stack (idempotent: running parts are left as they are)."""
    from boostqa_dev.stack import manager

    try:
        _print_parts("stack up", manager.up(get_settings(), with_ui=ui))
    except BoostqaError as exc:
        raise _fail(exc) from exc


@stack_app.command("down")
def stack_down() -> None:
    """Stop every process `stack up` started (by PID); data under .state/ is kept."""
    from boostqa_dev.stack import manager

    try:
        _print_parts("stack down", manager.down(get_settings()))
    except BoostqaError as exc:
        raise _fail(exc) from exc


@stack_app.command("status")
def stack_status() -> None:
    """Report the health of each part; exit code 1 when a required part is unhealthy."""
    from boostqa_dev.stack import manager

    if not _print_parts("stack status", manager.status(get_settings())):
        raise typer.Exit(code=1)


@stack_app.command("env")
def stack_env() -> None:
    """Print the path of the env file to `source` before running airflow or dbt by hand."""
    from boostqa_dev.stack.airflow_home import write_env_file

    console.print(str(write_env_file(get_settings())))


@app.command("ingest")
def ingest(
    ingest_date: Annotated[str, typer.Option("--date", help="logical date YYYY-MM-DD")] = date.today().isoformat(),
    source: Annotated[list[str] | None, typer.Option(help="only these sources (repeatable)")] = None,
) -> None:
    """Ingest seed sources into the lake directly, without Airflow (same code the DAG runs)."""
    from boostqa.ingest.config import load_sources
    from boostqa.ingest.runner import ingest_source
    from boostqa.lake.store import ObjectStore
    from boostqa_dev.stack.seaweedfs import lake_config

    settings = get_settings()
    try:
        store = ObjectStore(lake_config(settings))
        store.check()
        for config in load_sources(settings.seed_sources):
            if source and config.name not in source:
                continue
            result = ingest_source(config, date.fromisoformat(ingest_date), store)
            console.print(f"{result.source}: {result.rows_valid} valid, {result.rows_quarantined} quarantined "
                          f"{result.quarantine_reasons or ''} -> {result.manifest_uri}")
    except BoostqaError as exc:
        raise _fail(exc) from exc


@app.command("qc")
def qc(
    run_id: Annotated[str | None, typer.Argument(help="synthesis run to check, e.g. synthesize_20261125")] = None,
    force: Annotated[bool, typer.Option(help="redo a run that already has its decisions")] = False,
    rebuild_index: Annotated[bool, typer.Option(help="empty the dedup index, redo QC of every run in order")] = False,
) -> None:
    """Quality-control a synthesis run directly, without Airflow (same code the quality_control task runs)."""
    from boostqa.lake.store import ObjectStore
    from boostqa.qc.run import rebuild_index as rebuild
    from boostqa.qc.run import run_qc
    from boostqa_dev.stack.seaweedfs import lake_config

    if not run_id and not rebuild_index:
        raise typer.BadParameter("give a synthesis run id, or --rebuild-index")
    try:
        store = ObjectStore(lake_config(get_settings()))
        results = rebuild(store) if rebuild_index else [run_qc(store, run_id or "", force=force)]
    except BoostqaError as exc:
        raise _fail(exc) from exc
    for result in results:
        state = "already done (--force redoes it)" if result.skipped else f"{result.items} items, {result.kept} kept"
        console.print(f"qc {result.run_id}: {state} {result.reasons or ''}")


@app.command("demo")
def demo(
    ingest_date: Annotated[str, typer.Option("--date", help="logical date of the run")] = date.today().isoformat(),
    annotate_limit: Annotated[int, typer.Option(help="seeds to annotate in this run; 0 = every pending seed "
                                                    "(the rest of the sample corpus waits for the next run)")] = 64,
    synthesis_limit: Annotated[int, typer.Option(help="plan jobs to synthesize in this run")] = 16,
    days: Annotated[int, typer.Option(min=1, help="scheduled days to run in a row (the data chain each day, "
                                                   "then mid-training and evaluation of the last day's mixture)")] = 1,
    research: Annotated[bool, typer.Option(help="then run the research DAGs (scaling_sweep, anneal_probe) at a tiny "
                                                "size on the new mixture")] = False,
) -> None:
    """Stack up, run the whole pipeline through Airflow, print the summary.

    The pipeline: ingest -> annotate -> plan -> synthesize + QC -> mixture -> mid-train -> evaluate baseline and
    mid-trained model -> report. For several days the summary has one row per day: jobs planned, new calls vs cache
    hits, items kept, corpus size, mixture version.
    """
    from boostqa_dev.demo import run_demo

    try:
        run_demo(get_settings(), date.fromisoformat(ingest_date), console, annotate_limit or None, synthesis_limit,
                 days=days, research=research)
    except BoostqaError as exc:
        raise _fail(exc) from exc


@app.command("summary")
def summary() -> None:
    """Print the warehouse summary (rows per source, quarantine reasons, where things live)."""
    from boostqa_dev.report.summary import print_summary

    try:
        print_summary(get_settings(), console)
    except BoostqaError as exc:
        raise _fail(exc) from exc


@app.command("report")
def report(
    report_id: Annotated[str, typer.Option(help="names the report folder")] = f"report_{date.today():%Y%m%d}",
    upload: Annotated[bool, typer.Option(help="also write it to s3://<bucket>/reports/<id>/")] = True,
) -> None:
    """Render the HTML report (data distribution, QC funnel, token ledger, loss curve, before/after accuracy)."""
    from boostqa.lake.store import ObjectStore
    from boostqa.report.html import write_report
    from boostqa_dev.stack.seaweedfs import lake_config

    settings = get_settings()
    try:
        store = ObjectStore(lake_config(settings)) if upload else None
        path, uri = write_report(settings, store, report_id)
    except BoostqaError as exc:
        raise _fail(exc) from exc
    console.print(f"report: {path}" + (f" ({uri})" if uri else ""))


@app.command("docs")
def docs() -> None:
    """Generate the dbt docs (lineage from the S3 sources) and serve them on the dbt_docs port."""
    from boostqa.warehouse import dbt_env, run_dbt
    from boostqa_dev.stack import ui
    from boostqa_dev.stack.seaweedfs import lake_config

    settings = get_settings()
    try:
        run_dbt(["docs", "generate"], dbt_env(lake_config(settings), settings.warehouse_path))
        for line in ui.up(settings, airflow=False, docs=True):
            console.print(line)
    except BoostqaError as exc:
        raise _fail(exc) from exc
