"""The KubeRay RayCluster CRD's OpenAPI v3 schema, checked in as JSON, and a strict JSON Schema validator built on it.

kubernetes-validate bundles only the built-in kinds, and the tests reach no network, so the schema of the CRD the
operator installs is checked in under tests/infra/kuberay/ (KubeRay is Apache-2.0: its LICENSE is beside it). To
move to another KubeRay release, regenerate it from that release's CRD (the `fetch` of github:ray-project/kuberay,
or a clone):

    git -C kuberay show v1.7.0:ray-operator/config/crd/bases/ray.io_rayclusters.yaml > /tmp/rayclusters.yaml
    python -m tests.infra.crd_schema /tmp/rayclusters.yaml v1.7.0 "$(git -C kuberay rev-parse v1.7.0)"

and update the operator version in infra/README.md (a test keeps the two equal).
"""

from __future__ import annotations

import copy
import json
import sys
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

SCHEMA_DIR = Path(__file__).parent / "kuberay"
SCHEMA_FILE = SCHEMA_DIR / "ray.io_rayclusters.v1.schema.json"
CRD_PATH = "ray-operator/config/crd/bases/ray.io_rayclusters.yaml"
CRD_VERSION = "v1"
Schema = dict[str, Any]


def trim(crd: dict[str, Any], tag: str, commit: str) -> Schema:
    """The served ``v1`` openAPIV3Schema of the CRD, without ``status`` (never written by a manifest), attributed."""
    (version,) = [v for v in crd["spec"]["versions"] if v["name"] == CRD_VERSION]
    schema = copy.deepcopy(version["schema"]["openAPIV3Schema"])
    del schema["properties"]["status"]
    return {
        "$comment": (f"Derived from KubeRay {tag} (https://github.com/ray-project/kuberay, commit {commit}), file "
                     f"{CRD_PATH}: the openAPIV3Schema of version {CRD_VERSION}, with the status property removed. "
                     "Copyright The KubeRay Authors. Licensed under the Apache License, Version 2.0 (see LICENSE in "
                     "this folder, copied from that release). Regenerate with tests/infra/crd_schema.py."),
        "title": f"{crd['spec']['names']['kind']} ({crd['spec']['group']}/{CRD_VERSION}), KubeRay {tag}",
        "x-kuberay-version": tag,
        "x-kuberay-commit": commit,
        **schema,
    }


def strict(schema: Schema) -> Schema:
    """The schema with ``additionalProperties: false`` on every object that lists its properties and does not preserve
    unknown fields: what the API server's strict field validation (kubectl's default) rejects, JSON Schema would
    otherwise accept."""
    node = copy.deepcopy(schema)
    stack: list[Any] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if ("properties" in item and "additionalProperties" not in item
                    and not item.get("x-kubernetes-preserve-unknown-fields")):
                item["additionalProperties"] = False
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return node


@cache
def checked_in() -> Schema:
    """The checked-in schema as stored; callers must not mutate it."""
    return dict(json.loads(SCHEMA_FILE.read_text()))


@cache
def validator() -> jsonschema.protocols.Validator:
    """A strict validator of RayCluster documents (JSON Schema 2020-12 reads the CRD's structural subset as is)."""
    return jsonschema.Draft202012Validator(strict(checked_in()))


def main(argv: list[str]) -> None:
    """Write the trimmed schema of a RayCluster CRD file: ``CRD_YAML TAG COMMIT``."""
    crd_file, tag, commit = argv
    crd = yaml.safe_load(Path(crd_file).read_text())
    SCHEMA_FILE.write_text(json.dumps(trim(crd, tag, commit), indent=1) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
