"""``PrepareLakeOperator``: make sure every lake table dbt reads exists (empty, typed) before dbt runs."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from airflow.sdk import BaseOperator

from boostqa.lake.bootstrap import ensure_schema_parts
from boostqa_airflow.constants import S3_CONN_ID
from boostqa_airflow.failfast import fails_fast
from boostqa_airflow.hooks.lake import LakeHook


@fails_fast
class PrepareLakeOperator(BaseOperator):
    """Write the empty schema parts that let dbt's source globs match on a fresh bucket."""

    def __init__(self, *, lake_conn_id: str = S3_CONN_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.lake_conn_id = lake_conn_id

    @cached_property
    def hook(self) -> LakeHook:
        return LakeHook(self.lake_conn_id)

    def execute(self, context: Any) -> list[str]:
        return ensure_schema_parts(self.hook.get_conn())
