"""The benchmark record: checks against goals, raw samples, machine facts, git state, and the results folder."""

from __future__ import annotations

import argparse
import operator
import os
import platform
import re
import shutil
import statistics
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, model_validator

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
_GOAL = re.compile(r"^\s*(>=|<=|==|>|<)\s*(-?\d+(?:\.\d*)?(?:[eE]-?\d+)?)\s*$")
_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge, "<=": operator.le, "==": operator.eq, ">": operator.gt, "<": operator.lt}


def parse_goal(goal: str) -> tuple[str, float]:
    """``">= 0.95"`` -> (">=", 0.95). Raises ValueError on anything else."""
    match = _GOAL.match(goal)
    if not match:
        raise ValueError(f"goal {goal!r} is not '<op> <number>' with op one of {', '.join(_OPS)}")
    return match.group(1), float(match.group(2))


def median_spread(samples: list[float]) -> tuple[float, float]:
    """(median, spread): spread is (max - min) / |median|, or max - min when the median is 0."""
    if not samples:
        raise ValueError("no samples")
    middle = statistics.median(samples)
    width = max(samples) - min(samples)
    return middle, width / abs(middle) if middle else width


def spread_of(samples: list[float]) -> float | None:
    """The relative spread of a check's value over rounds; None for a single round (nothing to spread)."""
    return median_spread(samples)[1] if len(samples) > 1 else None


class Check(BaseModel):
    """One measure against its goal; ``goal`` None makes it informational (no verdict), ``pending`` not judged yet."""

    measure: str
    ours: float | None = None
    anchor: float | None = None
    unit: str = Field(default="", description="unit of ours and anchor")
    value: float | None = Field(description="what the goal judges: ours / anchor, usually (median); None: not measured")
    value_unit: str = ""
    spread: float | None = Field(default=None, description="relative spread of the value over rounds")
    goal: str | None = None
    op: str | None = None
    target: float | None = None
    passed: bool | None = None
    pending: str | None = None  # why the goal cannot be judged yet (what it compares with is missing): no verdict

    @model_validator(mode="after")
    def _judge(self) -> Check:
        # Recomputed on every load: a record's verdict always follows from its value and goal (none while pending).
        self.op, self.target = parse_goal(self.goal) if self.goal is not None else (None, None)
        self.passed = None
        if self.op is not None and self.target is not None and self.pending is None:  # no value to judge: a miss
            self.passed = self.value is not None and _OPS[self.op](self.value, self.target)
        return self


class Stats(BaseModel):
    """Summary of one sample list."""

    n: int
    median: float
    min: float
    max: float
    spread: float

    @classmethod
    def of(cls, samples: list[float]) -> Stats:
        middle, spread = median_spread(samples)
        return cls(n=len(samples), median=middle, min=min(samples), max=max(samples), spread=spread)


class Machine(BaseModel):
    """Where a record was measured (a 2-core box under load and an idle one differ: read both facts)."""

    cores: int
    cpu_model: str
    mem_total_gib: float
    mem_available_gib: float
    gpu: str | None
    load_avg_1m: float
    python: str
    system: str


class BenchRecord(BaseModel):
    """One benchmark run: its checks, every raw sample, their summaries, parameters, machine and git state."""

    bench: str
    title: str
    quick: bool
    checks: list[Check] = []
    samples: dict[str, list[float]] = {}
    stats: dict[str, Stats] = {}
    params: dict[str, Any] = {}
    machine: Machine
    commit: str
    dirty: bool
    date: datetime
    skipped: str | None = None

    @model_validator(mode="after")
    def _summarize(self) -> BenchRecord:
        self.stats = {name: Stats.of(values) for name, values in self.samples.items() if values}
        return self

    @classmethod
    def create(cls, bench: str, title: str, quick: bool, checks: list[Check] | None = None,
               samples: dict[str, list[float]] | None = None, params: dict[str, Any] | None = None,
               skipped: str | None = None) -> BenchRecord:
        """A record of this machine and checkout, dated now (UTC, whole seconds: the file name's resolution)."""
        commit, dirty = git_commit()
        return cls(bench=bench, title=title, quick=quick, checks=checks or [], samples=samples or {},
                   params=params or {}, machine=machine_facts(), commit=commit, dirty=dirty,
                   date=datetime.now(UTC).replace(microsecond=0), skipped=skipped)

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.passed is False]

    @property
    def file_name(self) -> str:
        return f"{self.bench}-{self.date:%Y%m%dT%H%M%SZ}.json"


def _meminfo() -> dict[str, float]:
    """/proc/meminfo in GiB (Linux; empty elsewhere)."""
    try:
        lines = Path("/proc/meminfo").read_text().splitlines()
    except OSError:
        return {}
    return {k: float(v.split()[0]) / 2**20 for k, v in (line.split(":", 1) for line in lines if ":" in line)}


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def gpu_name() -> str | None:
    """The first NVIDIA GPU's name from nvidia-smi, or None (no driver, no GPU)."""
    if not shutil.which("nvidia-smi"):
        return None
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],  # noqa: S607
                             capture_output=True, text=True, timeout=20, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    names = [line.strip() for line in out.splitlines() if line.strip()]
    return names[0] if names else None


