"""``RayHook``: the ``boostqa_ray`` connection -> a boostqa ``RayJobs`` client of that cluster's Jobs API."""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseHook

from boostqa.jobs.cluster import RayJobs
from boostqa_airflow.constants import RAY_CONN_ID

DEFAULT_PORT = 8265  # Ray's dashboard, which serves the Jobs API


class RayHook(BaseHook):
    """Connection fields: host and port of the Ray dashboard, schema http or https; extra ``python``.

    ``python`` is the interpreter the cluster runs stage jobs with (default ``python``, the nodes' image's).
    """

    conn_name_attr = "ray_conn_id"
    default_conn_name = RAY_CONN_ID
    conn_type = "http"
    hook_name = "BoostQA Ray cluster (Jobs API)"

    def __init__(self, ray_conn_id: str = RAY_CONN_ID) -> None:
        super().__init__()
        self.ray_conn_id = ray_conn_id

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Relabel the generic connection form for a Ray cluster."""
        return {
            "hidden_fields": ["login", "password"],
            "relabeling": {"host": "Ray head (dashboard) host", "schema": "Scheme (http or https)"},
            "placeholders": {"host": "ray-head", "port": str(DEFAULT_PORT), "extra": '{"python": "python"}'},
        }

    def address(self) -> str:
        """The Jobs API URL, ``http://host:port``."""
        conn = self.get_connection(self.ray_conn_id)
        host = conn.host or "127.0.0.1"
        if "://" in host:
            return host.rstrip("/")
        return f"{conn.schema or 'http'}://{host}:{conn.port or DEFAULT_PORT}"

    def get_conn(self) -> RayJobs:
        """The cluster's job client."""
        python = self.get_connection(self.ray_conn_id).extra_dejson.get("python", "python")
        return RayJobs(self.address(), python=str(python))

    def test_connection(self) -> tuple[bool, str]:
        """Ask the Jobs API for its version."""
        try:
            version = self.get_conn().client.get_version()
        except Exception as exc:  # noqa: BLE001 - the UI shows the message
            return False, f"{self.address()}: {exc}"
        return True, f"{self.address()}: Jobs API version {version}"
