"""``PublishPlanOperator``: announce the plan this warehouse build exported (pointer + asset event extra)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator

from boostqa.synthesize.plans import publish_plan
from boostqa_airflow.constants import S3_CONN_ID
from boostqa_airflow.failfast import fails_fast
from boostqa_airflow.hooks.lake import LakeHook
from boostqa_airflow.runs import hand_over


@fails_fast
class PublishPlanOperator(BaseOperator):
    """Point ``plans/latest.json`` at this run's ``plan_id`` and hand the id to the outlets' events."""

    template_fields: Sequence[str] = ("plan_id",)

    def __init__(self, *, plan_id: str, lake_conn_id: str = S3_CONN_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.plan_id, self.lake_conn_id = plan_id, lake_conn_id

    def execute(self, context: Any) -> dict[str, Any]:
        pointer = publish_plan(LakeHook(self.lake_conn_id).get_conn(), self.plan_id)
        extra = {"plan_id": self.plan_id, "jobs": pointer["jobs"]}
        hand_over(context, self.outlets, extra)
        self.log.info("plan %s: %d jobs (s3 plans/plan_id=%s/)", self.plan_id, pointer["jobs"], self.plan_id)
        return extra
