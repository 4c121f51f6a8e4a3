"""``PublishWarehouseSnapshotOperator``: after a dbt group's build, publish the copy of the warehouse readers use."""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseOperator

from boostqa.warehouse import publish_snapshot
from boostqa_airflow.constants import WAREHOUSE_CONN_ID
from boostqa_airflow.failfast import fails_fast
from boostqa_airflow.hooks.warehouse import WarehouseHook


@fails_fast
class PublishWarehouseSnapshotOperator(BaseOperator):
    """Checkpoint the warehouse and swap in its snapshot (``<name>.snapshot.duckdb``) for summary, report, ops sql.

    It runs in the one-slot dbt pool, after the group's build and tests, so no dbt task writes while it copies;
    a failed build publishes nothing and readers keep the last good snapshot.
    """

    def __init__(self, *, warehouse_conn_id: str = WAREHOUSE_CONN_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.warehouse_conn_id = warehouse_conn_id

    def execute(self, context: Any) -> str:
        path = publish_snapshot(WarehouseHook(self.warehouse_conn_id).get_path())
        self.log.info("warehouse snapshot published: %s (%.1f MiB)", path, path.stat().st_size / 2**20)
        return str(path)
