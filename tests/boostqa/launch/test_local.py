"""The local launcher's torchrun command line."""

from __future__ import annotations

from pathlib import Path

from boostqa.launch.local import MONITOR_INTERVAL_S, LocalLauncher
from boostqa.launch.spec import LaunchSpec


def test_torchrun_polls_its_workers_rarely_and_runs_the_trainer_module(tmp_path: Path) -> None:
    spec = LaunchSpec(run_id="midtrain_20261204", config="cpu_smollm2", nproc_per_node=2, output_dir=str(tmp_path))
    command = LocalLauncher(venv=tmp_path / "venv").command(spec)
    assert command[0] == str(tmp_path / "venv" / "bin" / "torchrun")
    # the agent's default 0.1 s polling preempts the trainer's OpenMP threads on a small CPU box
    interval = command.index("--monitor-interval")
    assert float(command[interval + 1]) == MONITOR_INTERVAL_S >= 1
    assert command[command.index("--nproc_per_node") + 1] == "2"
    assert command[command.index("-m") + 1] == "training.train" and command.index("-m") > interval
