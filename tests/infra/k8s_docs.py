"""Loads the manifests under infra/k8s (the training Job rendered by the real renderer) and walks their pods."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from boostqa.launch.cluster import ClusterResources, kubernetes_template, render_kubernetes_manifests
from boostqa.launch.spec import LaunchSpec
from boostqa_dev.checkout import PROJECT_ROOT

Doc = dict[str, Any]
K8S = PROJECT_ROOT / "infra" / "k8s"
SECRETS_FILE = K8S / "secrets.example.yaml"
HELM_VALUES = PROJECT_ROOT / "infra" / "helm" / "airflow-values.yaml"
HELM_SCHEMA = PROJECT_ROOT / "infra" / "helm" / "airflow-values.schema.json"
KUBERNETES_VERSION = "1.37.0"  # the newest schema set kubernetes-validate 1.37.0 bundles
SAMPLE_LAUNCH = LaunchSpec(run_id="midtrain_20260101", config="llama3_8b_h100", nproc_per_node=8, nodes=2,
                           overrides=["data.manifest=/work/mixtures/v1/manifest.json"],
                           output_dir="/work/checkpoints/midtrain_20260101")
POD_TEMPLATE_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet"}
# Kinds kubernetes-validate has no schema for, each validated against its operator's CRD schema by its own test.
CUSTOM_KINDS = {("ray.io/v1", "RayCluster"): "tests/infra/test_ray_cluster.py"}


def load_docs(path: Path) -> list[Doc]:
    """The non-empty YAML documents of a file; the training template is rendered first (it has ${...} slots)."""
    if path.resolve() == kubernetes_template().resolve():
        return render_kubernetes_manifests(SAMPLE_LAUNCH, ClusterResources(), template=path)
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def manifest_files() -> list[Path]:
    """Every manifest under infra/k8s."""
    return sorted(K8S.rglob("*.yaml"))


def all_docs() -> list[tuple[str, Doc]]:
    """(path relative to infra/k8s, document) for every document under infra/k8s."""
    return [(path.relative_to(K8S).as_posix(), doc) for path in manifest_files() for doc in load_docs(path)]


def of_kind(kind: str, docs: list[tuple[str, Doc]] | None = None) -> list[Doc]:
    """The documents of one kind."""
    return [doc for _, doc in (docs if docs is not None else all_docs()) if doc.get("kind") == kind]


def pod_spec(doc: Doc) -> Doc | None:
    """The pod spec a workload runs, or None for objects that run no pod."""
    if doc.get("kind") == "Pod":
        return doc["spec"]
    if doc.get("kind") in POD_TEMPLATE_KINDS:
        return doc["spec"]["template"]["spec"]
    return None


def pod_specs(doc: Doc) -> list[tuple[str, Doc]]:
    """(which pod, pod spec) of every pod a document runs: one per workload, one per group of a RayCluster."""
    if doc.get("kind") == "RayCluster":
        spec = doc["spec"]
        return [("head", spec["headGroupSpec"]["template"]["spec"]),
                *((group["groupName"], group["template"]["spec"]) for group in spec.get("workerGroupSpecs", []))]
    pod = pod_spec(doc)
    return [] if pod is None else [(doc["metadata"]["name"], pod)]


def is_custom(doc: Doc) -> bool:
    """Whether the document is of a CRD kind (see CUSTOM_KINDS)."""
    return (doc.get("apiVersion"), doc.get("kind")) in CUSTOM_KINDS


def pod_labels(doc: Doc) -> dict[str, str]:
    """Labels of the pods a workload creates."""
    return doc["spec"]["template"]["metadata"].get("labels", {})


def containers(pod: Doc) -> list[Doc]:
    """Init and app containers of a pod spec."""
    return [*pod.get("initContainers", []), *pod["containers"]]


def walk(node: Any) -> Iterator[tuple[str, Any]]:
    """Every (key, value) pair in a nested structure of dicts and lists."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def secret_refs(node: Any) -> Iterator[tuple[str, str | None]]:
    """(secret name, key or None) of every secretKeyRef, secretRef and secret volume in a structure."""
    for key, value in walk(node):
        if key == "secretKeyRef":
            yield value["name"], value["key"]
        elif key == "secretRef":
            yield value["name"], None
        elif key == "secret" and isinstance(value, dict) and "secretName" in value:
            yield value["secretName"], None


def defined_secrets() -> dict[str, dict[str, str]]:
    """Secret name -> its stringData, from secrets.example.yaml."""
    return {doc["metadata"]["name"]: doc.get("stringData", {}) for doc in load_docs(SECRETS_FILE)
            if doc["kind"] == "Secret"}


def cli_args(argv: list[str]) -> dict[str, str | bool]:
    """``--flag value`` / ``--flag=value`` / bare ``--flag`` arguments as a dict."""
    out: dict[str, str | bool] = {}
    i = 0
    while i < len(argv):
        item = str(argv[i])
        assert item.startswith("--"), f"positional argument {item!r} where a --flag was expected"
        if "=" in item:
            name, value = item.split("=", 1)
            out[name] = value
        elif i + 1 < len(argv) and not str(argv[i + 1]).startswith("--"):
            out[item] = str(argv[i + 1])
            i += 1
        else:
            out[item] = True
        i += 1
    return out


def container_port(container: Doc, port: int | str) -> int:
    """The containerPort a probe or Service port (number or name) resolves to; fails when it names none."""
    ports = container.get("ports", [])
    if isinstance(port, int) or str(port).isdigit():
        number = int(port)
        assert any(p["containerPort"] == number for p in ports), f"port {number} is not declared by the container"
        return number
    matches = [p["containerPort"] for p in ports if p.get("name") == port]
    assert matches, f"no container port is named {port!r}"
    return int(matches[0])
