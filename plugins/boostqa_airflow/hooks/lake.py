"""``LakeHook``: the ``boostqa_s3`` connection -> a boostqa ``ObjectStore``."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from airflow.sdk import BaseHook

from boostqa.lake.store import LakeConfig, ObjectStore
from boostqa_airflow.constants import S3_CONN_ID


class LakeHook(BaseHook):
    """Connection fields: login = access key, password = secret key, extra = endpoint_url, bucket, region_name."""

    conn_name_attr = "lake_conn_id"
    default_conn_name = S3_CONN_ID
    conn_type = "aws"
    hook_name = "BoostQA lake (S3)"

    def __init__(self, lake_conn_id: str = S3_CONN_ID) -> None:
        super().__init__()
        self.lake_conn_id = lake_conn_id

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Relabel the generic connection form for an S3 store."""
        return {
            "hidden_fields": ["schema", "port", "host"],
            "relabeling": {"login": "Access key", "password": "Secret key"},
            "placeholders": {"extra": '{"endpoint_url": "http://127.0.0.1:8333", "bucket": "boostqa"}'},
        }

    def get_config(self) -> LakeConfig:
        """Typed lake configuration from the connection."""
        conn = self.get_connection(self.lake_conn_id)
        extra = conn.extra_dejson
        return LakeConfig(
            endpoint_url=extra.get("endpoint_url") or None,
            access_key=conn.login or "",
            secret_key=conn.password or "",  # type: ignore[arg-type]
            bucket=extra.get("bucket", "boostqa"),
            region=extra.get("region_name", "us-east-1"),
        )

    @cached_property
    def store(self) -> ObjectStore:
        """The object store, built once per hook."""
        return ObjectStore(self.get_config())

    def get_conn(self) -> ObjectStore:
        """The object store (Airflow's hook protocol)."""
        return self.store

    def test_connection(self) -> tuple[bool, str]:
        """One cheap call: HEAD the bucket."""
        try:
            self.store.check()
        except Exception as exc:  # noqa: BLE001 - the UI shows the message
            return False, str(exc)
        return True, f"bucket {self.store.config.bucket} reachable"
