"""The DeepSpeed operator: refuses a bad launcher, defers to its trigger, and reports the trigger's event."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from unittest.mock import MagicMock, patch

import pytest
from airflow.sdk import Asset
from airflow.sdk.exceptions import AirflowFailException, TaskDeferred

from boostqa.settings import get_settings
from boostqa_airflow.operators.train import DeepSpeedTrainOperator, PublishTrainingRunOperator
from boostqa_airflow.triggers.training import TrainingRunTrigger
from tests.conftest import MemoryStore, lake_rows
from training.status import write_metrics


@pytest.fixture
def lake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[MemoryStore]:
    """A lake with two complete mixtures (one packed shard each) behind the operator's hook; state in tmp_path."""
    monkeypatch.setenv("BOOSTQA_STATE_DIR", str(tmp_path))
    get_settings.cache_clear()
    store = MemoryStore()
    shard = bytes(range(16))
    entry = {"path": "packed/shard-00000.bin", "sha256": hashlib.sha256(shard).hexdigest()}
    for version in ("v1", "mixture_20261125T000000Z_00000001"):
        manifest = {"packed": {"shards": [entry]}}
        store.put_bytes(f"mixtures/{version}/packed/shard-00000.bin", shard)
        store.put_bytes(f"mixtures/{version}/manifest.json", json.dumps(manifest).encode())
    with patch("boostqa_airflow.operators.train.LakeHook") as hook:
        hook.return_value.get_conn.return_value = store
        yield store
    get_settings.cache_clear()


def _operator(**kwargs: object) -> DeepSpeedTrainOperator:
    return DeepSpeedTrainOperator(task_id="train", run_id="r1", stage_params={
        "config": "cpu_smoke", "output_dir": "/tmp/r1", "overrides": "max_steps=2, optim.lr=1e-3",
        "mixture_version": "v1",
        **kwargs})


def test_a_bad_launcher_fails_without_retry() -> None:
    with pytest.raises(AirflowFailException, match="launcher must be one of"):
        _operator(launcher="mesos").execute(context={})


def test_execute_submits_then_defers_to_a_serializable_trigger(lake: MemoryStore) -> None:
    with patch("boostqa_airflow.operators.train.launcher_for") as launcher_for:
        launcher_for.return_value.submit.return_value = "4242"
        with pytest.raises(TaskDeferred) as deferred:
            _operator().execute(context={})
    spec = launcher_for.return_value.submit.call_args.args[0]
    assert spec.overrides[0].startswith("data.manifest=") and spec.overrides[1:] == ["max_steps=2", "optim.lr=1e-3"]
    # the local trainer reads files: the mixture's packed shards and manifest were fetched where it looks
    manifest = Path(spec.overrides[0].removeprefix("data.manifest="))
    assert manifest.read_bytes() == lake.objects["mixtures/v1/manifest.json"]
    assert (manifest.parent / "packed" / "shard-00000.bin").read_bytes() == bytes(range(16))
    trigger = deferred.value.trigger
    assert isinstance(trigger, TrainingRunTrigger)
    path, kwargs = trigger.serialize()
    assert path.endswith("TrainingRunTrigger") and kwargs["handle"] == "4242" and kwargs["spec"]["run_id"] == "r1"
    assert deferred.value.kwargs == {"mixture_version": "v1"}


@pytest.mark.usefixtures("lake")
def test_without_a_param_the_mixture_comes_from_the_triggering_event() -> None:
    event = SimpleNamespace(extra={"mixture_version": "mixture_20261125T000000Z_00000001"},
                            timestamp=datetime(2026, 11, 25, tzinfo=UTC))
    with patch("boostqa_airflow.operators.train.launcher_for") as launcher_for:
        launcher_for.return_value.submit.return_value = "1"
        with pytest.raises(TaskDeferred) as deferred:
            _operator(mixture_version="").execute(context={"triggering_asset_events": {"m": [event]}})
    spec = launcher_for.return_value.submit.call_args.args[0]
    assert "/mixtures/mixture_20261125T000000Z_00000001/manifest.json" in spec.overrides[0]
    result = _operator(mixture_version="").execute_complete({}, {"state": "succeeded", "hf_folder": "/h"},
                                                            **deferred.value.kwargs)
    assert result["mixture_version"] == "mixture_20261125T000000Z_00000001"
    # under `airflow dags test` the resumed task gets the event only: the trainer's status names the mixture
    event = {"state": "succeeded", "hf_folder": "/h", "mixture_version": "mixture_x", "manifest_sha256": "ab"}
    result = _operator(mixture_version="").execute_complete({}, event)
    assert result["mixture_version"] == "mixture_x" and result["manifest_sha256"] == "ab"


