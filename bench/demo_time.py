"""P6: `make demo` wall time after install, per stage, on a fresh state folder. Goal: the whole demo in 15 min.

The demo runs as `make demo` runs it (``boostqa_dev.demo.run_demo`` with the CLI's defaults) against a new, empty
state folder: the stack starts from nothing (SeaweedFS, a migrated Airflow home, the vLLM server), every DAG runs
through Airflow, and the summary is printed. Only the converted model is reused from the checkout's model cache:
converting it is part of the install (`make install`), not of the demo. The stack is stopped afterwards and the
state folder removed (``--keep`` keeps it). Stop a running dev stack first: the demo uses the default ports.

    .venv/bin/python bench/demo_time.py                         # the full demo -> bench/results/
    .venv/bin/python bench/demo_time.py --quick --out /tmp/b    # a small demo (fewer seeds and jobs): minutes
"""

from __future__ import annotations

import argparse
import inspect
import os
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.record import BenchRecord, Check, bench_args, finish, scratch_folder  # noqa: E402

GOAL_MINUTES = 15
QUICK = {"annotate_limit": 16, "synthesis_limit": 8}


def cli_sizes() -> dict[str, int]:
    """The sizes `make demo` runs: the defaults of the `boostqa demo` command."""
    from boostqa_dev.cli import demo

    parameters = inspect.signature(demo).parameters
    return {name: int(parameters[name].default) for name in ("annotate_limit", "synthesis_limit")}


def demo_record(timings: dict[str, float], total_s: float, quick: bool, params: dict[str, object]) -> BenchRecord:
    """The record of one demo: the total against the goal, each stage's seconds as an informational check."""
    checks = [Check(measure="make demo wall time after install (stack start to summary)", ours=total_s / 60,
                    unit="min", value=total_s / 60, value_unit="min", goal=f"<= {GOAL_MINUTES}")]
    checks += [Check(measure=f"stage {stage}", ours=seconds / 60, unit="min", value=seconds / 60, value_unit="min")
               for stage, seconds in timings.items()]
    return BenchRecord.create(
        bench="demo_time", title="make demo on a fresh state folder, per stage", quick=quick, checks=checks,
        samples={"total_seconds": [total_s]} | {f"{stage}_seconds": [s] for stage, s in timings.items()},
        params=params)


def run(state_dir: Path, quick: bool) -> BenchRecord:
    """Run the demo on ``state_dir`` with the checkout's model cache; stop its stack whatever happens."""
    from rich.console import Console

    from boostqa.settings import get_settings
    from boostqa_dev.checkout import use_checkout_defaults
    from boostqa_dev.demo import run_demo
    from boostqa_dev.stack import manager
    from boostqa_dev.stack.llm_server import model_dir

    use_checkout_defaults()  # as `boostqa demo` does: the checkout's dbt project, venvs and model cache
    models = model_dir(get_settings())
    os.environ["BOOSTQA_STATE_DIR"] = str(state_dir)  # the DAG runs read settings from the environment
    os.environ["BOOSTQA_LLM_SERVER__MODELS_DIR"] = str(models)
    get_settings.cache_clear()
    settings = get_settings()
    sizes = QUICK if quick else cli_sizes()
    timings: dict[str, float] = {}
    started = time.monotonic()
    try:
        run_demo(settings, date.today(), Console(), sizes["annotate_limit"], sizes["synthesis_limit"],
                 timings=timings)
        total = time.monotonic() - started
    finally:
        manager.down(settings)
    return demo_record(timings, total, quick, sizes | {"state_dir": "fresh", "model_cache": str(models)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    bench_args(parser)
    parser.add_argument("--keep", action="store_true", help="keep the demo's state folder (its path is printed)")
    args = parser.parse_args()
    with scratch_folder("bench-demo-", args.keep, "state folder") as state_dir:
        record = run(state_dir, args.quick)
    finish(record, args.out)


if __name__ == "__main__":
    main()
