"""P7: `make test` wall time on a fresh clone, the install timed apart. Goal: the suite in 20 min on 2 cores.

Clones this checkout's HEAD (committed work only: a dirty checkout is measured at HEAD, and the record says so)
into a temporary folder and runs there what CI runs (`.ci/run` is `make test`): `make install` first, timed for
information (the venvs from the package caches, the model conversion, the dbt parse), then `make test`, timed
against the goal. The pytest summary line, the worker count and the slowest tests are kept in the record; a
failed suite fails the record. The clone is removed afterwards (``--keep`` keeps it).

    .venv/bin/python bench/test_time.py                          # fresh clone, install + make test -> bench/results/
    .venv/bin/python bench/test_time.py --quick --out /tmp/b     # in this checkout, one fast module: seconds
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from collections import deque
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.record import BenchRecord, Check, bench_args, finish, scratch_folder  # noqa: E402

GOAL_MINUTES = 20
CALLER_STATE = ("VIRTUAL_ENV", "BOOSTQA_", "PYTEST_", "AIRFLOW_", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
QUICK_PYTEST_ARGS = "-p no:cacheprovider tests/bench/test_record.py"  # `make test-fast` on one module
SUMMARY = re.compile(r"^=+ (?P<counts>.*\b(?:passed|failed|error|errors)\b.*) in (?P<seconds>[\d.]+)s")
SLOW = re.compile(r"^(?P<seconds>[\d.]+)s (?P<phase>setup|call|teardown) +(?P<test>\S+)")


def make(target: str, cwd: Path, pytest_args: str, env: dict[str, str]) -> tuple[float, int, list[str]]:
    """``make <target>`` in ``cwd`` with its output streamed through; (seconds, exit code, the output's lines)."""
    started = time.monotonic()
    lines: deque[str] = deque(maxlen=20_000)
    with subprocess.Popen(["make", target, f"PYTEST_ARGS={pytest_args}"], cwd=cwd, env=env, text=True,  # noqa: S607
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, bufsize=1) as process:
        assert process.stdout is not None
        for line in process.stdout:
            print(line, end="", flush=True)
            lines.append(line.rstrip("\n"))
    return time.monotonic() - started, process.returncode, list(lines)


def suite_facts(lines: list[str]) -> dict[str, object]:
    """pytest's summary (counts, its own seconds), the worker count and the ten slowest test phases."""
    facts: dict[str, object] = {"summary": None, "pytest_seconds": None, "workers": None, "slowest": []}
    for line in lines:
        if match := SUMMARY.match(line):
            facts["summary"], facts["pytest_seconds"] = match["counts"], float(match["seconds"])
        if match := re.search(r"created: (\d+)/\d+ workers", line):
            facts["workers"] = int(match.group(1))
    slow = [m for m in map(SLOW.match, lines) if m]
    facts["slowest"] = [f"{float(m['seconds']):.0f}s {m['phase']} {m['test']}"
                        for m in sorted(slow, key=lambda m: -float(m["seconds"]))[:10]]
    return facts


def measure(workdir: Path, quick: bool) -> BenchRecord:
    # as a fresh shell would start it (no venv, settings or pytest state of a caller, e.g. the suite's smoke test)
    env = {k: v for k, v in os.environ.items() if not k.startswith(CALLER_STATE)}
    if quick:
        checkout, install_s = ROOT, None
    else:
        checkout = workdir / "boostqa"
        subprocess.run(["git", "clone", "--quiet", str(ROOT), str(checkout)], check=True)  # noqa: S603,S607
        install_s, code, _ = make("install", checkout, "", env)
        if code != 0:
            raise SystemExit(f"`make install` failed in the fresh clone (exit {code})")
    target = "test-fast" if quick else "test"
    args = QUICK_PYTEST_ARGS if quick else "-p no:cacheprovider --durations=10"
    test_s, code, lines = make(target, checkout, args, env)
    facts = suite_facts(lines)
    checks = [Check(measure=f"make {target} wall time (install done)", ours=test_s / 60, unit="min",
                    value=test_s / 60, value_unit="min", goal=None if quick else f"<= {GOAL_MINUTES}"),
              Check(measure="suite exit code (0: every test passed)", ours=code, value=code, value_unit="",
                    goal="== 0")]
    if install_s is not None:
        checks.append(Check(measure="make install on the fresh clone (package caches warm)", ours=install_s / 60,
                            unit="min", value=install_s / 60, value_unit="min"))
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=checkout, capture_output=True, text=True,  # noqa: S607
                          check=True).stdout.strip()
    return BenchRecord.create(
        bench="test_time", title=f"make {target} on {'this checkout' if quick else 'a fresh clone'}", quick=quick,
        checks=checks, samples={"test_seconds": [test_s]} | ({"install_seconds": [install_s]} if install_s else {}),
        params={"target": target, "pytest_args": args, "clone_head": head, **facts})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    bench_args(parser)
    parser.add_argument("--keep", action="store_true", help="keep the fresh clone (its path is printed)")
    args = parser.parse_args()
    with scratch_folder("bench-test-time-", args.keep, "clone") as workdir:
        record = measure(workdir, args.quick)
    finish(record, args.out)


if __name__ == "__main__":
    main()