def test_a_failed_run_fails_the_task_and_a_finished_one_returns_its_folder() -> None:
    operator = _operator()
    with pytest.raises(AirflowFailException, match="ended failed: OOM"):
        operator.execute_complete({}, {"state": "failed", "error": "OOM"})
    result = operator.execute_complete({}, {"state": "succeeded", "hf_folder": "/tmp/r1/hf", "loss_last": 2.0})
    assert result["hf_folder"] == "/tmp/r1/hf"


def test_the_publisher_sends_metrics_to_the_lake_and_puts_the_hf_folder_on_the_asset_event(
        tmp_path: Path, memory_store: MemoryStore) -> None:
    write_metrics(tmp_path, [{"step": 0, "loss": 2.0, "lr": 1e-4, "tokens": 64, "seconds": 1.0, "tokens_per_s": 64.0,
                              "sample_indexes": [0]}])
    run = {"state": "succeeded", "run_id": "r1", "config": "cpu_smoke", "mixture_version": "v1",
           "output_dir": str(tmp_path), "hf_folder": str(tmp_path / "hf"), "loss_last": 2.0}
    checkpoint = Asset(name="checkpoint", uri="boostqa://checkpoints/midtrain")
    events = {checkpoint: SimpleNamespace(extra={})}
    ti = MagicMock()
    ti.xcom_pull.return_value = run
    operator = PublishTrainingRunOperator(task_id="publish", outlets=[checkpoint])
    with patch("boostqa_airflow.operators.train.LakeHook") as hook:
        hook.return_value.get_conn.return_value = memory_store
        result = operator.execute({"ti": ti, "outlet_events": events})
    assert result["steps"] == 1 and events[checkpoint].extra["hf_folder"] == str(tmp_path / "hf")
    assert [r["run_id"] for r in lake_rows(memory_store, "training/metrics/")] == ["r1"]
    ti.xcom_pull.return_value = {"state": "failed"}
    with pytest.raises(AirflowFailException, match="no succeeded run"):
        operator.execute({"ti": ti, "outlet_events": events})


def test_a_cluster_run_trains_on_the_shared_volume_and_syncs_the_mixture_from_the_lake(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from boostqa.settings import BoostqaSettings, TrainerSettings

    settings = BoostqaSettings(state_dir=tmp_path / "state", training_root=tmp_path / "work",
                               trainer=TrainerSettings(image="registry.example/trainer:1.2", cpus=32, memory="512Gi"))
    monkeypatch.setattr("boostqa_airflow.operators.train.get_settings", lambda: settings)
    monkeypatch.setenv("AIRFLOW_CONN_BOOSTQA_S3", json.dumps({"conn_type": "aws", "login": "k", "password": "s",
                                                                "extra": {"bucket": "lake-prod"}}))
    cluster = DeepSpeedTrainOperator(task_id="train", run_id="r1", stage_params={
        "config": "llama3_8b_h100", "launcher": "kubernetes", "nodes": "2", "nproc_per_node": "8",
        "mixture_version": "v3"})
    spec, resources = cluster._spec("v3"), cluster._resources("v3")
    assert spec.nodes == 2 and spec.output_dir == str((tmp_path / "work" / "checkpoints" / "r1").resolve())
    assert spec.overrides[0] == f"data.manifest={(tmp_path / 'work' / 'mixtures' / 'v3').resolve()}/manifest.json"
    assert resources is not None and resources.mixture_uri == "s3://lake-prod/mixtures/v3/"
    assert resources.mixture_dir == str((tmp_path / "work" / "mixtures" / "v3").resolve())
    assert (resources.image, resources.cpus, resources.memory, resources.gpus_per_node) == (
        "registry.example/trainer:1.2", 32, "512Gi", 8)
    # The local launcher trains on the export's own copy in the state folder, and needs no cluster resources.
    local = DeepSpeedTrainOperator(task_id="train", run_id="r1",
                                   stage_params={"config": "cpu_smoke", "mixture_version": "v3"})
    assert local._resources("v3") is None
    assert local._spec("v3").overrides[0].startswith(f"data.manifest={(tmp_path / 'state').resolve()}/mixtures/v3/")
