"""What the schema cannot see: GPUs match the parallelism, probes and Services reach the served port, references
resolve, and no secret is written into a manifest."""

from __future__ import annotations

import re

import pytest

from tests.infra.k8s_docs import (
    Doc,
    all_docs,
    cli_args,
    container_port,
    containers,
    defined_secrets,
    of_kind,
    pod_labels,
    pod_spec,
    pod_specs,
    secret_refs,
)

DOCS = all_docs()
VLLM = [doc for path, doc in DOCS if path.startswith("vllm/") and doc["kind"] == "Deployment"]
SECRET_NAME = re.compile(r"(TOKEN|SECRET|PASSWORD|PASSWD|API_KEY|ACCESS_KEY|PRIVATE|CREDENTIAL|^AIRFLOW_CONN_)", re.I)
SECRET_VALUE = re.compile(r"(hf_[A-Za-z0-9]{20,}|AKIA[0-9A-Z]{16}|sk-[A-Za-z0-9]{16,}|xox[abp]-|://[^/\s:@]+:[^@\s]+@)")
REQUIRED_VLLM_FLAGS = ("--model", "--served-model-name", "--tensor-parallel-size", "--pipeline-parallel-size",
                       "--max-model-len", "--gpu-memory-utilization", "--port")


def _vllm_container(deployment: Doc) -> Doc:
    (container,) = pod_spec(deployment)["containers"]
    return container


def _name(doc: Doc) -> str:
    return str(doc["metadata"]["name"])


def test_there_is_one_vllm_server_per_llm_role_the_roles_need() -> None:
    assert {d["metadata"]["labels"]["boostqa/llm-role"] for d in VLLM} == {"generator", "refiner"}


@pytest.mark.parametrize("deployment", VLLM, ids=_name)
def test_vllm_serves_a_pinned_image_with_the_full_serving_contract(deployment: Doc) -> None:
    container = _vllm_container(deployment)
    assert re.fullmatch(r"vllm/vllm-openai:v\d+\.\d+\.\d+", container["image"]), "pin a vLLM release tag"
    args = cli_args(container["args"])
    assert set(REQUIRED_VLLM_FLAGS) <= set(args), f"missing {set(REQUIRED_VLLM_FLAGS) - set(args)}"
    assert 0.5 <= float(args["--gpu-memory-utilization"]) <= 0.95
    assert int(args["--max-model-len"]) >= 8192


@pytest.mark.parametrize("deployment", VLLM, ids=_name)
def test_vllm_gpu_limit_equals_tensor_times_pipeline_parallel_on_a_single_node(deployment: Doc) -> None:
    container = _vllm_container(deployment)
    args = cli_args(container["args"])
    tp, pp = int(args["--tensor-parallel-size"]), int(args["--pipeline-parallel-size"])
    # A Deployment pod is one node: pipeline stages across nodes need a LeaderWorkerSet (infra/README.md).
    assert pp == 1, "pipeline-parallel > 1 spans nodes: deploy it as a LeaderWorkerSet, not a Deployment"
    resources = container["resources"]
    assert int(resources["limits"]["nvidia.com/gpu"]) == tp * pp
    assert int(resources["requests"].get("nvidia.com/gpu", tp * pp)) == tp * pp


@pytest.mark.parametrize("deployment", VLLM, ids=_name)
def test_vllm_probes_hit_health_on_the_port_the_server_listens_on(deployment: Doc) -> None:
    container = _vllm_container(deployment)
    served = int(cli_args(container["args"])["--port"])
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        http = container[probe]["httpGet"]
        assert http["path"] == "/health", f"{probe} must hit vLLM's /health"
        assert container_port(container, http["port"]) == served, f"{probe} misses the served port {served}"


