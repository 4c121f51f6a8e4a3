"""`make faults`: the fault matrix, injected on the embedded stack, one table and one record (bench/results).

A private SeaweedFS (free ports, a random secret key of its own) and the embedded vLLM server are started; each row
gets an empty bucket. Rows:

- LLM faults through the fault proxy (boostqa_dev/faults/proxy.py) between the pipeline's OpenAI client and vLLM,
  one annotate run per kind: HTTP 500, 429 with Retry-After, timeouts, connection resets, malformed JSON, empty
  replies, finish_reason=length, HTTP 400 (context overflow), HTTP 401;
- SIGKILL of the ingest, annotate, synthesis, QC and export workers mid-task, and of every training process, then
  the rerun (bench/faults_kill.py, bench/faults_synthesis.py, bench/faults_export.py, bench/faults_training.py);
- the Ray cluster lost under a running QC job (bench/faults_ray.py);
- SeaweedFS stopped under a running ingest, two ingests of one partition at once, two QC runs of one run at once
  (bench/faults_outage.py);
- an S3 identity the store refuses (403);
- reads of the warehouse (summary, report, `ops sql`) while a writer holds its lock and publishes snapshots;
- 1,000 fuzzed seed rows over JSONL, CSV, JSON and parquet;
- a scan of everything the run wrote (logs, the lake's state folder, the record) for the secrets it was started
  with, and, when the checkout has run the demo, of its state folder and dbt artifacts.

Each row ends green when nothing was lost or duplicated and every job ended completed, quarantined with a reason,
or (for run-permanent faults) the run failed fast with an actionable message:

    .venv/bin/python bench/faults.py            # full size; the record goes to bench/results/faults-*.json
    .venv/bin/python bench/faults.py --quick    # small sizes (the suite's tests/integration/test_fault_matrix*.py
                                                # run each row so), no record kept
"""

from __future__ import annotations

import argparse
import secrets
import sys
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from bench.dbt_marts_lake import private_settings  # noqa: E402
from bench.faults_export import export_kill_row  # noqa: E402
from bench.faults_kill import annotate_kill_row, ingest_kill_row, qc_kill_row, row_store  # noqa: E402
from bench.faults_outage import concurrent_ingest_row, concurrent_qc_row, outage_row  # noqa: E402
from bench.faults_ray import ray_loss_row  # noqa: E402
from bench.faults_synthesis import synthesis_kill_row  # noqa: E402
from bench.faults_training import training_kill_row  # noqa: E402
from bench.llm_throughput import own_server  # noqa: E402
from bench.record import BenchRecord, Check, bench_args, finish, scratch_folder  # noqa: E402
from boostqa.settings import BoostqaSettings, get_settings  # noqa: E402
from boostqa_dev.checkout import use_checkout_defaults  # noqa: E402
from boostqa_dev.faults.denied import denied_row  # noqa: E402
from boostqa_dev.faults.fuzz_seeds import fuzz_row  # noqa: E402
from boostqa_dev.faults.llm_rows import llm_row  # noqa: E402
from boostqa_dev.faults.proxy import KINDS  # noqa: E402
from boostqa_dev.faults.rows import FaultRow  # noqa: E402
from boostqa_dev.faults.secrets import secret_row  # noqa: E402
from boostqa_dev.faults.warehouse_lock import lock_row  # noqa: E402
from boostqa_dev.stack import seaweedfs  # noqa: E402
from boostqa_dev.stack.process import stop  # noqa: E402

BENCH, TITLE = "faults", "The fault matrix on the embedded stack"
SIZES = {False: {"seeds": 16, "rate": 0.35, "fuzz": 1000, "ingest": 60_000, "qc": 30_000, "annotate": 24,
                "export": 20_000, "synthesis": 8,
                "training_steps": 16},
         True: {"seeds": 6, "rate": 0.5, "fuzz": 200, "ingest": 12_000, "qc": 10_000, "annotate": 8,
               "export": 5_000, "synthesis": 4,
               "training_steps": 12}}
NEEDS_LLM = ("llm_", "kill_annotate", "kill_synthesis")


