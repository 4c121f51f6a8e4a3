"""infra/k8s/ray-cluster.yaml: the RayCluster validates strictly against the KubeRay CRD's schema and its pod templates
against the Kubernetes schemas, and it agrees with the image, the secrets, the connection and the operator's habits."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from boostqa_dev.checkout import PROJECT_ROOT
from tests.infra import crd_schema
from tests.infra.k8s_docs import (
    HELM_VALUES,
    KUBERNETES_VERSION,
    Doc,
    all_docs,
    container_port,
    defined_secrets,
    of_kind,
)
from tests.infra.ray_docs import (
    HEAD,
    KUBERAY_FIXED_LABELS,
    KUBERAY_POD_LABELS,
    MAX_CLUSTER_NAME,
    RAY_CONN_ENV,
    groups,
    pod_labels,
    pod_template_doc,
    ray_cluster,
    ray_container,
    ray_docs,
)

CLUSTER = ray_cluster()
GROUPS = groups(CLUSTER)
WORKERS = [name for name in GROUPS if name != HEAD]
DOCS = ray_docs()
VALUES: dict[str, Any] = yaml.safe_load(HELM_VALUES.read_text())
LAKE_ENV = ("BOOSTQA_LAKE__ACCESS_KEY", "BOOSTQA_LAKE__SECRET_KEY")
UNITS = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}


def _bytes(quantity: str | int) -> int:
    match = re.fullmatch(r"(\d+)([KMGT]i?|k)?", str(quantity))
    assert match, f"{quantity!r}: write memory as an integer with a binary or decimal suffix"
    number, unit = match.groups()
    return int(number) * UNITS.get(unit or "", 1)


def _errors(doc: Doc) -> list[str]:
    errors = crd_schema.validator().iter_errors(doc)
    return [f"{'.'.join(str(p) for p in e.absolute_path)}: {e.message}" for e in errors]


def _volume(group: Doc, mount_path: str) -> Doc:
    mounts = {m["mountPath"]: m["name"] for m in ray_container(group).get("volumeMounts", [])}
    assert mount_path in mounts, f"nothing is mounted at {mount_path}"
    (volume,) = [v for v in group["template"]["spec"]["volumes"] if v["name"] == mounts[mount_path]]
    return dict(volume)


def _env(group: Doc) -> dict[str, Doc]:
    return {e["name"]: e for e in ray_container(group).get("env", [])}


def _ray_connection() -> dict[str, Any]:
    return dict(json.loads(defined_secrets()["boostqa-airflow-connections"][RAY_CONN_ENV]))


# ---- the CRD schema and the Kubernetes schemas --------------------------------------------------------------------

def test_the_checked_in_crd_schema_is_attributed_and_names_the_operator_release_the_docs_install() -> None:
    schema = crd_schema.checked_in()
    jsonschema.Draft202012Validator.check_schema(schema)
    tag = schema["x-kuberay-version"]
    assert re.fullmatch(r"v\d+\.\d+\.\d+", tag) and re.fullmatch(r"[0-9a-f]{40}", schema["x-kuberay-commit"])
    assert tag in schema["$comment"] and "Apache License, Version 2.0" in schema["$comment"]
    assert "Apache License" in (crd_schema.SCHEMA_DIR / "LICENSE").read_text()
    assert "status" not in schema["properties"] and {"apiVersion", "kind", "metadata", "spec"} <= set(
        schema["properties"])
    readme = (PROJECT_ROOT / "infra" / "README.md").read_text()
    assert f"kuberay/kuberay-operator --version {tag.removeprefix('v')}" in readme, "install the schema's release"


def test_the_ray_cluster_validates_strictly_against_the_kuberay_crd_schema() -> None:
    assert CLUSTER["apiVersion"] == "ray.io/v1"
    assert _errors(CLUSTER) == []


@pytest.mark.parametrize(("path", "typo"), [(("spec",), "enableInTreeAutoscalling"),
                                            (("spec", "headGroupSpec"), "rayStartParam"),
                                            (("spec", "workerGroupSpecs", 0), "maxReplica"),
                                            (("spec", "workerGroupSpecs", 0, "template", "spec", "containers", 0),
                                             "resource")])
def test_the_crd_validation_rejects_a_misspelt_field(path: tuple[str | int, ...], typo: str) -> None:
    doc = copy.deepcopy(CLUSTER)
    node: Any = doc
    for part in path:
        node = node[part]
    node[typo] = next(iter(node.values()))
    assert any(repr(typo) in message for message in _errors(doc)), f"{typo!r} was accepted"


@pytest.mark.parametrize(("path", "bad"), [(("spec", "enableInTreeAutoscaling"), "true"),
                                           (("spec", "workerGroupSpecs", 0, "minReplicas"), "0"),
                                           (("spec", "headGroupSpec", "rayStartParams", "num-cpus"), 0),
                                           (("spec", "autoscalerOptions", "upscalingMode"), "Eager")])
def test_the_crd_validation_rejects_a_wrong_type_or_value(path: tuple[str | int, ...], bad: Any) -> None:
    doc = copy.deepcopy(CLUSTER)
    node: Any = doc
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = bad
    assert _errors(doc)


@pytest.mark.parametrize("group", list(GROUPS))
def test_each_pod_template_validates_strictly_against_the_kubernetes_schema(group: str) -> None:
    doc = pod_template_doc(CLUSTER, group)
    try:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        pytest.fail(f"{group} template at {'.'.join(str(p) for p in exc.path)}: {exc.message}")


def test_the_pod_template_validation_rejects_a_misspelt_container_field() -> None:
    doc = pod_template_doc(copy.deepcopy(CLUSTER), HEAD)
    doc["template"]["spec"]["containers"][0]["volumeMount"] = []
    with pytest.raises(kubernetes_validate.ValidationError, match="volumeMount"):
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


# ---- what the operator and Ray need -------------------------------------------------------------------------------

def test_the_cluster_name_is_one_kuberay_accepts() -> None:
    name = CLUSTER["metadata"]["name"]
    assert len(name) <= MAX_CLUSTER_NAME and re.fullmatch(r"[a-z]([-a-z0-9]*[a-z0-9])?", name)
    assert CLUSTER["metadata"]["namespace"] == "boostqa"


def test_the_nodes_run_the_airflow_image_with_the_ray_it_locks() -> None:
    images = VALUES["images"]["airflow"]
    airflow_image = f"{images['repository']}:{images['tag']}"
    for name, group in GROUPS.items():
        assert ray_container(group)["image"] == airflow_image, name
        assert ray_container(group)["imagePullPolicy"] == images["pullPolicy"], name
    lock = (PROJECT_ROOT / "requirements" / "airflow-image.lock").read_text()
    (locked,) = re.findall(r"^ray==(\S+)$", lock, re.M)
    assert CLUSTER["spec"]["rayVersion"] == locked, "rayVersion must be the Ray in the image"


def test_the_head_does_no_work_and_serves_gcs_and_the_jobs_api() -> None:
    head = GROUPS[HEAD]
    params = head["rayStartParams"]
    assert params["num-cpus"] == "0" and params["dashboard-host"] == "0.0.0.0"
    container = ray_container(head)
    assert container_port(container, "gcs-server") == int(params["port"]) == 6379
    assert container_port(container, "dashboard") == int(params.get("dashboard-port", 8265)) == 8265
    for name, group in GROUPS.items():
        # KubeRay writes `ray start ... --block` from rayStartParams only when the container has no command
        assert "command" not in ray_container(group) and "args" not in ray_container(group), name
        assert "block" not in group["rayStartParams"] and "address" not in group["rayStartParams"], name


def test_the_worker_group_autoscales() -> None:
    spec = CLUSTER["spec"]
    assert spec["enableInTreeAutoscaling"] is True and WORKERS
    assert spec["autoscalerOptions"]["idleTimeoutSeconds"] >= 60
    for name in WORKERS:
        group = GROUPS[name]
        assert 0 <= group["minReplicas"] <= group.get("replicas", group["minReplicas"]) <= group["maxReplicas"]
        assert group["maxReplicas"] > group["minReplicas"], f"{name} cannot grow"
    for name, group in GROUPS.items():  # autoscaler v2 needs Never or unset; KubeRay sets it
        assert "restartPolicy" not in group["template"]["spec"], name


@pytest.mark.parametrize("group", list(GROUPS))
def test_the_object_store_fits_a_memory_backed_dev_shm_inside_the_memory_limit(group: str) -> None:
    spec = GROUPS[group]
    shm = _volume(spec, "/dev/shm")["emptyDir"]
    assert shm["medium"] == "Memory"
    resources = ray_container(spec)["resources"]
    assert resources["requests"] == resources["limits"], "Ray sizes itself from the limits: request what it uses"
    memory = _bytes(resources["limits"]["memory"])
    store = int(spec["rayStartParams"]["object-store-memory"])
    assert store <= _bytes(shm["sizeLimit"]) <= memory // 2, "the shm emptyDir counts against the memory limit"
    assert store >= 2**30


@pytest.mark.parametrize("group", list(GROUPS))
def test_every_node_has_the_lake_keys_a_state_folder_and_no_usage_stats(group: str) -> None:
    spec = GROUPS[group]
    env = _env(spec)
    assert env["RAY_USAGE_STATS_ENABLED"]["value"] == "0"
    state = env["BOOSTQA_STATE_DIR"]["value"]
    assert "emptyDir" in _volume(spec, state), "BOOSTQA_STATE_DIR must be a writable volume"
    secrets = defined_secrets()
    for name in LAKE_ENV:
        ref = env[name]["valueFrom"]["secretKeyRef"]
        assert ref["name"] == "boostqa-ray-s3" and ref["key"] in secrets[ref["name"]], name
    assert not any(name.startswith(("AWS_", "AIRFLOW_CONN_")) for name in env), "the nodes need only their lake keys"


def test_templates_keep_the_labels_kuberay_selects_on() -> None:
    for name, group in GROUPS.items():
        labels = group["template"].get("metadata", {}).get("labels", {})
        assert not set(labels) & (set(KUBERAY_POD_LABELS) | set(KUBERAY_FIXED_LABELS)), name


def test_the_head_uses_the_account_kuberay_makes_for_the_autoscaler_and_workers_have_no_token() -> None:
    assert "serviceAccountName" not in GROUPS[HEAD]["template"]["spec"]
    accounts = {a["metadata"]["name"]: a for a in of_kind("ServiceAccount", all_docs())}
    for name in WORKERS:
        pod = GROUPS[name]["template"]["spec"]
        assert accounts[pod["serviceAccountName"]]["automountServiceAccountToken"] is False
        assert pod["automountServiceAccountToken"] is False


# ---- how Airflow reaches it ---------------------------------------------------------------------------------------

def test_the_ray_connection_reaches_the_jobs_api_through_the_ray_head_service() -> None:
    conn = _ray_connection()
    assert conn["conn_type"] == "http" and conn["schema"] == "http"
    service_name, namespace = conn["host"].split(".")[:2]
    assert conn["host"] == f"{service_name}.{namespace}.svc.cluster.local"
    (service,) = [d for d in DOCS if d["kind"] == "Service" and d["metadata"]["name"] == service_name]
    assert service["metadata"]["namespace"] == namespace == CLUSTER["metadata"]["namespace"]
    (port,) = [p for p in service["spec"]["ports"] if p["port"] == conn["port"]]
    head = ray_container(GROUPS[HEAD])
    assert container_port(head, port["targetPort"]) == int(GROUPS[HEAD]["rayStartParams"]["dashboard-port"])
    selector = service["spec"]["selector"].items()
    assert selector <= pod_labels(CLUSTER, HEAD).items(), "the Service must select the head pod"
    assert not any(selector <= pod_labels(CLUSTER, w).items() for w in WORKERS), "workers serve no Jobs API"


def test_the_network_policy_admits_ray_pods_to_each_other_and_airflow_workers_to_the_jobs_api_only() -> None:
    (policy,) = [d for d in DOCS if d["kind"] == "NetworkPolicy"]
    selected = policy["spec"]["podSelector"]["matchLabels"].items()
    assert all(selected <= pod_labels(CLUSTER, name).items() for name in GROUPS), "every Ray pod is protected"
    assert policy["spec"]["policyTypes"] == ["Ingress"], "egress stays open: the lake, DNS, the Kubernetes API"
    rules = policy["spec"]["ingress"]
    ray_peers = [r for r in rules if any(p["podSelector"].get("matchLabels", {}).items() == selected
                                         for p in r["from"])]
    assert ray_peers and all("ports" not in r for r in ray_peers), "Ray nodes talk on many ports"
    dashboard = int(GROUPS[HEAD]["rayStartParams"]["dashboard-port"])
    for rule in rules:
        if rule not in ray_peers:
            assert [p["port"] for p in rule["ports"]] == [dashboard], "outsiders reach the Jobs API only"
            for peer in rule["from"]:
                assert set(peer) == {"podSelector"}, "only pods of this namespace"
                components = {v for e in peer["podSelector"].get("matchExpressions", []) if e["key"] == "component"
                              for v in e["values"]}
                assert "worker" in components and peer["podSelector"]["matchLabels"]["tier"] == "airflow"

