"""The fault matrix's outage and concurrency rows: SeaweedFS stopped mid-write, and two runs of one unit at once.

- SeaweedFS is stopped as an ingest's first part lands and started again a few seconds later. The worker either
  rides the outage out on its retries or fails (then it is rerun, as Airflow's retry would); either way the
  partition must end with every row once, and nothing half-written may be read meanwhile.
- Two workers ingest the same source and date at once, and two QC the same run at once (a double-triggered DAG run,
  or a retry racing a zombie): the writes are deterministic and the marker comes last, so the lake must end with
  every job once and a manifest whose checksums match its parts.
"""

from __future__ import annotations

import time
from pathlib import Path

from bench.faults_kill import DAY, qc_outcome, row_store, run_worker, seed_file_source, start_worker, worker_spec
from bench.qc_corpus import CorpusGenerator
from boostqa.errors import LakeError
from boostqa.ingest.committed import committed_seed_parts, read_committed_seeds
from boostqa.lake import layout
from boostqa.lake.store import ObjectStore
from boostqa.qc.config import QcRunConfig
from boostqa.settings import BoostqaSettings
from boostqa_dev.faults.rows import FaultRow, outcome_counts
from boostqa_dev.stack import seaweedfs
from boostqa_dev.stack.process import stop

OUTAGE_S = 6.0


def _seeds_once(store: ObjectStore, rows: int) -> tuple[int, dict[str, int], int, int, bool]:
    """The row's counts over the committed seeds, and whether every part matched its manifest's sha256."""
    try:
        seeds = read_committed_seeds(store, ["source_row_id"])
    except LakeError:  # a part differs from the checksum its manifest recorded
        return 0, {}, rows, 0, False
    ids = seeds["source_row_id"].to_pylist() if seeds is not None else []
    return *outcome_counts([f"k{i:07d}" for i in range(rows)], ids, []), True


def outage_row(settings: BoostqaSettings, folder: Path, rows: int = 60_000) -> FaultRow:
    """Stop the store under a running ingest, start it again, rerun if the worker gave up."""
    store = row_store(seaweedfs.lake_config(settings), "outage")
    source = seed_file_source(folder, rows)
    spec = worker_spec(store, stage="ingest", source=source.model_dump(mode="json"), day=DAY.isoformat(),
                 rows_per_part=max(rows // 6, 1))
    prefix = layout.raw_seed_prefix(source.name, DAY)
    started = time.monotonic()
    log = folder / "outage_ingest.log"
    with log.open("ab") as out:
        worker = start_worker(spec, out)
        while worker.poll() is None and not any(k.endswith(".parquet") for k in store.list_keys(prefix)):
            time.sleep(0.05)
        stopped = worker.poll() is None
        stop(seaweedfs.service(settings))
        time.sleep(OUTAGE_S)
        seaweedfs.up(settings)
        survived = worker.wait(timeout=600) == 0
    invisible = True
    if not survived:  # the task failed after its retries: nothing of the partition may be visible before its rerun
        invisible = not [p for p in committed_seed_parts(store) if p.key.startswith(prefix)]
        run_worker(spec, None, 0, log)
    done, reasons, lost, duplicated, matched = _seeds_once(store, rows)
    return FaultRow(fault="SeaweedFS stopped mid-write", injected=int(stopped), jobs=rows, completed=done,
                    quarantined=reasons, lost=lost, duplicated=duplicated, wall_s=round(time.monotonic() - started, 1),
                    message=f"the worker {'rode out' if survived else 'failed on'} a {OUTAGE_S:.0f} s outage"
                    + ("" if survived else " and its rerun finished"),
                    checks={"stopped while the worker wrote": stopped, "half partition invisible": invisible,
                            "manifest matches its parts": matched})


def _together(spec: str, log: Path) -> list[int]:
    """Start two workers on the same spec at once; their exit codes."""
    with log.open("ab") as out:
        workers = [start_worker(spec, out) for _ in range(2)]
        return [worker.wait(timeout=900) for worker in workers]


def concurrent_ingest_row(settings: BoostqaSettings, folder: Path, rows: int = 60_000) -> FaultRow:
    """Two ingests of one source and date at once."""
    store = row_store(seaweedfs.lake_config(settings), "twice-ingest")
    source = seed_file_source(folder, rows)
    spec = worker_spec(store, stage="ingest", source=source.model_dump(mode="json"), day=DAY.isoformat(),
                 rows_per_part=max(rows // 6, 1))
    started = time.monotonic()
    codes = _together(spec, folder / "twice_ingest.log")
    if any(codes):  # the loser of a race may fail (its manifest deleted under it): Airflow's retry reruns it
        run_worker(spec, None, 0, folder / "twice_ingest.log")
    done, reasons, lost, duplicated, matched = _seeds_once(store, rows)
    return FaultRow(fault="two ingests of one partition at once", injected=2, jobs=rows, completed=done,
                    quarantined=reasons, lost=lost, duplicated=duplicated, wall_s=round(time.monotonic() - started, 1),
                    message=f"worker exit codes {codes}", checks={"manifest matches its parts": matched})


def concurrent_qc_row(settings: BoostqaSettings, folder: Path, items: int = 30_000, seed: int = 1) -> FaultRow:
    """Two QC workers on one run at once: one set of decisions, as the planted truth says."""
    store = row_store(seaweedfs.lake_config(settings), "twice-qc")
    run_id = "synthesize_faults_twice"
    truth = CorpusGenerator(QcRunConfig.model_validate({}).qc_config(), seed=seed).write_run(store, run_id, items, "k-")
    spec = worker_spec(store, stage="qc", run_id=run_id)
    started = time.monotonic()
    codes = _together(spec, folder / "twice_qc.log")
    if any(codes):
        run_worker(spec, None, 0, folder / "twice_qc.log")
    done, reasons, lost, duplicated, truth_met = qc_outcome(store, truth, items)
    return FaultRow(fault="two QC runs of one run at once", injected=2, jobs=items, completed=done,
                    quarantined=reasons, lost=lost, duplicated=duplicated, expect_reasons=sorted(reasons),
                    wall_s=round(time.monotonic() - started, 1), message=f"worker exit codes {codes}",
                    checks={"decisions match the planted truth": truth_met})