@pytest.mark.parametrize("deployment", VLLM, ids=_name)
def test_vllm_has_a_memory_backed_dev_shm(deployment: Doc) -> None:
    pod = pod_spec(deployment)
    mounts = {m["mountPath"]: m["name"] for m in _vllm_container(deployment)["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes[mounts["/dev/shm"]]["emptyDir"]["medium"] == "Memory"


def test_every_service_selects_a_deployment_and_targets_its_served_port() -> None:
    deployments = of_kind("Deployment", DOCS)
    # The training run's headless Service selects Job pods: tests/boostqa/launch/test_cluster.py checks it; the Ray
    # head's selects the pod KubeRay makes: tests/infra/test_ray_cluster.py checks it.
    others = {"training-job.yaml", "ray-cluster.yaml"}
    for service in of_kind("Service", [(path, doc) for path, doc in DOCS if path not in others]):
        selector = service["spec"]["selector"]
        backing = [d for d in deployments if selector.items() <= pod_labels(d).items()]
        assert len(backing) == 1, f"Service {_name(service)} selects {len(backing)} deployments"
        container = _vllm_container(backing[0])
        served = int(cli_args(container["args"])["--port"])
        for port in service["spec"]["ports"]:
            assert container_port(container, port.get("targetPort", port["port"])) == served


def test_deployment_selectors_match_their_pod_labels_and_pdbs_and_hpas_point_at_them() -> None:
    deployments = {_name(d): d for d in of_kind("Deployment", DOCS)}
    for deployment in deployments.values():
        assert deployment["spec"]["selector"]["matchLabels"].items() <= pod_labels(deployment).items()
    for pdb in of_kind("PodDisruptionBudget", DOCS):
        wanted = pdb["spec"]["selector"]["matchLabels"].items()
        assert any(wanted <= pod_labels(d).items() for d in deployments.values()), f"PDB {_name(pdb)} selects none"
    for hpa in of_kind("HorizontalPodAutoscaler", DOCS):
        target = hpa["spec"]["scaleTargetRef"]
        assert target["kind"] == "Deployment" and target["name"] in deployments


def test_every_secret_reference_names_a_secret_and_key_of_the_example_file() -> None:
    secrets = defined_secrets()
    for path, doc in DOCS:
        for name, key in secret_refs(doc):
            assert name in secrets, f"{path} refers to Secret {name!r}, which secrets.example.yaml does not define"
            assert key is None or key in secrets[name], f"{path}: Secret {name!r} has no key {key!r}"


def test_no_container_env_holds_a_literal_secret() -> None:
    for path, doc in DOCS:
        for _, pod in pod_specs(doc):
            for container in containers(pod):
                for env in container.get("env", []):
                    if "value" in env:
                        assert not SECRET_NAME.search(env["name"]), f"{path}: {env['name']} needs a secretKeyRef"
                        assert not SECRET_VALUE.search(str(env["value"])), f"{path}: {env['name']} holds a credential"
                    else:
                        assert "valueFrom" in env


def test_service_accounts_and_volume_claims_used_by_pods_are_defined() -> None:
    accounts = {_name(sa) for sa in of_kind("ServiceAccount", DOCS)}
    claims = {_name(pvc) for pvc in of_kind("PersistentVolumeClaim", DOCS)}
    # A Ray head left without one gets KubeRay's, named like the cluster and bound to the Role its autoscaler needs.
    kuberays = {_name(d) for d in of_kind("RayCluster", DOCS) if d["spec"].get("enableInTreeAutoscaling")}
    for path, doc in DOCS:
        for which, pod in pod_specs(doc):
            account = pod.get("serviceAccountName")
            if doc["kind"] == "RayCluster" and which == "head":
                account = account or _name(doc)
            assert account in accounts | kuberays, f"{path} ({which}): undefined service account"
            for volume in pod.get("volumes", []):
                if "persistentVolumeClaim" in volume:
                    assert volume["persistentVolumeClaim"]["claimName"] in claims, f"{path}: undefined claim"
    trainer = of_kind("Job", DOCS)[0]
    assert pod_spec(trainer)["serviceAccountName"] == "boostqa-trainer"


def test_the_launcher_role_may_manage_every_kind_a_training_run_applies() -> None:
    import yaml

    from tests.infra.k8s_docs import K8S

    role = next(d for d in yaml.safe_load_all((K8S / "rbac.yaml").read_text()) if d and d["kind"] == "Role")
    allowed = {(group, resource) for rule in role["rules"] for group in rule["apiGroups"]
               for resource in rule["resources"] if {"create", "patch", "delete"} <= set(rule["verbs"])}
    for path, doc in DOCS:
        if path == "training-job.yaml":
            group = doc["apiVersion"].split("/")[0] if "/" in doc["apiVersion"] else ""
            assert (group, doc["kind"].lower() + "s") in allowed, doc["kind"]
