"""P9's harness: a private SeaweedFS and Ray head, stage jobs submitted as Airflow does, RSS sampled while they run."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from bench.dbt_marts_lake import private_settings
from boostqa.jobs.cluster import RayJobs
from boostqa.jobs.spec import JobSpec, LakeLocation, parse_result
from boostqa.lake.store import LakeConfig
from boostqa.qc.config import QcRunConfig
from boostqa.settings import BoostqaSettings
from boostqa_dev.stack import ray_cluster, seaweedfs
from boostqa_dev.stack.process import read_pid, stop

MIB = 2**20
NOT_WORKERS = frozenset({"JobSupervisor", "DashboardAgent", "RuntimeEnvAgent"})  # ray:: processes that run no task


@contextmanager
def private_stack(state_dir: Path) -> Iterator[tuple[BoostqaSettings, int]]:
    """(settings, the head's pid) of our own SeaweedFS and Ray head on free ports (as P3 and P8 start them), both
    stopped afterwards. The head's processes inherit this environment: its jobs import this checkout's code."""
    settings = private_settings(state_dir, ray=True)
    try:
        print(f"SeaweedFS: {seaweedfs.up(settings)}", flush=True)
        print(f"Ray head: {ray_cluster.up(settings)}", flush=True)
        head = read_pid(ray_cluster.service(settings))
        if head is None:
            raise SystemExit("the Ray head started but left no pid file")
        yield settings, head
    finally:
        stop(ray_cluster.service(settings))
        stop(seaweedfs.service(settings))


def qc_spec(lake: LakeConfig, run_id: str, config: QcRunConfig) -> JobSpec:
    """The QC job of a run, as QualityControlOperator.job_spec builds it from the DAG's params."""
    return JobSpec(stage="qc", run_id=run_id, lake=LakeLocation.of(lake), params=config.model_dump(mode="json"))


@dataclass
class Peaks:
    """Peak RSS (MiB) while a job ran: its driver's, each Ray worker's (by pid, with its title), the head's tree's."""

    driver_mib: float = 0.0
    workers: dict[int, tuple[str, float]] = field(default_factory=dict)
    tree_mib: float = 0.0  # RSS summed over the head's processes at their fullest sample (shared pages count twice)
    samples: int = 0

    def worker_peaks(self) -> list[float]:
        """Each worker's peak, but the head's agents' and the job supervisor's (it waits for the driver)."""
        return [mib for title, mib in self.workers.values() if title.removeprefix("ray::") not in NOT_WORKERS]


class RssSampler:
    """Samples the RSS of every process under the Ray head every ``interval`` seconds, on a thread of its own.

    The driver is the process running ``python -m boostqa.jobs`` (not the shell Ray starts it with); a worker is a
    ``ray::`` process (Ray titles its workers ``ray::IDLE``, ``ray::<actor or task>``).
    """

    def __init__(self, head_pid: int, interval: float = 0.5) -> None:
        self.head, self.interval, self.peaks = psutil.Process(head_pid), interval, Peaks()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="rss-sampler", daemon=True)

    def __enter__(self) -> RssSampler:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def sample(self) -> None:
        try:
            processes = [self.head, *self.head.children(recursive=True)]
        except psutil.Error:
            return
        total = 0.0
        for process in processes:
            try:
                command, rss = process.cmdline(), process.memory_info().rss / MIB
            except psutil.Error:  # gone between the listing and the read
                continue
            total += rss
            title = " ".join(command).split(" ", 1)[0] if command else ""
            if "boostqa.jobs" in command[1:3]:
                self.peaks.driver_mib = max(self.peaks.driver_mib, rss)
            elif title.startswith("ray::"):
                seen_title, seen = self.peaks.workers.get(process.pid, (title, 0.0))
                # Keep the title of the work a worker did, not the IDLE it starts and ends with.
                self.peaks.workers[process.pid] = (title if title != "ray::IDLE" else seen_title, max(seen, rss))
        self.peaks.tree_mib = max(self.peaks.tree_mib, total)
        self.peaks.samples += 1


@dataclass(frozen=True)
class JobRun:
    """One measured stage job: wall time from submit to SUCCEEDED, its result line and the RSS peaks."""

    phase: str
    items: int
    seconds: float
    result: dict[str, Any]
    peaks: Peaks
    log: list[str] = field(default_factory=list)  # the driver's own log lines (boostqa's loggers): where time went

    def samples(self) -> dict[str, list[float]]:
        """The record's samples of this phase, keyed ``<phase>_<measure>``."""
        return {f"{self.phase}_{k}": v for k, v in {
            "seconds": [self.seconds], "items_per_s": [self.items / self.seconds],
            "driver_peak_mib": [self.peaks.driver_mib], "worker_peak_mib": self.peaks.worker_peaks(),
            "tree_peak_mib": [self.peaks.tree_mib]}.items() if v}

    def params(self) -> dict[str, Any]:
        """What the record keeps of this phase besides samples: its result and every worker's title and peak."""
        workers = sorted(({"pid": pid, "title": t, "peak_mib": round(m, 1)} for pid, (t, m) in
                          self.peaks.workers.items()), key=lambda w: -float(w["peak_mib"]))
        return {"items": self.items, "result": self.result, "rss_samples": self.peaks.samples, "workers": workers,
                "driver_log": self.log}


def run_job(jobs: RayJobs, spec: JobSpec, head_pid: int, phase: str, items: int, poll_s: float = 0.5) -> JobRun:
    """Submit ``spec`` through ``RayJobs`` (as RayJobOperator does), wait for it, sample RSS meanwhile.

    Raises:
        SystemExit: the job did not succeed or printed a configuration error (its log's tail says why).
    """
    submission = spec.submission_id(f"bench-{time.time_ns()}")
    with RssSampler(head_pid) as sampler:
        started = time.perf_counter()
        jobs.submit(spec, submission)
        while not (state := jobs.state(submission)).terminal:
            time.sleep(poll_s)
        seconds = time.perf_counter() - started
    logs = jobs.logs(submission)
    result = parse_result(logs) or {}
    if not state.succeeded or "config_error" in result:
        raise SystemExit(f"{phase}: job {submission} ended {state.status}: {state.message}\n{logs[-4000:]}")
    print(f"{phase}: {items:,} items in {seconds:.1f} s ({items / seconds:,.0f} items/s); driver peak "
          f"{sampler.peaks.driver_mib:,.0f} MiB, workers' max {max(sampler.peaks.worker_peaks(), default=0):,.0f} MiB "
          f"({len(sampler.peaks.worker_peaks())} workers); result {result}", flush=True)
    own = [line for line in logs.splitlines() if " INFO boostqa." in line or " WARNING boostqa." in line]
    return JobRun(phase=phase, items=items, seconds=seconds, result=result, peaks=sampler.peaks, log=own[-60:])
