"""The Ray cluster's manifests (infra/k8s/ray-cluster.yaml) and what the KubeRay operator makes of its pods."""

from __future__ import annotations

from typing import Any

from boostqa_airflow.constants import RAY_CONN_ID
from tests.infra.k8s_docs import K8S, Doc, load_docs

RAY_FILE = K8S / "ray-cluster.yaml"
RAY_CONN_ENV = f"AIRFLOW_CONN_{RAY_CONN_ID.upper()}"
HEAD = "head"
# KubeRay 1.7 (ray-operator/controllers/ray/common/pod.go, labelPod): labels every Ray pod carries. A template may
# override the app.kubernetes.io ones, but KubeRay's head Service selects on them (common/service.go,
# HeadServiceLabels), so ours must not; the ray.io ones it does not let a template override.
KUBERAY_POD_LABELS = {"app.kubernetes.io/name": "kuberay", "app.kubernetes.io/created-by": "kuberay-operator"}
KUBERAY_FIXED_LABELS = ("ray.io/cluster", "ray.io/node-type", "ray.io/group")
MAX_CLUSTER_NAME = 53  # utils.MaxRayClusterNameLength: KubeRay refuses longer RayCluster names


def ray_docs() -> list[Doc]:
    """Every document of ray-cluster.yaml."""
    return load_docs(RAY_FILE)


def ray_cluster() -> Doc:
    """The one RayCluster."""
    (cluster,) = [doc for doc in ray_docs() if doc["kind"] == "RayCluster"]
    return cluster


def groups(cluster: Doc) -> dict[str, Doc]:
    """Group name -> group spec: ``head`` for the head group, then each worker group by its groupName."""
    spec = cluster["spec"]
    return {HEAD: spec["headGroupSpec"], **{g["groupName"]: g for g in spec.get("workerGroupSpecs", [])}}


def ray_container(group: Doc) -> Doc:
    """The Ray container of a group's pod: KubeRay takes the first one."""
    return dict(group["template"]["spec"]["containers"][0])


def pod_labels(cluster: Doc, group_name: str) -> dict[str, str]:
    """The labels KubeRay gives a group's pods: its own, with the template's on top except the fixed ray.io ones."""
    group = groups(cluster)[group_name]
    node_type = HEAD if group_name == HEAD else "worker"
    labels = {"ray.io/is-ray-node": "yes", "ray.io/cluster": cluster["metadata"]["name"], "ray.io/node-type": node_type,
              "ray.io/group": "headgroup" if group_name == HEAD else group_name, **KUBERAY_POD_LABELS}
    template: dict[str, str] = group["template"].get("metadata", {}).get("labels", {})
    return {**labels, **{k: v for k, v in template.items() if k not in KUBERAY_FIXED_LABELS}}


def pod_template_doc(cluster: Doc, group_name: str) -> Doc:
    """A group's pod template as a PodTemplate object, which kubernetes-validate knows."""
    template: dict[str, Any] = groups(cluster)[group_name]["template"]
    name = f"{cluster['metadata']['name']}-{group_name}"
    return {"apiVersion": "v1", "kind": "PodTemplate",
            "metadata": {"name": name, "namespace": cluster["metadata"]["namespace"]}, "template": template}
