"""``make demo``: bring the stack up, run the DAGs through Airflow, print the operator summary."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from datetime import date, timedelta

from rich.console import Console
from rich.status import Status

from boostqa.errors import StackError
from boostqa.lake import layout
from boostqa.lake.store import ObjectStore
from boostqa.lake.versions import read_pointer
from boostqa.settings import BoostqaSettings
from boostqa.studies.runs import boostqa_rows
from boostqa.warehouse import dbt_env, dbt_project_dir, run_dbt
from boostqa_dev.report.days import DayRow, day_row, days_table, run_ids
from boostqa_dev.report.summary import print_summary
from boostqa_dev.stack import manager
from boostqa_dev.stack.airflow_home import airflow_env
from boostqa_dev.stack.dag_runs import run_in_runner
from boostqa_dev.stack.seaweedfs import lake_config

# The data chain every scheduled day runs, then the model side (once, on the last day's mixture).
DAY_DAGS = ("seed_ingest", "seed_annotate", "warehouse_build", "qa_synthesis", "mixture_export")
MODEL_DAGS = ("midtrain", "benchmark_eval")
DEMO_DAGS = DAY_DAGS + MODEL_DAGS
# The research DAGs, behind `make demo DEMO_RESEARCH=1` (`boostqa demo --research`): a tiny grid and one probe on the
# mixture the demo just exported, a few more minutes on 2 cores (docs/studies.md).
RESEARCH_MIN_ITEMS = 40
RESEARCH_CONFS: dict[str, dict[str, object]] = {
    # a demo mixture holds a few dozen BoostQA items at best: hold out a quarter, so every held-out set has some
    "scaling_sweep": {"sizes": "32x1,64x1", "base_tokens": "0,4096", "boostqa_tokens": "1024,4096", "seq_len": 64,
                      "lr": 0.01, "heldout_fraction": 0.25},
    "anneal_probe": {"tokens": 4096, "seq_len": 64, "lr": 0.01, "base_size": "32x1", "base_tokens": 4096,
                     "heldout_fraction": 0.25, "eval_benchmarks": "arc_easy,mmlu", "eval_with_baseline": False},
}
# Items per benchmark the demo scores (baseline and mid-trained model, 12 benchmarks): the plumbing, in the demo's
# 15-minute budget (bench/demo_time.py records each stage); the scores are noise at this size (docs/eval.md).
DEMO_EVAL_LIMIT = 2
# What boostqa.llm.progress.Progress logs: "<stage> <run>: done/total (rate/s, ETA ...)".
PROGRESS_LINE = re.compile(r"\S+ \S+: \d+/\d+ \([0-9.]+/s, ETA [^)]*\)")


def latest_progress(text: str) -> str | None:
    """The last progress line in a chunk of task log, if any."""
    found = PROGRESS_LINE.findall(text)
    return found[-1] if found else None


def run_dag(settings: BoostqaSettings, dag_id: str, logical_date: date, conf: dict[str, object] | None = None,
            on_progress: Callable[[str], None] | None = None) -> float:
    """Run one DAG as ``airflow dags test`` does; return seconds taken.

    It runs in the session's long-lived runner (boostqa_dev.stack.dag_runs); its log goes to ``.state/logs``.

    ``on_progress`` receives the tasks' progress lines (done/total, rate, ETA) while the run goes on.

    Raises:
        StackError: the DAG run did not succeed (the message names the log to read).
    """
    log_file = settings.state_dir / "logs" / f"dags_test-{dag_id}-{logical_date}.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    log_file.write_text("")
    started = time.monotonic()
    offset = 0

    def follow() -> None:
        nonlocal offset
        with log_file.open("rb") as handle:
            handle.seek(offset)
            chunk = handle.read()
        offset += len(chunk)
        line = latest_progress(chunk.decode("utf-8", errors="replace"))
        if line and on_progress:
            on_progress(line)

    reply = run_in_runner({**os.environ, **airflow_env(settings)}, dag_id, logical_date.isoformat(), conf,
                          log_file, follow)
    if reply["state"] != "success":
        raise StackError(f"DAG {dag_id} did not succeed for {logical_date} ({reply.get('error') or reply['state']}); "
                         f"read {log_file}")
    return time.monotonic() - started


def ensure_manifest(settings: BoostqaSettings) -> None:
    """Parse the dbt project when its manifest is missing (cosmos renders the DAG from it)."""
    if not (dbt_project_dir() / "target" / "manifest.json").exists():
        run_dbt(["parse", "--quiet"], dbt_env(lake_config(settings), settings.warehouse_path))


def run_demo(settings: BoostqaSettings, logical_date: date, console: Console, annotate_limit: int | None = None,
             synthesis_limit: int = 72, difficulty_tolerance: int = 3, days: int = 1,
             timings: dict[str, float] | None = None, research: bool = False) -> list[DayRow]:
    """The demo, end to end on the embedded stack.

    Stack up -> seed_ingest -> seed_annotate -> warehouse_build (plan) -> qa_synthesis (with QC) -> mixture_export ->
    midtrain (SmolLM2-135M on CPU, a few minutes) -> benchmark_eval (baseline and mid-trained model,
    ``DEMO_EVAL_LIMIT`` items per benchmark; eval marts, deficiency probe, HTML report) -> summary.

    ``days`` > 1 runs the data chain (ingest to mixture) once per scheduled day, ``logical_date`` onwards, each day a
    new plan, synthesis run and mixture version, then mid-trains and evaluates the last day's mixture; the per-day
    table shows the corpus growing. Returns one row per day.

    ``annotate_limit`` caps the seeds one demo run annotates (None: every pending seed of the sample
    corpus). Annotation is incremental, so a later run continues with the rest.
    ``synthesis_limit`` caps the plan's jobs the demo synthesizes; ``difficulty_tolerance`` is the verify step's
    slack: the 135M annotator rarely rates anything above 2, so at 0 nearly every hard question would be
    rejected as degraded (see docs/synthesis.md); ``plain_text`` keeps its strings from running away.
    ``research`` then runs the research DAGs (``RESEARCH_CONFS``) on the newest mixture.
    ``timings``, when given, receives the wall seconds of each stage (``stack``, each DAG, ``summary``; a DAG of
    day n > 1 as ``<dag>@<n>``): ``bench/demo_time.py`` records them.
    """
    timings = {} if timings is None else timings
    started = time.monotonic()
    with console.status("starting the embedded stack"):
        parts = manager.up(settings)
    for part in parts:
        console.print(f"[green]ok[/] {part.name}: {part.detail}")
    ensure_manifest(settings)
    timings["stack"] = time.monotonic() - started
    confs: dict[str, dict[str, object]] = {
        "seed_annotate": {"limit": annotate_limit, "shard_size": 64},
        "midtrain": {"config": "cpu_smollm2"},
        # the model is the newest finished training run (training/latest.json): the one midtrain just published
        "benchmark_eval": {"limit": DEMO_EVAL_LIMIT, "max_new_tokens": 96},
        "qa_synthesis": {"limit": synthesis_limit, "shard_size": 32, "difficulty_tolerance": difficulty_tolerance,
                         "plain_text": True},
    }
    store = ObjectStore(lake_config(settings))
    rows: list[DayRow] = []
    for offset in range(days):
        day = logical_date + timedelta(days=offset)
        before = run_ids(store, f"{layout.SYNTHESIS}/")
        for dag_id in DAY_DAGS:
            name = dag_id if offset == 0 else f"{dag_id}@{offset + 1}"
            timings[name] = _run_with_progress(settings, console, dag_id, day, confs.get(dag_id))
        rows.append(day_row(store, day.isoformat(), next(iter(run_ids(store, f"{layout.SYNTHESIS}/") - before), None)))
    for dag_id in MODEL_DAGS:
        timings[dag_id] = _run_with_progress(settings, console, dag_id, logical_date + timedelta(days=days - 1),
                                             confs.get(dag_id))
    if research and _enough_for_studies(store, console):
        for dag_id, conf in RESEARCH_CONFS.items():
            conf = conf | ({"eval_limit": DEMO_EVAL_LIMIT} if dag_id == "anneal_probe" else {})
            timings[dag_id] = _run_with_progress(settings, console, dag_id, logical_date + timedelta(days=days - 1),
                                                 conf)
    started = time.monotonic()
    print_summary(settings, console, logical_date + timedelta(days=days - 1))
    timings["summary"] = time.monotonic() - started
    if days > 1:
        console.print(days_table(rows))
    return rows


def _enough_for_studies(store: ObjectStore, console: Console) -> bool:
    """Whether the newest mixture holds enough BoostQA items to hold some out; says why not when it does not."""
    pointer = read_pointer(store, "mixtures")
    items = len(boostqa_rows(store, pointer["version"])) if pointer else 0
    if items >= RESEARCH_MIN_ITEMS:
        return True
    console.print(f"[yellow]skipped[/] the research DAGs: the newest mixture holds {items} BoostQA items, and a study "
                  f"holds out a quarter of at least {RESEARCH_MIN_ITEMS} (grow the corpus: more --days or a larger "
                  "--synthesis-limit, then `boostqa demo --research` again)")
    return False


def _run_with_progress(settings: BoostqaSettings, console: Console, dag_id: str, day: date,
                       conf: dict[str, object] | None) -> float:
    title = f"running DAG {dag_id} for {day} through Airflow"
    with console.status(title) as status:
        def show(line: str, status: Status = status, title: str = title) -> None:
            status.update(f"{title} - {line}")
            if not console.is_terminal:  # piped (make, CI): a plain line, not a spinner redraw
                console.print(f"  {line}")

        seconds = run_dag(settings, dag_id, day, conf=conf, on_progress=show)
    console.print(f"[green]ok[/] DAG {dag_id} succeeded in {seconds:.0f}s "
                  f"(log: {settings.state_dir / 'logs' / f'dags_test-{dag_id}-{day}.log'})")
    return seconds