def machine_facts() -> Machine:
    mem = _meminfo()
    return Machine(cores=os.cpu_count() or 1, cpu_model=_cpu_model(), mem_total_gib=round(mem.get("MemTotal", 0), 1),
                   mem_available_gib=round(mem.get("MemAvailable", 0), 1), gpu=gpu_name(),
                   load_avg_1m=round(os.getloadavg()[0], 2), python=platform.python_version(),
                   system=platform.platform())


def git_commit() -> tuple[str, bool]:
    """(HEAD's full hash, whether the checkout differs from it). Records themselves do not count as changes."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True,  # noqa: S607
                              check=True).stdout

    try:
        commit = git("rev-parse", "HEAD").strip()
        changes = [line for line in git("status", "--porcelain").splitlines()
                   if not line[3:].startswith("bench/results/")]
    except (OSError, subprocess.CalledProcessError):
        return "unknown", True
    return commit, bool(changes)


def write_record(record: BenchRecord, folder: Path) -> Path:
    """Write ``<bench>-<YYYYmmddTHHMMSSZ>.json`` into ``folder``; returns its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / record.file_name
    path.write_text(record.model_dump_json(indent=2) + "\n")
    return path


def read_record(path: Path) -> BenchRecord:
    return BenchRecord.model_validate_json(path.read_text())


def latest_records(folder: Path) -> dict[str, tuple[Path, BenchRecord]]:
    """The newest record of each benchmark in ``folder`` with its path.

    A skipped record never hides an older measurement (a run without the vLLM server must not erase the last
    number measured with it); it is returned only when its benchmark has no measurement at all.
    """
    newest: dict[str, tuple[Path, BenchRecord]] = {}
    for path in sorted(folder.glob("*.json")):
        record = read_record(path)
        rank = (record.skipped is None, record.date, path.name)
        held = newest.get(record.bench)
        if held is None or rank > (held[1].skipped is None, held[1].date, held[0].name):
            newest[record.bench] = (path, record)
    return dict(sorted(newest.items()))


def bench_args(parser: argparse.ArgumentParser) -> None:
    """--quick and --out, the same in every benchmark."""
    parser.add_argument("--quick", action="store_true", help="CI-sized run (seconds); never writes into bench/results")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder for the record (default bench/results; with --quick a new temporary folder)")


def resolve_out(out: Path | None, quick: bool) -> Path:
    """Where the record goes. Quick records are smoke tests, not measurements: bench/results refuses them."""
    if not quick:
        return out or RESULTS
    if out is None:
        return Path(tempfile.mkdtemp(prefix="bench-quick-"))
    if out.resolve() == RESULTS.resolve():
        raise SystemExit("--quick never writes into bench/results: give --out another folder")
    return out


@contextmanager
def scratch_folder(prefix: str, keep: bool, what: str) -> Iterator[Path]:
    """A new temporary folder for one run, removed afterwards unless ``keep`` (then its path is printed)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield folder
    finally:
        if keep:
            print(f"{what} kept: {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


def fmt(value: float | None, unit: str = "") -> str:
    """A number for a table: thousands separators for large ones, 2-4 significant digits for small ones."""
    if value is None:
        return "—"
    if unit in {"x", "×"}:
        return f"{value:.2f}×"
    size = abs(value)
    if size >= 100 or value == int(value):
        text = f"{value:,.0f}"
    elif size >= 1:
        text = f"{value:.2f}"
    else:
        text = f"{value:.3g}" if size >= 0.001 else f"{value:.2e}"
    return f"{text} {unit}".strip()


def value_text(check: Check) -> str:
    """The value with its spread over rounds, as tables show it."""
    text = fmt(check.value, check.value_unit)
    return text if check.spread is None else f"{text} (spread {check.spread:.0%})"


def verdict(record: BenchRecord, check: Check | None) -> str:
    if record.skipped is not None:
        return f"skipped: {record.skipped}"
    if check is None or check.passed is None:
        return f"pending: {check.pending}" if check is not None and check.goal and check.pending else "info"
    return "pass" if check.passed else "FAIL"


def finish(record: BenchRecord, out: Path | None) -> Path:
    """Write the record where ``--out``/``--quick`` say and print its checks (the verdict's exit code is run.py's)."""
    path = write_record(record, resolve_out(out, record.quick))
    if record.skipped:
        print(f"{record.bench}: skipped: {record.skipped}")
    for check in record.checks:
        print(f"{record.bench}: {check.measure}: ours {fmt(check.ours, check.unit)}, anchor "
              f"{fmt(check.anchor, check.unit)}, value {value_text(check)} "
              f"(goal {check.goal or '—'}): {verdict(record, check)}")
    print(f"record: {path}")
    return path
