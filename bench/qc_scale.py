"""P9: QC of one synthesis run as a Ray job at 100k, 1M or 10M items: time, items/s, peak RSS, recall and precision.

A private SeaweedFS and Ray head (free ports, stopped after) get one synthesis run of N synthetic QA items, streamed as
parts of 10,000 under qa/run_id=<run>/ (bench/qc_corpus.py: random-word questions, some multiple choice, with planted
near-duplicate families and exact copies, items copying n-grams of the local benchmark editions QC decontaminates
against, and items failing a filter; the ground truth is one number per item). QC is submitted as a Ray job through
RayJobs as Airflow's operator submits it (JobSpec stage "qc", params from QcRunConfig, distributed_min_items 0 so the
Ray path runs at every size). Measured: the job's wall time (submit -> SUCCEEDED), items/s, peak RSS of its
driver (`python -m boostqa.jobs`) and of every Ray worker (psutil over the head's process tree every 0.5 s), and the
recall and precision of its removals (read back from qc/removals) against the planted truth. Then, for information,
an incremental run of N/10 items, at most 100,000 (5% of them copies of the first run's items) is QC'd against the
first run's index, and the first run's kept items are exported as a mixture version by the export job on Ray Data
(the selection dbt would write, tokenized with the embedded model's tokenizer, packed, shards and manifest to the
lake; bench/qc_scale_export.py): its wall time, items and tokens/s, driver and worker peak RSS.
At 1M, datatrove's MinHash dedup (same shingles and bands, the same parts read from the same lake, on as many
processes as cores) is the throughput anchor. Goals: recall and precision >= 0.99 at every size; QC items/s >=
datatrove's at 1M; at 10M, per-item time <= 1.2x and driver peak RSS <= 1.5x those of the newest 100k record in
bench/results (pending while there is none). Each size is its own benchmark, so all stay in the records:

    .venv/bin/python bench/qc_scale.py                        # 100,000 items -> bench/results/qc_scale-*.json
    .venv/bin/python bench/qc_scale.py --items 1000000        # qc_scale_1m, with datatrove on the same items
    .venv/bin/python bench/qc_scale.py --items 10000000       # qc_scale_10m (hours; against the 100k record)
    .venv/bin/python bench/qc_scale.py --quick --out /tmp/b   # 5,000 items (and datatrove), no goals
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from loguru import logger  # noqa: E402

from bench.qc_corpus import PART_ROWS, CorpusGenerator, Truth  # noqa: E402
from bench.qc_scale_datatrove import DatatroveRun, datatrove_dedup  # noqa: E402 - datatrove imported before timers
from bench.qc_scale_export import export_spec, put_selection  # noqa: E402
from bench.qc_scale_jobs import JobRun, private_stack, qc_spec, run_job  # noqa: E402
from bench.record import RESULTS, BenchRecord, Check, bench_args, finish, latest_records, scratch_folder  # noqa: E402
from boostqa.jobs.cluster import RayJobs  # noqa: E402
from boostqa.lake import layout  # noqa: E402
from boostqa.lake.read import read_prefix  # noqa: E402
from boostqa.lake.store import ObjectStore  # noqa: E402
from boostqa.qc.config import QcRunConfig  # noqa: E402
from boostqa.settings import BoostqaSettings  # noqa: E402
from boostqa_dev.stack import seaweedfs  # noqa: E402

BASE, DATATROVE_AT, LINEAR_AT = 100_000, 1_000_000, 10_000_000
NAMES = {BASE: "qc_scale", DATATROVE_AT: "qc_scale_1m", LINEAR_AT: "qc_scale_10m"}
RUNS = {"qc": ("synthesize_20270101T060000Z_qcscale", "qs1-"),
        "qc_incremental": ("synthesize_20270102T060000Z_qcscale", "qs2-")}
EXPORT_VERSION = "mixture_20270101T070000Z_qcscale"  # the export phase's version: the first run's kept items
INCREMENTAL_MAX = 100_000
CROSS_SHARE = 0.05  # of the incremental run's items: copies of the first run's (its index must catch them)


def incremental_items(items: int) -> int:
    """The incremental run's size: a tenth of the first run's, at most 100,000 (its cost against a 9M-item index is
    what 10M adds to the curve, not another million items' QC)."""
    return max(min(items // 10, INCREMENTAL_MAX), 1)


def bench_name(items: int, quick: bool) -> str:
    """The record's benchmark: one per size, so the 100k baseline and the larger runs all stay in the records."""
    return "qc_scale" if quick else NAMES.get(items, f"qc_scale_{items}")


def measure(items: int, seed: int, quick: bool, workdir: Path) -> BenchRecord:
    run_config = QcRunConfig(distributed_min_items=0)  # the Ray path at every size, the quick one included
    config = run_config.qc_config()
    generator = CorpusGenerator(config, seed)
    samples: dict[str, list[float]] = {}
    runs: dict[str, JobRun] = {}
    planted: dict[str, dict[str, int]] = {}
    anchor: DatatroveRun | str | None = None
    with private_stack(workdir / "state") as (settings, head):
        lake = seaweedfs.lake_config(settings)
        store, jobs = ObjectStore(lake), RayJobs(settings.ray_address)
        truths: dict[str, Truth] = {}
        # Each phase is one stage job, measured alike (run_job: wall time, RSS, result, driver log; JobRun.samples
        # and .params key the record by phase) and checked alike (job_checks); the export phase follows the two QC
        # runs, over the first run's kept items.
        for phase, n, cross in (("qc", items, 0.0), ("qc_incremental", incremental_items(items), CROSS_SHARE)):
            run_id, prefix = RUNS[phase]
            started = time.perf_counter()
            truths[phase] = generator.write_run(store, run_id, n, prefix, cross)
            samples[f"{phase}_generate_seconds"] = [time.perf_counter() - started]
            print(f"{phase}: wrote {n:,} items in {samples[f'{phase}_generate_seconds'][0]:.1f} s, planted "
                  f"{truths[phase].counts()}", flush=True)
            runs[phase] = run_job(jobs, qc_spec(lake, run_id, run_config), head, phase, n)
            removals = read_prefix(store, f"{layout.qc_table_prefix('removals')}run_id={run_id}/",
                                   ["item_id", "step", "rank"])
            scores = truths[phase].score(removals)
            samples |= runs[phase].samples() | {f"{phase}_{k}": [v] for k, v in scores.items()}
            planted[phase] = truths[phase].counts()
            print(f"{phase}: {', '.join(f'{k} {v:.4f}' for k, v in scores.items())}", flush=True)
        export = _export(store, jobs, head, target_tokenizer(settings), samples)
        if isinstance(export, JobRun):
            runs["export"] = export
        if items == DATATROVE_AT or quick:
            anchor = _datatrove(store, RUNS["qc"][0], run_config, truths["qc"], samples)
    baseline = None if quick or items == BASE else latest_records(RESULTS).get(NAMES[BASE])
    params: dict[str, Any] = {
        "items": items, "seed": seed, "part_rows": PART_ROWS, "cores": os.cpu_count(), "cross_share": CROSS_SHARE,
        "qc_params": run_config.model_dump(mode="json"), "planted": planted,
        "phases": {phase: run.params() for phase, run in runs.items()},
        "export": None if isinstance(export, JobRun) else export,
        "datatrove": (anchor if isinstance(anchor, str) else {"workers": anchor.workers} if anchor else None),
        "baseline": baseline[0].name if baseline else None}
    checks = [*job_checks(runs["qc"]), *qc_checks(runs["qc"], samples, planted["qc"], goals=not quick),
              *job_checks(runs["qc_incremental"]),
              *qc_checks(runs["qc_incremental"], samples, planted["qc_incremental"], goals=False),
              *export_checks(runs.get("export"), export if isinstance(export, str) else ""),
              *anchor_checks(items, runs["qc"], anchor, samples, quick),
              *scale_checks(items, runs["qc"], baseline[1] if baseline else None, quick)]
    return BenchRecord.create(
        bench=bench_name(items, quick), quick=quick, checks=checks, samples=samples, params=params,
        title=f"QC as a Ray job, {items:,} items (then {incremental_items(items):,} incremental), and their export, "
              f"on {os.cpu_count()} cores")


def target_tokenizer(settings: BoostqaSettings) -> Path:
    """The embedded model's HF folder in this checkout's state (the private stack's state folder has none)."""
    state = Path(os.environ.get("BOOSTQA_STATE_DIR") or ROOT / ".state")
    return (settings.llm_server.models_dir or state / "models") / settings.llm_server.served_model_name


def _export(store: ObjectStore, jobs: RayJobs, head: int, tokenizer: Path,
            samples: dict[str, list[float]]) -> JobRun | str:
    """The export phase: the first run's kept items as a selection, exported by the Ray Data job with the embedded
    model's tokenizer; a reason instead when that model is not there (``boostqa stack up`` makes it)."""
    if not (tokenizer / "tokenizer.json").is_file():
        print(f"export: skipped, no tokenizer at {tokenizer}", flush=True)
        return f"no tokenizer at {tokenizer}: run `boostqa stack up` (or make demo) once"
    started = time.perf_counter()
    selected = put_selection(store, RUNS["qc"][0], EXPORT_VERSION)
    samples["export_selection_seconds"] = [time.perf_counter() - started]
    print(f"export: selection of {selected:,} kept items written in {samples['export_selection_seconds'][0]:.1f} s",
          flush=True)
    run = run_job(jobs, export_spec(store, EXPORT_VERSION, tokenizer), head, "export", selected)
    samples |= run.samples()
    if tokens := run.result.get("tokens"):
        samples["export_tokens_per_s"] = [tokens / run.seconds]
    return run


def export_checks(run: JobRun | None, reason: str) -> list[Check]:
    """The export job's time and memory, and every selected sample in its shards (information: no goal is set)."""
    if run is None:
        return [Check(measure="export: the Ray Data job over the kept items", ours=None, value=None, pending=reason)]
    return [*job_checks(run),
            Check(measure="export: tokens/s (the target tokenizer, counted and written: two passes)",
                  ours=run.result.get("tokens", 0) / run.seconds, unit="tokens/s",
                  value=run.result.get("tokens", 0) / run.seconds, value_unit="tokens/s"),
            Check(measure="export: samples in the shards minus samples selected", ours=run.result.get("samples"),
                  anchor=run.items, value=abs(run.result.get("samples", -1) - run.items), value_unit="samples",
                  goal="== 0")]


def _datatrove(store: ObjectStore, run_id: str, run_config: QcRunConfig, truth: Truth,
               samples: dict[str, list[float]]) -> DatatroveRun | str:
    """datatrove's run on the first run's items and its samples; a failure is a reason (its goal stays pending)."""
    try:
        run = datatrove_dedup(store, run_id, run_config.qc_config().minhash, os.cpu_count() or 1)
    except Exception as exc:  # noqa: BLE001 - the anchor failing must not lose the QC measurement
        print(f"datatrove failed: {exc!r}", flush=True)
        return f"datatrove failed: {exc!r}"[:300]
    where = truth.positions(run.removed)
    normal = where[truth.kind[where] == 0]  # filter failures and contaminated items are QC's other steps' work
    right, should, removed = truth.dedup_score(normal)
    items = len(truth.kind)
    samples |= {"datatrove_seconds": [run.seconds], "datatrove_items_per_s": [items / run.seconds],
                "datatrove_recall": [right / max(should, 1)], "datatrove_precision": [right / max(removed, 1)]}
    print(f"datatrove: {items:,} items in {run.seconds:.1f} s ({items / run.seconds:,.0f} items/s) on {run.workers} "
          f"processes; recall {right / max(should, 1):.4f}, precision {right / max(removed, 1):.4f}", flush=True)
    return run


def job_checks(run: JobRun) -> list[Check]:
    """Any stage job's wall time, throughput and peak memory, for information (what run_job measures)."""
    p, n, workers = run.phase, run.items, run.peaks.worker_peaks()
    return [
        Check(measure=f"{p}: job wall time, submit to SUCCEEDED, {n:,} items", ours=run.seconds, unit="s",
              value=run.seconds, value_unit="s"),
        Check(measure=f"{p}: items/s", ours=n / run.seconds, unit="items/s", value=n / run.seconds,
              value_unit="items/s"),
        Check(measure=f"{p}: driver peak RSS (python -m boostqa.jobs)", ours=run.peaks.driver_mib, unit="MiB",
              value=run.peaks.driver_mib, value_unit="MiB"),
        Check(measure=f"{p}: Ray worker peak RSS, the largest of {len(workers)} workers", ours=max(workers, default=0),
              unit="MiB", value=max(workers, default=0), value_unit="MiB"),
    ]


def qc_checks(run: JobRun, samples: dict[str, list[float]], planted: dict[str, int], goals: bool) -> list[Check]:
    """A QC job's removals against the planted truth (goals unless ``goals`` is off) and its item count."""
    p, n, result = run.phase, run.items, run.result
    quality = ">= 0.99" if goals else None
    return [
        *(Check(measure=f"{p}: {what} vs planted truth ({scope})", ours=samples[f"{p}_{key}"][0],
                value=samples[f"{p}_{key}"][0], goal=quality) for what, scope, key in (
            ("recall", "exact and near duplicates", "dedup_recall"),
            ("precision", "exact and near duplicates", "dedup_precision"),
            ("recall", "every removal: filters, contamination, duplicates", "all_recall"),
            ("precision", "every removal: filters, contamination, duplicates", "all_precision"))),
        Check(measure=f"{p}: items QC counted and kept + removed, minus items planted (both)", ours=result.get("items"),
              anchor=planted["items"], value=abs(result.get("items", -1) - n) + abs(
                  result.get("kept", 0) + result.get("removed", 0) - n), value_unit="items", goal="== 0"),
    ]


def anchor_checks(items: int, qc: JobRun, anchor: DatatroveRun | str | None, samples: dict[str, list[float]],
                  quick: bool) -> list[Check]:
    """QC's items/s against datatrove's MinHash dedup of the same items on the same cores (the goal at 1M)."""
    if anchor is None:
        return []
    goal = None if quick else ">= 1.0"
    measure = "items/s, the QC job (every step, lake to lake) / datatrove MinHash dedup, same items and cores"
    if isinstance(anchor, str):
        return [Check(measure=measure, ours=qc.items / qc.seconds, unit="items/s", value=None, goal=goal,
                      pending=anchor)]
    theirs = samples["datatrove_items_per_s"][0]
    return [Check(measure=measure, ours=qc.items / qc.seconds, anchor=theirs, unit="items/s",
                  value=qc.items / qc.seconds / theirs, value_unit="x", goal=goal),
            *(Check(measure=f"{what} vs planted duplicates: QC (ours), datatrove (anchor, the value)",
                    ours=samples[f"qc_dedup_{what}"][0], anchor=samples[f"datatrove_{what}"][0],
                    value=samples[f"datatrove_{what}"][0])
              for what in ("recall", "precision"))]


def scale_checks(items: int, qc: JobRun, baseline: BenchRecord | None, quick: bool) -> list[Check]:
    """Per-item time and driver memory against the newest 100k record: goals at 10M, information at other sizes."""
    if quick or items == BASE:
        return []
    judged = items == LINEAR_AT
    pending = None if baseline else f"no {NAMES[BASE]} record in bench/results: run bench/qc_scale.py first"
    if not judged and baseline is None:
        return []
    per_item = qc.seconds / items
    base_per_item = base_driver = None
    if baseline is not None:
        base_per_item = baseline.samples["qc_seconds"][0] / baseline.params["items"]
        base_driver = baseline.samples["qc_driver_peak_mib"][0]
    return [
        Check(measure=f"per-item time at {items:,} / at {BASE:,} items (newest {NAMES[BASE]} record)",
              ours=per_item * 1e6, anchor=base_per_item and base_per_item * 1e6, unit="µs/item",
              value=base_per_item and per_item / base_per_item, value_unit="x", goal="<= 1.2" if judged else None,
              pending=pending),
        Check(measure=f"driver peak RSS at {items:,} / at {BASE:,} items (newest {NAMES[BASE]} record)",
              ours=qc.peaks.driver_mib, anchor=base_driver, unit="MiB",
              value=base_driver and qc.peaks.driver_mib / base_driver, value_unit="x",
              goal="<= 1.5" if judged else None, pending=pending),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    bench_args(parser)
    parser.add_argument("--items", type=int, default=None, help="default 100,000 (quick: 5,000); 1M and 10M are "
                        "the issue's other sizes, each its own record")
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    logger.remove()  # datatrove logs at INFO through loguru and logging; keep the output readable
    logging.getLogger("datatrove").setLevel(logging.WARNING)
    items = args.items or (5_000 if args.quick else BASE)
    with scratch_folder("bench-qc-", keep=False, what="state") as workdir:
        record = measure(items, args.seed, args.quick, workdir)
    finish(record, args.out)


if __name__ == "__main__":
    main()
