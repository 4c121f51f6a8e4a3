"""Every manifest under infra/k8s validates against the Kubernetes OpenAPI schemas (strict: unknown fields fail)."""

from __future__ import annotations

import copy

import kubernetes_validate
import pytest

from tests.infra.k8s_docs import K8S, KUBERNETES_VERSION, Doc, all_docs, load_docs

DOCS = all_docs()


@pytest.mark.parametrize(("path", "doc"), DOCS, ids=[f"{p}:{d['kind']}/{d['metadata']['name']}" for p, d in DOCS])
def test_manifest_validates_strictly_against_the_kubernetes_schema(path: str, doc: Doc) -> None:
    try:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        where = ".".join(str(p) for p in exc.path)
        pytest.fail(f"{path} {doc['kind']}/{doc['metadata']['name']} at {where}: {exc.message}")


def test_every_object_but_the_rendered_training_run_names_the_boostqa_namespace() -> None:
    files = {path for path, _ in DOCS}
    assert {"training-job.yaml", "secrets.example.yaml", "vllm/generator.yaml", "vllm/refiner.yaml"} <= files
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
