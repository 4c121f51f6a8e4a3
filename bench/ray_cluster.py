"""P8: what the embedded Ray head costs on this machine: start-up, memory, a job's round trip, shutdown.

Each round starts the stack's Ray head (``boostqa_dev.stack.ray_cluster``, as ``boostqa stack up`` does) on free
ports with a scratch state folder, waits for its Jobs API, sums the proportional set size (PSS: shared pages split
between the processes that map them, so nothing counts twice) of every process in its group, submits a trivial
job through ``RayJobs`` (submit -> SUCCEEDED, the fixed cost every stage job pays), and stops it. Goals: start-up
under 60 s and under 3 GiB of memory on 2 cores; the job round trip and shutdown are recorded for information.

    .venv/bin/python bench/ray_cluster.py                    # 3 rounds -> bench/results/
    .venv/bin/python bench/ray_cluster.py --quick --out /tmp/b # 1 round
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.record import BenchRecord, Check, bench_args, finish, median_spread, scratch_folder, spread_of  # noqa: E402
from boostqa.jobs.cluster import RayJobs  # noqa: E402
from boostqa.settings import BoostqaSettings, PortSettings  # noqa: E402
from boostqa_dev.stack import ray_cluster  # noqa: E402
from boostqa_dev.stack.ports import free_ports  # noqa: E402
from boostqa_dev.stack.process import read_pid, stop  # noqa: E402


def group_pss_mib(pgid: int) -> tuple[float, int]:
    """(PSS in MiB, process count) of every process in the group."""
    total_kib, count = 0, 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if os.getpgid(int(proc.name)) != pgid:
                continue
            rollup = (proc / "smaps_rollup").read_text()
        except (OSError, ProcessLookupError):
            continue
        count += 1
        total_kib += next(int(line.split()[1]) for line in rollup.splitlines() if line.startswith("Pss:"))
    return total_kib / 1024, count


def one_round(state: Path) -> dict[str, float]:
    """Start, weigh, run one job, stop; seconds and MiB."""
    dashboard, gcs, client, agent = free_ports(4, 0)
    settings = BoostqaSettings(state_dir=state, ports=PortSettings(ray_dashboard=dashboard, ray_gcs=gcs,
                                                                   ray_client=client, ray_dashboard_agent=agent))
    started = time.perf_counter()
    ray_cluster.up(settings)
    start_s = time.perf_counter() - started
    time.sleep(5)  # let the dashboard's modules finish loading before weighing them
    pid = read_pid(ray_cluster.service(settings))
    assert pid is not None
    pss_mib, processes = group_pss_mib(pid)
    jobs = RayJobs(settings.ray_address)
    submitted = time.perf_counter()
    submission = f"bench-{time.time_ns()}"
    jobs.client.submit_job(entrypoint="python -c 'print(1)'", submission_id=submission)
    while not jobs.state(submission).terminal:
        time.sleep(0.2)
    job_s = time.perf_counter() - submitted
    status = jobs.state(submission).status
    stopped = time.perf_counter()
    stop(ray_cluster.service(settings))
    stop_s = time.perf_counter() - stopped
    print(f"start {start_s:.1f} s, {pss_mib:,.0f} MiB PSS in {processes} processes, trivial job {job_s:.1f} s "
          f"({status}), stop {stop_s:.1f} s", flush=True)
    if status != "SUCCEEDED":
        raise SystemExit(f"the trivial job ended {status}")
    return {"start_s": start_s, "pss_mib": pss_mib, "processes": float(processes), "job_s": job_s, "stop_s": stop_s}


def measure(rounds: int, quick: bool) -> BenchRecord:
    samples: dict[str, list[float]] = {}
    for index in range(rounds):
        with scratch_folder("bench-ray-", keep=False, what="state") as state:
            for key, value in one_round(state).items():
                samples.setdefault(key, []).append(value)
        print(f"round {index + 1}/{rounds} done", flush=True)
    start_s, pss = median_spread(samples["start_s"])[0], median_spread(samples["pss_mib"])[0]
    job_s, stop_s = median_spread(samples["job_s"])[0], median_spread(samples["stop_s"])[0]
    checks = [
        Check(measure="Ray head start-up to a ready Jobs API (median)", ours=start_s, unit="s", value=start_s,
              value_unit="s", spread=spread_of(samples["start_s"]), goal="< 60"),
        Check(measure="Ray head memory, PSS of its process group (median)", ours=pss / 1024, unit="GiB",
              value=pss / 1024, value_unit="GiB", spread=spread_of(samples["pss_mib"]), goal="< 3"),
        Check(measure="trivial job round trip, submit to SUCCEEDED (median)", ours=job_s, unit="s", value=job_s,
              value_unit="s", spread=spread_of(samples["job_s"])),
        Check(measure="stop (the whole process group, median)", ours=stop_s, unit="s", value=stop_s, value_unit="s"),
    ]
    return BenchRecord.create(bench="ray_cluster", title="the embedded Ray head: start-up, memory, job overhead",
                              quick=quick, checks=checks, samples=samples,
                              params={"rounds": rounds, "num_cpus": os.cpu_count(),
                                      "object_store_mb": BoostqaSettings(state_dir=Path("/tmp")).ray.object_store_mb})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    bench_args(parser)
    parser.add_argument("--rounds", type=int, default=None, help="default 3 (quick: 1)")
    args = parser.parse_args()
    finish(measure(args.rounds or (1 if args.quick else 3), args.quick), args.out)


if __name__ == "__main__":
    main()
