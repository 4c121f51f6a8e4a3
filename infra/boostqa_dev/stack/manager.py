"""Bring the embedded stack up, down, and report its health; ``down`` stops only what ``up`` started."""

from __future__ import annotations

from dataclasses import dataclass

from boostqa.settings import BoostqaSettings
from boostqa_dev.stack import airflow_home, llm_server, ray_cluster, seaweedfs, ui
from boostqa_dev.stack.process import ServiceProcess, read_pid, stop


@dataclass(frozen=True)
class PartStatus:
    """Health of one part of the stack."""

    name: str
    healthy: bool
    detail: str


def up(settings: BoostqaSettings, with_ui: bool = False, with_llm: bool | None = None) -> list[PartStatus]:
    """Start SeaweedFS, Ray and the LLM server (unless disabled), prepare Airflow and the warehouse; optionally UIs."""
    airflow_home.require_airflow()
    parts = [PartStatus("s3 (seaweedfs)", True, seaweedfs.up(settings))]
    llm = settings.llm_server.enabled if with_llm is None else with_llm
    started = llm_server.up(settings, wait=False) if llm else None  # vLLM loads while Airflow's DB migrates
    parts.append(PartStatus("airflow home", True, airflow_home.prepare(settings)))
    if settings.ray.enabled:
        parts.append(PartStatus("ray (jobs)", True, ray_cluster.up(settings)))
    if started is not None:
        llm_server.wait_ready(settings)
        parts.append(PartStatus("llm (vllm)", True, started))
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    parts.append(PartStatus("warehouse", True, f"{settings.warehouse_path} (DuckDB, written by dbt only)"))
    env_file = airflow_home.write_env_file(settings)
    parts.append(PartStatus("environment", True, f"source {env_file}"))
    if with_ui:
        parts.extend(PartStatus("ui", True, line) for line in ui.up(settings))
    return parts


def services(settings: BoostqaSettings) -> list[ServiceProcess]:
    """Every background process the stack may have started, UIs first so they stop before the store."""
    return [ui.airflow_service(settings), ui.dbt_docs_service(settings), llm_server.service(settings),
            ray_cluster.service(settings), seaweedfs.service(settings)]


def down(settings: BoostqaSettings) -> list[PartStatus]:
    """Stop every process ``up`` started, by PID file; state on disk is kept."""
    return [
        PartStatus(spec.name, True, "stopped" if stop(spec) else "was not running")
        for spec in services(settings)
    ]


def status(settings: BoostqaSettings) -> list[PartStatus]:
    """Health of each part."""
    parts = [PartStatus("s3 (seaweedfs)", *seaweedfs.health(settings))]
    parts.append(PartStatus("airflow home", *airflow_home.health(settings)))
    parts.append(PartStatus("llm (vllm)", *llm_server.health(settings)))
    parts.append(PartStatus("ray (jobs)", *ray_cluster.health(settings)))
    wh = settings.warehouse_path
    parts.append(PartStatus("warehouse", wh.exists(), str(wh) if wh.exists() else f"{wh} not built yet (run dbt)"))
    for spec in (ui.airflow_service(settings), ui.dbt_docs_service(settings)):
        pid = read_pid(spec)
        parts.append(PartStatus(spec.name, True, f"running, pid {pid}" if pid else "not started (optional: --ui)"))
    return parts
