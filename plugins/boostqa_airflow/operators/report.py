"""Operator that renders the HTML report (``boostqa report``) after the warehouse refreshed."""

from __future__ import annotations

import re
from typing import Any

from airflow.sdk import BaseOperator

from boostqa.report.html import write_report
from boostqa.settings import get_settings
from boostqa_airflow.constants import S3_CONN_ID
from boostqa_airflow.failfast import fails_fast
from boostqa_airflow.hooks.lake import LakeHook
from boostqa_airflow.runs import EVALUATION_KEY, hand_over


@fails_fast
class ReportOperator(BaseOperator):
    """Write ``reports/<id>/index.html`` locally and to S3; ``report_id`` defaults to the DAG run id."""

    template_fields = ("report_id",)

    def __init__(self, *, report_id: str = "", lake_conn_id: str = S3_CONN_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.report_id, self.lake_conn_id = report_id, lake_conn_id

    def execute(self, context: Any) -> dict[str, str | None]:
        report_id = re.sub(r"[^A-Za-z0-9_.-]+", "_", self.report_id or context["run_id"])
        path, uri = write_report(get_settings(), LakeHook(self.lake_conn_id).get_conn(), report_id)
        self.log.info("report: %s (%s)", path, uri)
        # marks this DAG's event as an evaluation's: a warehouse build that evaluations alone triggered re-plans only
        # on a changed probe (boostqa/synthesize/replan.py)
        hand_over(context, self.outlets, {EVALUATION_KEY: context["run_id"], "report_uri": uri})
        return {"path": str(path), "uri": uri}
