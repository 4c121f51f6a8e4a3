"""secrets.example.yaml: placeholders only, and connections shaped like the ones the hooks read."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from boostqa.settings import BoostqaSettings
from boostqa_airflow.constants import (
    ALERTS_CONN_ID,
    LLM_CACHE_CONN_ID,
    LLM_CONN_IDS,
    LLM_EVAL_CONN_ID,
    S3_CONN_ID,
    WAREHOUSE_CONN_ID,
)
from boostqa_dev.stack.airflow_home import connections
from tests.infra.k8s_docs import SECRETS_FILE, Doc, all_docs, cli_args, container_port, defined_secrets, load_docs
from tests.infra.ray_docs import RAY_CONN_ID
from tests.infra.s3_policy import POLICY_DIR

PLACEHOLDER = "REPLACE_ME"
NOT_SECRET = {"AWS_DEFAULT_REGION"}  # configuration that travels with the credentials it belongs to
CONNECTIONS = "boostqa-airflow-connections"
SMTP_CONN_ID = "smtp_default"  # AlertHook's default smtp_conn_id


def _env(conn_id: str) -> str:
    return f"AIRFLOW_CONN_{conn_id.upper()}"


def _conn(secret: str, conn_id: str) -> dict[str, Any]:
    return json.loads(defined_secrets()[secret][_env(conn_id)])


def test_example_secrets_hold_placeholders_only_and_no_base64_data() -> None:
    for doc in load_docs(SECRETS_FILE):
        assert doc["kind"] == "Secret" and doc["type"] == "Opaque"
        assert "data" not in doc, "use stringData: base64 in a checked-in file hides what it holds"
        for key, value in doc["stringData"].items():
            if key.startswith("AIRFLOW_CONN_"):
                conn = json.loads(value)
                for field in ("login", "password"):
                    assert field not in conn or PLACEHOLDER in conn[field], f"{key}.{field} is not a placeholder"
            elif key not in NOT_SECRET:
                assert PLACEHOLDER in value, f"{doc['metadata']['name']}.{key} is not a placeholder"


def test_the_airflow_connections_match_the_ids_and_shape_the_stack_defines() -> None:
    embedded = {k: json.loads(v) for k, v in connections(BoostqaSettings()).items()}
    deployed = defined_secrets()[CONNECTIONS]
    # boostqa_ray: the Ray Jobs API (tests/infra/test_ray_cluster.py checks it reaches the ray-head Service)
    wanted = {_env(c) for c in (S3_CONN_ID, WAREHOUSE_CONN_ID, ALERTS_CONN_ID, RAY_CONN_ID, LLM_CACHE_CONN_ID,
                                LLM_EVAL_CONN_ID, *LLM_CONN_IDS.values())}
    assert set(deployed) == wanted | {_env(SMTP_CONN_ID)}
    for env, shape in embedded.items():
        conn = json.loads(deployed[env])
        assert conn["conn_type"] == shape["conn_type"], env
        assert set(shape) <= set(conn), f"{env} lacks {set(shape) - set(conn)}"
        assert set(shape.get("extra", {})) <= set(conn.get("extra", {})), f"{env} extra lacks keys"


def test_the_alerts_connection_is_an_http_webhook_with_the_url_as_password() -> None:
    conn = _conn(CONNECTIONS, ALERTS_CONN_ID)
    assert conn["conn_type"] == "http"
    assert urlsplit(conn["password"]).scheme == "https"  # the URL carries Slack's token: it is the secret part
    # email alerts go through the connection the alerts' extra names (docker-compose.yaml defines the same)
    assert conn["extra"]["smtp_conn_id"] == SMTP_CONN_ID and _conn(CONNECTIONS, SMTP_CONN_ID)["conn_type"] == "smtp"


def test_the_llm_cache_connection_is_a_postgres_connection_beside_the_metadata_db() -> None:
    conn = _conn(CONNECTIONS, LLM_CACHE_CONN_ID)
    assert conn["conn_type"] == "postgres"  # what LlmHook.get_cache accepts
    assert {"host", "port", "login", "password", "schema"} <= set(conn)
    metadata = urlsplit(defined_secrets()["boostqa-airflow-metadata"]["connection"])
    assert (conn["host"], conn["port"], conn["schema"]) == (metadata.hostname, metadata.port, metadata.path[1:])
    assert conn["extra"]["sslmode"] == "require"  # as the metadata DB's URL asks


def test_each_llm_connection_reaches_a_service_whose_server_serves_its_model() -> None:
    docs = [doc for _, doc in all_docs()]
    services = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Service"}
    deployments = [d for d in docs if d["kind"] == "Deployment"]
    for role, conn_id in LLM_CONN_IDS.items():
        conn = _conn(CONNECTIONS, conn_id)
        url = urlsplit(conn["host"])
        assert conn["extra"]["role"] == role and url.path == "/v1"
        service_name, namespace = url.hostname.split(".")[:2]
        service = services[service_name]
        assert namespace == service["metadata"]["namespace"]
        (port,) = [p for p in service["spec"]["ports"] if p["port"] == url.port]
        (server,) = [d for d in deployments
                     if service["spec"]["selector"].items() <= d["spec"]["template"]["metadata"]["labels"].items()]
        container: Doc = server["spec"]["template"]["spec"]["containers"][0]
        args = cli_args(container["args"])
        assert args["--served-model-name"] == conn["extra"]["model"], f"{role} asks for a model nobody serves"
        assert container_port(container, port["targetPort"]) == int(args["--port"])


def test_vllm_key_and_llm_connection_passwords_come_from_the_same_placeholder() -> None:
    secrets = defined_secrets()
    server_key = secrets["boostqa-vllm-api-key"]["VLLM_API_KEY"]
    for conn_id in LLM_CONN_IDS.values():  # what the servers require is what the clients send
        assert _conn(CONNECTIONS, conn_id)["password"] == server_key


def test_every_s3_role_has_its_credentials_secret() -> None:
    secrets = defined_secrets()
    for policy in sorted(POLICY_DIR.glob("*.json")):
        name = f"boostqa-{policy.stem}-s3"
        assert name in secrets, f"no Secret {name} for infra/s3/{policy.name}"
        if policy.stem == "trainer":  # the training Job's `aws s3 sync` reads plain AWS variables
            assert {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} <= set(secrets[name])
        elif policy.stem == "ray":  # the Ray nodes' jobs read boostqa's lake settings (endpoint etc. as arguments)
            assert set(secrets[name]) == {"BOOSTQA_LAKE__ACCESS_KEY", "BOOSTQA_LAKE__SECRET_KEY"}
        else:
            conn = _conn(name, S3_CONN_ID)
            assert conn["conn_type"] == "aws" and conn["extra"]["bucket"] == BoostqaSettings().lake.bucket
    assert {n.removeprefix("boostqa-").removesuffix("-s3") for n in secrets if n.endswith("-s3")} == {
        p.stem for p in POLICY_DIR.glob("*.json")}
