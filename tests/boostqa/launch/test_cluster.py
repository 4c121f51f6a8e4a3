"""The production launchers render valid Kubernetes Jobs and Slurm scripts from the infra/ templates."""

from __future__ import annotations

from pathlib import Path

import pytest

from boostqa.errors import ConfigError
from boostqa.launch.cluster import (
    ClusterResources,
    KubernetesLauncher,
    render_kubernetes_job,
    render_kubernetes_manifests,
    render_slurm_script,
)
from boostqa.launch.spec import LaunchSpec

SPEC = LaunchSpec(run_id="midtrain_20261126", config="llama3_8b_h100", nproc_per_node=8, nodes=2,
                  overrides=["data.manifest=/work/mixtures/v1/manifest.json"], output_dir="/work/ck/midtrain_20261126")


def test_the_kubernetes_job_runs_torchrun_on_every_node_with_its_gpus() -> None:
    job = render_kubernetes_job(SPEC, ClusterResources(image="registry/trainer:1.0"))
    assert job["kind"] == "Job" and job["metadata"]["name"] == "boostqa-train-midtrain-20261126"
    spec = job["spec"]
    assert spec["completions"] == spec["parallelism"] == 2 and spec["completionMode"] == "Indexed"
    assert spec["backoffLimit"] >= 1  # a preempted pod restarts and resumes from the checkpoint
    pod = spec["template"]["spec"]
    (trainer,) = pod["containers"]
    assert trainer["image"] == "registry/trainer:1.0" and trainer["resources"]["limits"]["nvidia.com/gpu"] == 8
    assert trainer["command"][:3] == ["torchrun", "--nnodes=2", "--nproc_per_node=8"]  # no shell in between
    assert trainer["command"][-2:] == ["-m", "training.train"] and "--node_rank=$(NODE_RANK)" in trainer["command"]
    (rank,) = [e for e in trainer["env"] if e["name"] == "NODE_RANK"]
    assert "job-completion-index" in rank["valueFrom"]["fieldRef"]["fieldPath"]
    assert trainer["args"] == SPEC.train_args() and "output_dir=/work/ck/midtrain_20261126" in trainer["args"]
    assert pod["subdomain"] == job["metadata"]["name"] and pod["initContainers"][0]["name"] == "fetch-mixture"
    assert all(s.get("secretRef") for s in trainer["envFrom"])  # credentials come from a Kubernetes secret


def test_a_headless_service_gives_the_pods_the_rendezvous_name_torchrun_uses() -> None:
    service, job = render_kubernetes_manifests(SPEC, ClusterResources())
    name = job["metadata"]["name"]
    assert service["kind"] == "Service" and service["metadata"]["name"] == name
    assert service["spec"]["clusterIP"] == "None" and service["spec"]["publishNotReadyAddresses"] is True
    # Pods of an Indexed Job carry this label; hostname <job>-<index> + subdomain <job> -> <job>-0.<job> resolves.
    assert service["spec"]["selector"] == {"batch.kubernetes.io/job-name": name}
    assert job["spec"]["template"]["spec"]["subdomain"] == name
    trainer = job["spec"]["template"]["spec"]["containers"][0]
    assert f"--master_addr={name}-0.{name}" in trainer["command"] and "--master_port=29500" in trainer["command"]
    assert service["spec"]["ports"][0]["port"] == 29500


def test_the_slurm_script_requeues_and_runs_torchrun_per_node() -> None:
    script = render_slurm_script(SPEC, ClusterResources(gpus_per_node=4))
    assert "#SBATCH --nodes=2" in script and "#SBATCH --gpus-per-node=4" in script and "--requeue" in script
    assert "srun torchrun --nnodes 2 --nproc_per_node 4" in script
    assert "--override output_dir=/work/ck/midtrain_20261126" in script and "$MASTER_ADDR" in script


def test_submitting_without_the_cluster_cli_says_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("boostqa.launch.cluster.shutil.which", lambda name: None)
    with pytest.raises(ConfigError, match="kubectl. is not installed"):
        KubernetesLauncher().submit(SPEC)


def test_a_finished_run_drops_its_service_and_a_failed_clean_up_does_not_fail_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json as _json

    spec = SPEC.model_copy(update={"output_dir": str(tmp_path)})
    (tmp_path / "status.json").write_text(_json.dumps({"state": "succeeded", "step": 4}))
    calls: list[list[str]] = []

    def refuse(argv: list[str], stdin: str | None = None) -> str:
        calls.append(argv)
        raise ConfigError("forbidden: services")

    monkeypatch.setattr("boostqa.launch.cluster._run", refuse)
    status = KubernetesLauncher().status(spec.job_name, spec)
    assert status.state == "succeeded"
    assert calls == [["kubectl", "delete", "service", spec.job_name, "-n", "boostqa", "--ignore-not-found"]]