def _rows(settings: BoostqaSettings, upstream: str, work: Path, quick: bool, only: list[str] | None
          ) -> list[FaultRow]:
    size = SIZES[quick]
    lake = seaweedfs.lake_config(settings)
    model = settings.llm_server.served_model_name
    tokenizer = Path(str(settings.llm_server.models_dir)) / model  # the embedded model's HF folder
    plan: list[tuple[str, Callable[[], FaultRow]]] = [
        *((f"llm_{kind}", lambda kind=kind: llm_row(lake, upstream, model, kind, size["seeds"], size["rate"], work))
          for kind in KINDS),
        ("kill_ingest", lambda: ingest_kill_row(lake, work, size["ingest"])),
        ("kill_annotate", lambda: annotate_kill_row(lake, upstream, model, work, size["annotate"])),
        ("kill_synthesis", lambda: synthesis_kill_row(lake, upstream, model, work, size["synthesis"])),
        ("kill_qc", lambda: qc_kill_row(lake, work, size["qc"])),
        ("kill_training", lambda: training_kill_row(work / "training", size["training_steps"])),
        ("ray_lost", lambda: ray_loss_row(work, size["qc"])),
        ("kill_export", lambda: export_kill_row(lake, tokenizer, work, size["export"])),
        ("outage", lambda: outage_row(settings, work, size["ingest"])),
        ("twice_ingest", lambda: concurrent_ingest_row(settings, work, size["ingest"])),
        ("twice_qc", lambda: concurrent_qc_row(settings, work, size["qc"])),
        ("s3_403", lambda: denied_row(row_store(lake, "denied"))),
        ("warehouse_lock", lambda: lock_row(work, 15.0 if not quick else 6.0)),
        ("fuzz", lambda: fuzz_row(row_store(lake, "fuzz"), work / "fuzz", size["fuzz"])),
    ]
    rows = []
    for name, run in plan:
        if only and name not in only:
            continue
        print(f"--- {name}", flush=True)
        rows.append(run())
        print(f"    {rows[-1].record()}", flush=True)
    return rows


def table(rows: list[FaultRow]) -> Table:
    """The one table `make faults` prints."""
    out = Table(title=TITLE)
    for column in ("fault", "injected", "jobs", "completed", "quarantined (reason)", "lost", "duplicated", "retries",
                   "verdict"):
        out.add_column(column, justify="left" if column in ("fault", "quarantined (reason)") else "right")
    for row in rows:
        reasons = ", ".join(f"{k} {v}" for k, v in row.quarantined.items()) or "—"
        end = "fail-fast" if row.fail_fast else ""
        failed = [name for name, ok in row.checks.items() if not ok]
        verdict = ("[green]green[/green]" if row.green else "[red]red[/red]") + (f" ({end})" if end else "") + (
            f" (failed: {'; '.join(failed)})" if failed else "")
        out.add_row(row.fault, str(row.injected), str(row.jobs), str(row.completed), reasons, str(row.lost),
                    str(row.duplicated), str(row.retries), verdict)
    return out


def measure(quick: bool, work: Path, only: list[str] | None) -> BenchRecord:
    """Start the private stack, run the rows, scan for secrets, and build the record."""
    checkout = get_settings()
    settings = private_settings(work / "state")
    settings = settings.model_copy(update={
        "lake": settings.lake.model_copy(update={"secret_key": f"faults-{secrets.token_hex(16)}"}),  # a canary
        "llm_server": checkout.llm_server.model_copy(update={  # the checkout's model, in a vLLM of our own
            "models_dir": checkout.llm_server.models_dir or checkout.state_dir / "models"})})
    needs_llm = not only or any(name.startswith(NEEDS_LLM) for name in only)
    try:
        print(f"SeaweedFS: {seaweedfs.up(settings)}", flush=True)
        with own_server(settings) if needs_llm else nullcontext("") as upstream:
            rows = _rows(settings, upstream, work, quick, only)
    finally:
        stop(seaweedfs.service(settings))
    rows.append(secret_row([work], [settings.lake.secret_key]))
    demo_state = ROOT / ".state" / "airflow"
    if not quick and (demo_state / "jwt_secret").exists():  # after `make demo`: its logs, XComs, reports, artifacts
        demo = BoostqaSettings()
        row = secret_row([ROOT / ".state", ROOT / "dbt_project" / "target"],
                         [demo.lake.secret_key, (demo_state / "jwt_secret").read_text().strip()])
        rows.append(row.model_copy(update={"fault": "secret scan after the demo (.state, dbt target)"}))
    Console(width=180).print(table(rows))
    checks = [Check(measure=f"{row.fault}: verdict (1 green, 0 red)", ours=float(row.green), value=float(row.green),
                    goal="== 1") for row in rows]
    return BenchRecord.create(bench=BENCH, title=TITLE, quick=quick, checks=checks,
                              params={"sizes": SIZES[quick], "rows": [row.record() for row in rows]})


def main() -> None:
    use_checkout_defaults()  # as `boostqa stack up` does: the checkout's vLLM venv and model
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    bench_args(parser)
    parser.add_argument("--only", action="append", help="run only these rows (e.g. llm_http_429, kill_qc)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs, worker output)")
    args = parser.parse_args()
    with scratch_folder("faults-", args.keep, "the work folder") as work:
        record = measure(args.quick, work, args.only)
    finish(record, args.out)
    if record.failed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
