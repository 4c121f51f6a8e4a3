"""The deferrable DeepSpeed operator end to end on the local launcher: real torchrun + DeepSpeed on CPU, the
trigger polling the status file, the HF folder reported; on_kill stops every process of a run."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from airflow.sdk.exceptions import TaskDeferred

from boostqa.launch.local import _processes_of
from boostqa_airflow.operators.train import DeepSpeedTrainOperator
from tests.training.test_data import _mixture

pytestmark = pytest.mark.integration


def _operator(manifest: Path, output: Path, steps: int) -> DeepSpeedTrainOperator:
    return DeepSpeedTrainOperator(task_id="train", run_id="it", config="cpu_smoke", output_dir=str(output),
                                  mixture_version="it",
                                  overrides=f"data.manifest={manifest}, max_steps={steps}, checkpoint_every=4",
                                  poll_seconds=0.5)


async def _first_event(trigger: object) -> dict[str, object]:
    async for event in trigger.run():  # type: ignore[attr-defined]
        return event.payload  # type: ignore[no-any-return]
    raise AssertionError("the trigger ended without an event")


def test_the_operator_trains_through_its_trigger_and_reports_the_hf_folder(tmp_path: Path) -> None:
    manifest = _mixture(tmp_path / "mix", documents=200, seq_len=32)
    operator = _operator(manifest, tmp_path / "run", steps=8)
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute(context={})
    event = asyncio.run(asyncio.wait_for(_first_event(deferred.value.trigger), timeout=600))
    result = operator.execute_complete({}, event)
    assert result["state"] == "succeeded" and Path(result["hf_folder"], "model.safetensors").exists()
    assert result["loss_last"] < result["loss_first"]


def test_on_kill_stops_the_run(tmp_path: Path) -> None:
    manifest = _mixture(tmp_path / "mix", documents=200, seq_len=32)
    output = tmp_path / "run"
    operator = _operator(manifest, output, steps=10_000)
    with pytest.raises(TaskDeferred):
        operator.execute(context={})
    deadline = time.monotonic() + 300
    while not (output / "status.json").exists() and time.monotonic() < deadline:
        time.sleep(0.5)
    fresh = _operator(manifest, output, steps=10_000)  # after a deferral Airflow kills a new instance
    fresh.on_kill()
    deadline = time.monotonic() + 60
    while _processes_of(str(output)) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _processes_of(str(output)) == []
