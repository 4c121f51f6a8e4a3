"""The Airflow Helm values validate against our subset schema, which rejects typos, and wire the cluster objects."""

from __future__ import annotations

import copy
import json
import re
from importlib.metadata import version
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from boostqa.settings import BoostqaSettings
from boostqa_dev.checkout import PROJECT_ROOT
from tests.infra.k8s_docs import HELM_SCHEMA, HELM_VALUES, all_docs, defined_secrets, of_kind
from tests.infra.ray_docs import RAY_CONN_ENV, ray_docs

VALUES: dict[str, Any] = yaml.safe_load(HELM_VALUES.read_text())
SCHEMA: dict[str, Any] = json.loads(HELM_SCHEMA.read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
# *SecretName values -> the key the chart reads from that Secret
CHART_SECRET_KEYS = {("data", "metadataSecretName"): "connection", ("data", "brokerUrlSecretName"): "connection",
                     ("fernetKeySecretName",): "fernet-key", ("apiSecretKeySecretName",): "api-secret-key",
                     ("jwtSecretName",): "jwt-secret", ("redis", "passwordSecretName"): "password"}


def _errors(values: dict[str, Any]) -> list[str]:
    return [e.message for e in VALIDATOR.iter_errors(values)]


def test_the_schema_is_valid_draft_2020_12_and_says_it_is_our_subset() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert SCHEMA["additionalProperties"] is False
    assert "subset" in SCHEMA["description"].lower() and "not the chart" in SCHEMA["description"].lower()


def test_the_values_validate_against_the_schema() -> None:
    assert _errors(VALUES) == []


@pytest.mark.parametrize(("path", "typo"), [((), "worker"), ((), "extraEnvform"), (("triggerer",), "enabeld"),
                                            (("workers",), "replica")])
def test_a_misspelt_key_is_rejected(path: tuple[str, ...], typo: str) -> None:
    values = copy.deepcopy(VALUES)
    node = values
    for part in path:
        node = node[part]
    node[typo] = next(iter(node.values()))
    assert any(repr(typo) in message for message in _errors(values)), f"{typo!r} was accepted"


@pytest.mark.parametrize(("path", "bad"), [(("workers", "replicas"), "2"), (("extraEnvFrom",), [{"a": 1}]),
                                           (("executor",), "SequentialExecutor"),
                                           (("images", "airflow", "pullPolicy"), "Sometimes")])
def test_a_value_of_the_wrong_type_is_rejected(path: tuple[str, ...], bad: Any) -> None:
    values = copy.deepcopy(VALUES)
    node = values
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = bad
    assert _errors(values)


def test_the_deployment_choices_the_pipeline_depends_on() -> None:
    assert VALUES["executor"] == "CeleryExecutor"
    assert VALUES["triggerer"]["enabled"] is True  # deferrable training operator, deadline alerts
    assert VALUES["dagProcessor"]["enabled"] is True
    assert VALUES["images"]["airflow"]["repository"] == VALUES["defaultAirflowRepository"] == "boostqa/airflow"
    assert re.fullmatch(r"\d+\.\d+\.\d+", VALUES["images"]["airflow"]["tag"]), "pin the image tag"
    env = {e["name"]: e["value"] for e in VALUES["env"]}
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
    assert VALUES["postgresql"]["enabled"] is False and VALUES["redis"]["enabled"] is True
    assert VALUES["webserver"]["defaultUser"]["enabled"] is False  # no admin/admin


def test_secrets_the_values_name_exist_with_the_keys_the_chart_reads() -> None:
    secrets = defined_secrets()
    env_from = yaml.safe_load(VALUES["extraEnvFrom"])
    names = [item["secretRef"]["name"] for item in env_from]
    assert "boostqa-airflow-connections" in names
    assert all(name in secrets for name in names)
    for path, key in CHART_SECRET_KEYS.items():
        node: Any = VALUES
        for part in path:
            node = node[part]
        assert node in secrets and key in secrets[node], f"{'.'.join(path)}: Secret {node!r} lacks key {key!r}"


def test_every_component_gets_the_ray_connection_from_the_connections_secret() -> None:
    env_from = [item["secretRef"]["name"] for item in yaml.safe_load(VALUES["extraEnvFrom"])]
    assert any(RAY_CONN_ENV in defined_secrets()[name] for name in env_from), "no boostqa_ray for the submitting tasks"
    # the worker submits Ray jobs: the Ray NetworkPolicy admits it by the chart's labels
    (policy,) = [d for d in ray_docs() if d["kind"] == "NetworkPolicy"]
    admitted = [p["podSelector"] for rule in policy["spec"]["ingress"] for p in rule["from"]
                if p["podSelector"].get("matchLabels", {}).get("tier") == "airflow"]
    assert admitted and VALUES["executor"] == "CeleryExecutor"  # task code runs in the chart's worker pods


def test_airflow_service_accounts_are_the_ones_the_launcher_role_is_bound_to() -> None:
    (binding,) = of_kind("RoleBinding")
    subjects = {s["name"] for s in binding["subjects"]}
    assert {VALUES["workers"]["serviceAccount"]["name"], VALUES["triggerer"]["serviceAccount"]["name"]} == subjects
    assert all(s["namespace"] == binding["metadata"]["namespace"] for s in binding["subjects"])


@pytest.mark.parametrize("component", ["workers", "triggerer"])
def test_mounts_name_defined_volumes_and_claims_that_exist(component: str) -> None:
    section = VALUES[component]
    claims = {doc["metadata"]["name"] for doc in of_kind("PersistentVolumeClaim", all_docs())}
    volumes = {v["name"]: v for v in section.get("extraVolumes", [])}
    templates = {t["metadata"]["name"] for t in section.get("volumeClaimTemplates", [])}
    for volume in volumes.values():
        if "persistentVolumeClaim" in volume:
            assert volume["persistentVolumeClaim"]["claimName"] in claims
    for mount in section["extraVolumeMounts"]:
        assert mount["name"] in volumes or mount["name"] in templates, f"{component}: {mount['name']} undefined"
    # the trigger and the publish task read the run's output_dir where the training Job writes it
    assert any(m["mountPath"] == "/work" and volumes.get(m["name"], {}).get("persistentVolumeClaim", {}).get(
        "claimName") == "boostqa-training" for m in section["extraVolumeMounts"])


def test_no_env_value_holds_a_secret() -> None:
    for item in VALUES["env"]:
        assert not re.search(r"(PASSWORD|SECRET|TOKEN|_KEY$|^AIRFLOW_CONN_)", item["name"]), item["name"]


@pytest.mark.parametrize("component", ["workers", "scheduler", "triggerer", "dagProcessor"])
def test_components_need_nothing_only_the_official_image_has(component: str) -> None:
    # The chart's default probes call /entrypoint and its log groomers /clean-logs: apache/airflow files.
    section = VALUES[component]
    assert section["livenessProbe"]["command"] and "/entrypoint" not in " ".join(section["livenessProbe"]["command"])
    assert section["logGroomerSidecar"]["enabled"] is False


def test_the_values_agree_with_the_airflow_image_on_paths() -> None:
    dockerfile = (PROJECT_ROOT / "infra" / "docker" / "airflow.Dockerfile").read_text()
    home = re.search(r"^WORKDIR (\S+)$", dockerfile, re.M).group(1)
    assert re.search(r"^COPY dags dags$", dockerfile, re.M)
    assert VALUES["config"]["core"]["dags_folder"] == f"{home}/dags"
    env = {e["name"]: e["value"] for e in VALUES["env"]}
    assert f"BOOSTQA_STATE_DIR={env['BOOSTQA_STATE_DIR']}" in dockerfile
    warehouse = json.loads(defined_secrets()["boostqa-airflow-connections"]["AIRFLOW_CONN_BOOSTQA_WAREHOUSE"])
    mounts = [m["mountPath"] for m in VALUES["workers"]["extraVolumeMounts"]]
    assert any(warehouse["host"].startswith(f"{m}/") for m in mounts), "the DuckDB file must be on the worker volume"
    # dbt writes the connection's file; the report and `boostqa ops sql` read settings.warehouse_path: one file.
    state_dir = Path(env["BOOSTQA_STATE_DIR"])
    assert warehouse["host"] == str(BoostqaSettings(state_dir=state_dir).warehouse_path)
    assert VALUES["airflowVersion"] == version("apache-airflow"), "deploy the Airflow the pipeline is locked to"
