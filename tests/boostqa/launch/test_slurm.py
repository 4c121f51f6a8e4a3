"""The Slurm launcher reads the scheduler: a job that died fails the run, and a run in flight is never submitted twice.

Slurm's CLI is not on this machine: small scripts on PATH answer as squeue, sacct and sbatch would (unit tests of
our own logic, like the fake LLM transport).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from boostqa.launch.cluster import ClusterResources, SlurmLauncher
from boostqa.launch.spec import LaunchSpec


@pytest.fixture
def slurm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake Slurm: squeue prints ``queue``, sacct ``accounting``; sbatch records its calls in ``sbatch.log``."""
    bin_dir, state = tmp_path / "bin", tmp_path / "slurm"
    bin_dir.mkdir(), state.mkdir()
    for name, body in (("squeue", 'cat "$STATE/queue" 2>/dev/null || true'),
                       ("sacct", 'cat "$STATE/accounting" 2>/dev/null || true'),
                       ("sbatch", 'echo "$@" >> "$STATE/sbatch.log"; cat > /dev/null; echo "4242;cluster"'),
                       ("scancel", 'echo "$@" >> "$STATE/scancel.log"')):
        script = bin_dir / name
        script.write_text(f"#!/bin/bash\n{body}\n")
        script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("STATE", str(state))
    return state


def _spec(tmp_path: Path) -> LaunchSpec:
    return LaunchSpec(run_id="midtrain_1", config="llama3_8b_h100", nodes=2, output_dir=str(tmp_path / "out"))


def test_a_new_run_is_submitted_and_a_run_in_flight_is_attached_to(slurm: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    template = Path(__file__).parents[3] / "infra" / "slurm" / "train.sbatch"
    monkeypatch.setenv("BOOSTQA_TRAINER__SLURM_TEMPLATE", str(template))
    from boostqa.settings import get_settings

    get_settings.cache_clear()
    launcher = SlurmLauncher(ClusterResources())
    assert launcher.submit(_spec(tmp_path)) == "4242"
    (slurm / "queue").write_text("4242 RUNNING\n")
    assert launcher.submit(_spec(tmp_path)) == "4242"  # a retried task: attached, not submitted again
    assert len((slurm / "sbatch.log").read_text().splitlines()) == 1
    get_settings.cache_clear()


@pytest.mark.parametrize(("accounting", "why"), [("OUT_OF_MEMORY\n", "ran out of memory"),
                                                 ("NODE_FAIL\n", "lost a node"), ("TIMEOUT\n", "time limit"),
                                                 ("PREEMPTED\nCANCELLED by 1000\n", "was cancelled")])
def test_a_job_that_died_without_a_status_fails_the_run(slurm: Path, tmp_path: Path, accounting: str,
                                                        why: str) -> None:
    (slurm / "accounting").write_text(accounting)
    status = SlurmLauncher().status("4242", _spec(tmp_path))
    assert status.state == "failed" and why in (status.error or "") and "slurm-4242.log" in (status.error or "")


def test_a_queued_or_running_job_is_waited_for_and_a_finished_status_wins(slurm: Path, tmp_path: Path) -> None:
    (slurm / "queue").write_text("PENDING\n")
    assert SlurmLauncher().status("4242", _spec(tmp_path)).state == "submitted"
    out = tmp_path / "out"
    out.mkdir()
    (out / "status.json").write_text('{"state": "succeeded", "step": 20}')
    (slurm / "accounting").write_text("FAILED\n")  # the status file says the trainer finished: it wins
    (slurm / "queue").write_text("")
    assert SlurmLauncher().status("4242", _spec(tmp_path)).state == "succeeded"
