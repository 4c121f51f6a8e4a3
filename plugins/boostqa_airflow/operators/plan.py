"""``PublishPlanOperator``: announce the plan this warehouse build exported (pointer + asset event extra).

A build that evaluations alone triggered announces its plan only when the deficiency probe moved (the loop's guard,
``boostqa/synthesize/replan.py``); otherwise the task is skipped and no ``boostqa_plan`` event starts synthesis.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowSkipException

from boostqa.synthesize.plans import publish_plan
from boostqa.synthesize.replan import ReplanConfig, replan_decision
from boostqa_airflow.constants import S3_CONN_ID
from boostqa_airflow.failfast import fails_fast
from boostqa_airflow.hooks.lake import LakeHook
from boostqa_airflow.params import validated
from boostqa_airflow.runs import hand_over, triggered_by_evaluations_only


@fails_fast
class PublishPlanOperator(BaseOperator):
    """Point ``plans/latest.json`` at this run's ``plan_id`` and hand the id to the outlets' events.

    Skipped (no event) when evaluations alone triggered the build and the probe did not move.
    """

    template_fields: Sequence[str] = ("plan_id", "stage_params")
    run_config: ClassVar[type[ReplanConfig]] = ReplanConfig

    def __init__(self, *, plan_id: str, stage_params: Mapping[str, Any] | None = None,
                 lake_conn_id: str = S3_CONN_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.plan_id, self.lake_conn_id = plan_id, lake_conn_id
        self.stage_params = dict(stage_params or {})

    def execute(self, context: Any) -> dict[str, Any]:
        config = validated(self.run_config, self.stage_params)
        store = LakeHook(self.lake_conn_id).get_conn()
        decision = replan_decision(store, self.plan_id, triggered_by_evaluations_only(context),
                                   config.replan_min_change, config.replan_max_rounds)
        if not decision.publish:
            self.log.info("plan %s not published: %s", self.plan_id, decision.reason)
            raise AirflowSkipException(f"plan {self.plan_id} not published: {decision.reason}")
        self.log.info("plan %s: publishing (%s)", self.plan_id, decision.reason)
        pointer = publish_plan(store, self.plan_id, evaluation_rounds=decision.evaluation_rounds)
        extra = {"plan_id": self.plan_id, "jobs": pointer["jobs"]}
        hand_over(context, self.outlets, extra)
        self.log.info("plan %s: %d jobs (s3 plans/plan_id=%s/)", self.plan_id, pointer["jobs"], self.plan_id)
        return extra
