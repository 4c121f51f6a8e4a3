"""The SIGKILL rows of the fault matrix: a stage's worker killed mid-task on the real lake, then the task rerun.

The worker (``boostqa_dev.faults.worker``) runs the stage's library call as the Airflow task does. It is killed as
soon as its first output part lands (before its commit marker), or at a deadline if it never writes one. Then:
readers must see nothing of the unfinished unit, and a rerun must end every job exactly once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import IO

import numpy as np
import pyarrow.compute as pc

from bench.qc_corpus import CorpusGenerator, Truth
from boostqa.ingest.committed import committed_seed_parts
from boostqa.ingest.config import SourceConfig
from boostqa.lake import layout
from boostqa.lake.commits import read_committed_qc
from boostqa.lake.read import read_object, read_prefix
from boostqa.lake.store import LakeConfig, ObjectStore
from boostqa.qc.config import QcRunConfig
from boostqa_dev.faults.rows import FaultRow, outcome_counts

DAY = date(2026, 1, 3)
ROOT = Path(__file__).resolve().parent.parent


def row_store(config: LakeConfig, name: str) -> ObjectStore:
    """An empty bucket of its own for one row."""
    store = ObjectStore(config.model_copy(update={"bucket": f"faults-{name}"}))
    store.ensure_bucket()
    store.delete_keys(store.list_keys(""))
    return store


def worker_spec(store: ObjectStore, **spec: object) -> str:
    """The worker's JSON spec: the stage's fields and the lake to use (its secret included: sent on stdin only)."""
    lake = store.config.model_dump() | {"secret_key": store.config.secret_key.get_secret_value()}
    return json.dumps({"lake": lake, **spec}, default=str)


def start_worker(spec: str, out: IO[bytes], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """Start the worker process with ``spec`` on its stdin (output to ``out``)."""
    worker = subprocess.Popen([sys.executable, "-m", "boostqa_dev.faults.worker"], stdin=subprocess.PIPE,  # noqa: S603
                              stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env=os.environ | (env or {}))
    assert worker.stdin is not None
    worker.stdin.write(spec.encode())
    worker.stdin.close()
    return worker


def run_worker(spec: str, kill_when: Callable[[], bool] | None, deadline_s: float, log: Path,
               env: dict[str, str] | None = None) -> tuple[bool, float]:
    """Run the worker; with ``kill_when``, SIGKILL it once that holds (or at the deadline). (killed, seconds)."""
    started = time.monotonic()
    with log.open("ab") as out:
        worker = start_worker(spec, out, env)
        while worker.poll() is None:
            if kill_when is not None and (kill_when() or time.monotonic() - started > deadline_s):
                worker.send_signal(signal.SIGKILL)
                worker.wait()
                return True, time.monotonic() - started
            time.sleep(0.05)
    if worker.returncode != 0:
        raise RuntimeError(f"the worker failed (exit {worker.returncode}); see {log}")
    return False, time.monotonic() - started


def seed_file_source(folder: Path, rows: int) -> SourceConfig:
    """A JSONL seed source of ``rows`` valid rows (ids ``k<7 digits>``) and its config."""
    path = folder / "kill_seeds.jsonl"
    with path.open("w") as out:
        for i in range(rows):
            out.write(json.dumps({"id": f"k{i:07d}", "q": f"What is {i} plus {i % 97}?", "a": str(i + i % 97),
                                  "lang": "en"}) + "\n")
    return SourceConfig.model_validate({
        "name": "kill_ingest", "kind": "local", "location": str(path), "format": "jsonl",
        "mapping": {"source_row_id": "id", "question": "q", "answer": "a", "language": "lang"},
        "constants": {"license": "CC-BY-4.0"}})


def ingest_kill_row(config: LakeConfig, folder: Path, rows: int = 60_000) -> FaultRow:
    """Kill an ingest after its first part, before its manifest; readers see nothing; the rerun ingests every row."""
    store = row_store(config, "kill-ingest")
    source = seed_file_source(folder, rows)
    spec = worker_spec(store, stage="ingest", source=source.model_dump(mode="json"), day=DAY.isoformat(),
                 rows_per_part=max(rows // 6, 1))
    prefix = layout.raw_seed_prefix(source.name, DAY)
    started = time.monotonic()
    killed, _ = run_worker(spec, lambda: any(k.endswith(".parquet") for k in store.list_keys(prefix)), 300,
                           folder / "kill_ingest.log")
    invisible = not [p for p in committed_seed_parts(store) if p.key.startswith(prefix)]
    run_worker(spec, None, 0, folder / "kill_ingest.log")
    seeds = [read_object(store, p.key, ["source_row_id"]) for p in committed_seed_parts(store)]
    completed = [i for t in seeds for i in t["source_row_id"].to_pylist()]
    q_prefix = layout.quarantine_prefix("ingest", layout.ingest_run_id(DAY), source.name)
    rejects = read_prefix(store, q_prefix, ["source_row_id", "reason"])
    quarantined = list(zip(*(rejects[c].to_pylist() for c in ("source_row_id", "reason")), strict=True)) if (
        rejects is not None) else []
    done, reasons, lost, duplicated = outcome_counts([f"k{i:07d}" for i in range(rows)], completed, quarantined)
    return FaultRow(fault="SIGKILL ingest worker mid-write", injected=int(killed), jobs=rows, completed=done,
                    quarantined=reasons, lost=lost, duplicated=duplicated, expect_reasons=["duplicate_content"],
                    wall_s=round(time.monotonic() - started, 1),
                    checks={"killed before its manifest": killed, "half partition invisible to readers": invisible})


def annotate_kill_row(config: LakeConfig, upstream: str, model: str, folder: Path, seeds: int = 24) -> FaultRow:
    """Kill an annotate run once its first shard is committed, while the next is calling the server; the rerun
    (the same frozen run) skips the finished shard and ends every seed exactly once."""
    from boostqa.annotate.config import AnnotateRunConfig
    from boostqa.annotate.worklist import freeze_worklist, shard_seeds
    from boostqa.ingest.config import get_source
    from boostqa.ingest.runner import ingest_source
    from boostqa.lake.commits import read_committed_shards
    from boostqa.settings import RESOURCES

    store = row_store(config, "kill-annotate")
    ingest_source(get_source(RESOURCES / "seed_sources.yaml", "open_stem_qa"), DAY, store, decontaminator=None)
    run_id = "annotate_faults_kill"
    frozen = freeze_worklist(store, run_id, AnnotateRunConfig.model_validate({"limit": seeds,
                                                                             "shard_size": max(seeds // 4, 1)}))
    job_ids = [s.seed_id for shard in frozen.shard_ids() for s in shard_seeds(store, frozen, shard)]
    spec = worker_spec(store, stage="annotate", run_id=run_id, base_url=upstream, model=model,
                 cache=str(folder / "kill_annotate.sqlite"))
    prefix = layout.annotations_prefix(run_id)
    started = time.monotonic()
    killed, _ = run_worker(spec, lambda: any("_SUCCESS." in k for k in store.list_keys(prefix)), 600,
                           folder / "kill_annotate.log")
    done_before = sum("_SUCCESS." in k for k in store.list_keys(prefix))
    invisible = store.get_bytes_or_none(layout.annotation_run_marker(run_id)) is None
    run_worker(spec, None, 0, folder / "kill_annotate.log")
    labels = read_committed_shards(store, prefix, layout.ANNOTATIONS, ["item_id"])
    rejects = read_committed_shards(store, layout.stage_quarantine_prefix("annotate", run_id), layout.ANNOTATIONS,
                                    ["item_id", "reason"])
    done, reasons, lost, duplicated = outcome_counts(
        job_ids, labels["item_id"].to_pylist() if labels is not None else [],
        list(zip(rejects["item_id"].to_pylist(), rejects["reason"].to_pylist(), strict=True)) if rejects is not None
        else [])
    return FaultRow(fault="SIGKILL annotate worker mid-run", injected=int(killed), jobs=len(job_ids), completed=done,
                    quarantined=reasons, lost=lost, duplicated=duplicated, expect_reasons=["invalid_output"],
                    wall_s=round(time.monotonic() - started, 1),
                    checks={"killed with shards left": killed and done_before < len(frozen.shard_ids()),
                            "run not marked complete before its rerun": invisible})


def qc_outcome(store: ObjectStore, truth: Truth, items: int) -> tuple[int, dict[str, int], int, int, bool]:
    """A QC'd run of planted items (ids ``k-<9 digits>``): kept = completed, first removal reason = quarantined;
    and whether the removals are exactly the planted ones."""
    kept = read_committed_qc(store, "kept", ["item_id"])
    removals = read_committed_qc(store, "removals", ["item_id", "step", "rank", "reason"])
    if kept is None or removals is None:
        return 0, {}, items, 0, False
    first = removals.filter(pc.equal(removals["rank"], 1))
    scores = truth.score(removals.select(["item_id", "step", "rank"]))
    counts = outcome_counts([f"k-{i:09d}" for i in range(items)], kept["item_id"].to_pylist(),
                            list(zip(first["item_id"].to_pylist(), first["reason"].to_pylist(), strict=True)))
    return *counts, bool(np.all([v == 1.0 for v in scores.values()]))


def qc_kill_row(config: LakeConfig, folder: Path, items: int = 30_000, seed: int = 0) -> FaultRow:
    """Kill QC after its first output part, before its marker; readers see nothing; the rerun decides every item as
    a clean run would (the planted truth: recall and precision 1.0)."""
    store = row_store(config, "kill-qc")
    run_id = "synthesize_faults_kill"
    truth = CorpusGenerator(QcRunConfig.model_validate({}).qc_config(), seed=seed).write_run(store, run_id, items, "k-")
    spec = worker_spec(store, stage="qc", run_id=run_id)
    outputs = f"{layout.qc_table_prefix('removals')}run_id={run_id}/"
    started = time.monotonic()
    killed, _ = run_worker(spec, lambda: bool(store.list_keys(outputs)), 600, folder / "kill_qc.log")
    invisible = read_committed_qc(store, "kept", ["item_id"]) is None and store.get_bytes_or_none(
        layout.qc_marker(run_id)) is None
    run_worker(spec, None, 0, folder / "kill_qc.log")
    done, reasons, lost, duplicated, truth_met = qc_outcome(store, truth, items)
    return FaultRow(fault="SIGKILL QC worker mid-write", injected=int(killed), jobs=items, completed=done,
                    quarantined=reasons, lost=lost, duplicated=duplicated, expect_reasons=sorted(reasons),
                    wall_s=round(time.monotonic() - started, 1),
                    checks={"killed before its marker": killed, "half run invisible to readers": invisible,
                            "decisions match the planted truth": truth_met})
