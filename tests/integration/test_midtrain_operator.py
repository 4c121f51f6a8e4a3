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
    return DeepSpeedTrainOperator(task_id="train", run_id="it", stage_params={
        "config": "cpu_smoke", "output_dir": str(output), "mixture_version": "it",
        "overrides": f"data.manifest={manifest}, max_steps={steps}, checkpoint_every=4"}, poll_seconds=0.5)


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


def _train(operator: DeepSpeedTrainOperator) -> dict[str, object]:
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute(context={})
    event = asyncio.run(asyncio.wait_for(_first_event(deferred.value.trigger), timeout=600))
    return operator.execute_complete({}, event, **deferred.value.kwargs)


def test_a_second_run_the_same_day_trains_apart_and_only_resume_run_id_continues_the_first(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import UTC, datetime
    from types import SimpleNamespace

    from boostqa.settings import BoostqaSettings
    from boostqa_airflow.runs import RESUME_PARAM, boostqa_run_id
    from training.status import read_metrics

    settings = BoostqaSettings(state_dir=tmp_path / "state", training_root=tmp_path / "work")
    monkeypatch.setattr("boostqa_airflow.operators.train.get_settings", lambda: settings)
    manifest = _mixture(tmp_path / "mix", documents=200, seq_len=32)
    morning = SimpleNamespace(run_id="manual__morning", run_after=datetime(2026, 12, 3, 6, tzinfo=UTC))
    evening = SimpleNamespace(run_id="manual__evening", run_after=datetime(2026, 12, 3, 18, tzinfo=UTC))

    def operator(run_id: str, steps: int) -> DeepSpeedTrainOperator:
        return DeepSpeedTrainOperator(task_id="train", run_id=run_id, stage_params={
            "config": "cpu_smoke", "mixture_version": "it",
            "overrides": f"data.manifest={manifest}, max_steps={steps}, checkpoint_every=4"}, poll_seconds=0.5)

    first, second = boostqa_run_id("midtrain", morning), boostqa_run_id("midtrain", evening)
    assert first != second
    one, two = _train(operator(first, 4)), _train(operator(second, 4))
    assert one["output_dir"] != two["output_dir"] and Path(str(one["hf_folder"])).exists()
    assert Path(str(two["hf_folder"])).exists()  # the first run's folder is still there, untouched
    assert [m["step"] for m in read_metrics(Path(str(two["output_dir"])))] == [0, 1, 2, 3]  # not resumed

    resumed_id = boostqa_run_id("midtrain", evening, {RESUME_PARAM: first})
    assert resumed_id == first
    resumed = _train(operator(resumed_id, 8))
    assert resumed["output_dir"] == one["output_dir"]
    assert [m["step"] for m in read_metrics(Path(str(resumed["output_dir"])))] == list(range(8))
    assert "resumed from" in (Path(str(resumed["output_dir"])) / "launcher.log").read_text()
