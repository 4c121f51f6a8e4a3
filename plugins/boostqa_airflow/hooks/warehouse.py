"""``WarehouseHook``: the ``boostqa_warehouse`` connection -> the DuckDB file path dbt writes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from airflow.sdk import BaseHook

from boostqa_airflow.constants import WAREHOUSE_CONN_ID


class WarehouseHook(BaseHook):
    """Connection fields: host = path of the DuckDB file."""

    conn_name_attr = "warehouse_conn_id"
    default_conn_name = WAREHOUSE_CONN_ID
    conn_type = "duckdb"
    hook_name = "BoostQA warehouse (DuckDB)"

    def __init__(self, warehouse_conn_id: str = WAREHOUSE_CONN_ID) -> None:
        super().__init__()
        self.warehouse_conn_id = warehouse_conn_id

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Only the path matters for DuckDB."""
        return {"hidden_fields": ["schema", "port", "login", "password"], "relabeling": {"host": "DuckDB file"}}

    def get_path(self) -> Path:
        """Path of the DuckDB file."""
        return Path(self.get_connection(self.warehouse_conn_id).host or "")

    def get_conn(self) -> Path:
        """The warehouse path (Airflow's hook protocol)."""
        return self.get_path()
