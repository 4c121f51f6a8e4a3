"""The Ray row: the cluster lost in the middle of a QC job, then started again and the job resubmitted.

A private SeaweedFS and Ray head (as P9 starts them) get a synthesis run of planted items; its QC job is submitted
through ``RayJobs`` as the operator submits it. Once the job runs, the head (and every worker with it) is stopped. The
operator's next look must be an ``EngineError`` (worth a retry: the cluster cannot be reached or lost the job), the
lake must hold no QC decision for the run, and the retry, a new submission on the restarted cluster, must decide
every item once, as the planted truth says.
"""

from __future__ import annotations

import time
from pathlib import Path

from bench.faults_kill import qc_outcome, row_store
from bench.qc_corpus import CorpusGenerator
from bench.qc_scale_jobs import private_stack, qc_spec
from boostqa.errors import EngineError
from boostqa.jobs.cluster import RayJobs
from boostqa.lake import layout
from boostqa.qc.config import QcRunConfig
from boostqa_dev.faults.rows import FaultRow
from boostqa_dev.stack import ray_cluster, seaweedfs
from boostqa_dev.stack.process import stop


def ray_loss_row(folder: Path, items: int = 20_000) -> FaultRow:
    """Stop the Ray head under a running QC job; the retry on the restarted cluster decides every item once."""
    run_id = "synthesize_faults_ray"
    config = QcRunConfig.model_validate({"distributed_min_items": 0})
    with private_stack(folder / "ray_state") as (settings, _):
        store = row_store(seaweedfs.lake_config(settings), "ray-lost")
        truth = CorpusGenerator(config.qc_config(), seed=3).write_run(store, run_id, items, "k-")
        jobs, spec = RayJobs(settings.ray_address), qc_spec(store.config, run_id, config)
        started = time.monotonic()
        jobs.submit(spec, spec.submission_id("faults-try1"))
        while jobs.state(spec.submission_id("faults-try1")).status != "RUNNING":
            time.sleep(0.05)
        # As soon as the driver runs: on a loaded box (the suite's other worker) a small run's QC finished within
        # 0.5 s of RUNNING being seen, and a head lost after the run's marker tests nothing.
        stop(ray_cluster.service(settings))  # the head node dies: its jobs and workers with it
        try:
            jobs.state(spec.submission_id("faults-try1"))
            noticed = ""
        except EngineError as exc:  # what the operator's trigger meets: retried, then the task's retry
            noticed = str(exc)
        undecided = store.get_bytes_or_none(layout.qc_marker(run_id)) is None
        ray_cluster.up(settings)
        retry = RayJobs(settings.ray_address)  # a new client, as a new task try builds
        retry.submit(spec, spec.submission_id("faults-try2"))
        while not (state := retry.state(spec.submission_id("faults-try2"))).terminal:
            time.sleep(0.5)
        done, reasons, lost, duplicated, truth_met = qc_outcome(store, truth, items)
    return FaultRow(fault="Ray cluster lost mid-job", injected=1, jobs=items, completed=done, quarantined=reasons,
                    lost=lost, duplicated=duplicated, expect_reasons=sorted(reasons),
                    wall_s=round(time.monotonic() - started, 1), message=noticed[:300],
                    checks={"the loss is an EngineError (retried)": bool(noticed),
                            "no decision before the retry": undecided, "the retry succeeded": state.succeeded,
                            "decisions match the planted truth": truth_met})
