"""Every manifest under infra/k8s validates against the Kubernetes OpenAPI schemas (strict: unknown fields fail)."""

from __future__ import annotations

import copy

import kubernetes_validate
import pytest

from boostqa_dev.checkout import PROJECT_ROOT
from tests.infra.k8s_docs import CUSTOM_KINDS, K8S, KUBERNETES_VERSION, Doc, all_docs, is_custom, load_docs

DOCS = all_docs()
BUILT_IN = [(path, doc) for path, doc in DOCS if not is_custom(doc)]


@pytest.mark.parametrize(("path", "doc"), BUILT_IN,
                         ids=[f"{p}:{d['kind']}/{d['metadata']['name']}" for p, d in BUILT_IN])
def test_manifest_validates_strictly_against_the_kubernetes_schema(path: str, doc: Doc) -> None:
    try:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        where = ".".join(str(p) for p in exc.path)
        pytest.fail(f"{path} {doc['kind']}/{doc['metadata']['name']} at {where}: {exc.message}")


def test_every_custom_kind_is_validated_by_a_test_of_its_own() -> None:
    # Any other kind goes through kubernetes-validate above, where one it has no schema for errors out.
    for path, doc in DOCS:
        if is_custom(doc):
            test = CUSTOM_KINDS[(doc["apiVersion"], doc["kind"])]
            assert (PROJECT_ROOT / test).is_file(), f"{path}: {doc['kind']} should be validated by {test}"
    assert {d["kind"] for _, d in DOCS if is_custom(d)} == {"RayCluster"}


def test_every_object_but_the_rendered_training_run_names_the_boostqa_namespace() -> None:
    files = {path for path, _ in DOCS}
    assert {"training-job.yaml", "secrets.example.yaml", "vllm/generator.yaml", "vllm/refiner.yaml",
            "ray-cluster.yaml"} <= files
    for path, doc in DOCS:
        # the rendered run (Service + Job) is applied with `kubectl apply -n boostqa`; the rest names its namespace
        if doc["kind"] != "Namespace" and path != "training-job.yaml":
            assert doc["metadata"].get("namespace") == "boostqa", f"{path} {doc['kind']} has no boostqa namespace"


def test_the_validation_rejects_an_unknown_field_and_a_wrong_type() -> None:
    (deployment,) = [d for d in load_docs(K8S / "vllm" / "generator.yaml") if d["kind"] == "Deployment"]
    typo = copy.deepcopy(deployment)
    typo["spec"]["template"]["spec"]["containers"][0]["resource"] = typo["spec"]["template"]["spec"][
        "containers"][0].pop("resources")
    with pytest.raises(kubernetes_validate.ValidationError, match="resource"):
        kubernetes_validate.validate(typo, KUBERNETES_VERSION, strict=True)
    wrong_type = copy.deepcopy(deployment)
    wrong_type["spec"]["replicas"] = "one"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(wrong_type, KUBERNETES_VERSION, strict=True)
