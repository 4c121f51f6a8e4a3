"""`make bench`: every benchmark in its own venv and process, one record each, one table, exit 1 on a missed goal.

    .venv/bin/python bench/run.py                  # full size, records into bench/results/
    .venv/bin/python bench/run.py --quick          # CI-sized, records into a new temporary folder
    .venv/bin/python bench/run.py --only dedup     # one benchmark (its key or its label, e.g. P4)

P6 runs the whole demo on a fresh state folder (minutes; stop a running dev stack first, it takes the default
ports); P7 installs a fresh clone and runs `make test` in it (the suite's length; nothing else should run beside
it); P3 (the dbt marts) runs its default 1M rows here: `bench/dbt_marts.py --rows 10000000` for 10M. P9 (QC as
a Ray job) runs at 100k and 1M items here (tens of minutes on 2 cores): `bench/qc_scale.py --items 10000000` for 10M.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.record import BenchRecord, fmt, gpu_name, read_record, resolve_out, value_text, verdict  # noqa: E402


class Bench(BaseModel):
    """One benchmark script and how to run it."""

    key: str
    label: str
    python: str
    script: str
    args: list[str] = []
    env: dict[str, str] = {}
    needs_gpu: bool = False
    full_only: bool = False  # a larger size of another entry's script: that entry's --quick run covers it


BENCHES = [
    Bench(key="llm_throughput", label="P1", python=".venv/bin/python", script="bench/llm_throughput.py"),
    Bench(key="cached_replay", label="P2", python=".venv/bin/python", script="bench/cached_replay.py"),
    Bench(key="dbt_marts", label="P3", python=".venv/bin/python", script="bench/dbt_marts.py"),
    Bench(key="dedup", label="P4", python=".venv/bin/python", script="bench/dedup.py"),
    Bench(key="trainer_throughput", label="P5", python=".venv-train/bin/python", script="bench/trainer_throughput.py",
          env={"DS_ACCELERATOR": "cpu"}),
    Bench(key="trainer_throughput_gpu", label="P5", python=".venv-train/bin/python",
          script="bench/trainer_throughput.py", args=["--gpu"], env={"DS_ACCELERATOR": "cuda"}, needs_gpu=True),
    Bench(key="demo_time", label="P6", python=".venv/bin/python", script="bench/demo_time.py"),
    Bench(key="test_time", label="P7", python=".venv/bin/python", script="bench/test_time.py"),
    Bench(key="ray_cluster", label="P8", python=".venv/bin/python", script="bench/ray_cluster.py"),
    Bench(key="qc_scale", label="P9", python=".venv/bin/python", script="bench/qc_scale.py"),
    Bench(key="qc_scale_1m", label="P9", python=".venv/bin/python", script="bench/qc_scale.py",
          args=["--items", "1000000"], full_only=True),
    Bench(key="training_dry_run", label="P10", python=".venv/bin/python", script="bench/training_dry_run.py"),
]


class Outcome(BaseModel):
    """What one benchmark left: its records, or why there are none."""

    bench: Bench
    records: list[tuple[Path, BenchRecord]] = []
    problem: str | None = None


def run_one(bench: Bench, out: Path, quick: bool, console: Console) -> Outcome:
    if bench.needs_gpu and gpu_name() is None:
        return Outcome(bench=bench, problem="skipped: no GPU")
    if quick and bench.full_only:
        return Outcome(bench=bench, problem="skipped: full size only (the same script's quick run is its check)")
    python = ROOT / bench.python
    if not python.exists():
        return Outcome(bench=bench, problem=f"error: {bench.python} is missing (make install)")
    before = set(out.glob(f"{bench.key}-*.json"))
    command = [str(python), str(ROOT / bench.script), *bench.args, "--out", str(out), *(["--quick"] if quick else [])]
    console.rule(f"{bench.label} {bench.key}")
    done = subprocess.run(command, cwd=ROOT, env={**os.environ, **bench.env}, check=False)  # noqa: S603
    # The key's date suffix keeps trainer_throughput from matching trainer_throughput_gpu's files.
    new = sorted(p for p in set(out.glob(f"{bench.key}-*.json")) - before
                 if p.name.removeprefix(f"{bench.key}-")[:1].isdigit())
    records = [(p, read_record(p)) for p in new]
    if done.returncode != 0 or not records:
        return Outcome(bench=bench, records=records, problem=f"error: exit {done.returncode}, {len(records)} records")
    return Outcome(bench=bench, records=records)


def table(outcomes: list[Outcome]) -> Table:
    grid = Table(title="benchmarks", show_lines=False)
    for column in ("benchmark", "measure", "ours", "anchor", "ratio/value", "goal", "verdict"):
        grid.add_column(column, overflow="fold")
    for outcome in outcomes:
        name = f"{outcome.bench.label} {outcome.bench.key}"
        if outcome.problem and not outcome.records:
            grid.add_row(name, "—", "—", "—", "—", "—", outcome.problem)
        for _, record in outcome.records:
            if record.skipped is not None or not record.checks:
                grid.add_row(name, record.title, "—", "—", "—", "—", verdict(record, None))
            for check in record.checks:
                mark = verdict(record, check)
                style = {"pass": "green", "FAIL": "bold red"}.get(mark, "")
                grid.add_row(name, check.measure, fmt(check.ours, check.unit), fmt(check.anchor, check.unit),
                             value_text(check), check.goal or "—", f"[{style}]{mark}[/]" if style else mark)
    return grid


def main(
    quick: Annotated[bool, typer.Option(help="CI-sized runs; records go to --out or a new temporary folder")] = False,
    out: Annotated[Path | None, typer.Option(help="records folder (default bench/results, quick: a temp folder)")]
    = None,
    only: Annotated[str | None, typer.Option(help="one benchmark: its key (dedup) or label (P4)")] = None,
) -> None:
    console = Console(width=max(Console().width, 160))  # piped output (make, CI) would wrap at 80 columns
    folder = resolve_out(out, quick)
    chosen = [b for b in BENCHES if only is None or only.lower() in {b.key, b.label.lower()}]
    if not chosen:
        raise typer.BadParameter(f"no benchmark {only!r}; one of {', '.join(b.key for b in BENCHES)}")
    outcomes = [run_one(bench, folder, quick, console) for bench in chosen]
    console.print(table(outcomes))
    for outcome in outcomes:
        if any(r.skipped and "boostqa stack up" in r.skipped for _, r in outcome.records):
            console.print(f"{outcome.bench.key} needs the vLLM server: `.venv/bin/boostqa stack up`, then rerun "
                          f"`make bench` (or `--only {outcome.bench.key}`).")
    console.print(f"records: {folder}" + ("" if quick else " (`make measured` puts them into README.md)"))
    failed = [o for o in outcomes if (o.problem or "").startswith("error")
              or any(r.failed for _, r in o.records)]
    if failed:
        console.print(f"[bold red]missed or broken: {', '.join(o.bench.key for o in failed)}[/]")
        raise typer.Exit(1)


if __name__ == "__main__":
    typer.run(main)
