"""``SourceFreshnessOperator``: how fresh the lake's tables are, judged as of the DAG run; fails on a stale error."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException

from boostqa.freshness import judge
from boostqa_airflow.constants import S3_CONN_ID, WAREHOUSE_CONN_ID
from boostqa_airflow.dbt import source_freshness
from boostqa_airflow.failfast import fails_fast


def run_time(context: Any) -> datetime:
    """The time a run stands for: its logical date (a backfill's or a replayed day's), else when it was due.

    Asset-triggered runs have no logical date.
    """
    when: datetime = context.get("logical_date") or context["dag_run"].run_after
    return when


@fails_fast
class SourceFreshnessOperator(BaseOperator):
    """Run ``dbt source freshness`` and log one line per table past its ``warn_after`` or ``error_after``.

    Each line gives the age, the newest load and the thresholds. A table past ``error_after`` fails the task without
    retry (a retry will not make it fresh), a table dbt could not read fails it with retries (a lock or an S3 blip),
    warnings only log.
    """

    def __init__(self, *, warehouse_conn_id: str = WAREHOUSE_CONN_ID, lake_conn_id: str = S3_CONN_ID,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.warehouse_conn_id, self.lake_conn_id = warehouse_conn_id, lake_conn_id

    def execute(self, context: Any) -> dict[str, Any]:
        report = judge(source_freshness(self.warehouse_conn_id, self.lake_conn_id), run_time(context))
        report.log(self.log)
        if unreadable := report.with_status("runtime error"):
            raise RuntimeError(f"dbt could not check {[s.source for s in unreadable]}: see the lines above")
        if stale := report.with_status("error"):
            raise AirflowFailException("stale lake tables: " + "; ".join(s.describe(report.as_of) for s in stale))
        return report.summary()
