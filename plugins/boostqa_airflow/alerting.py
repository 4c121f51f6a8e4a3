"""On-call alerting for every DAG: failure callbacks (task and run), deadline alerts per stage, shared defaults."""

from __future__ import annotations

import asyncio
import logging
import sys
from datetime import timedelta
from typing import Any, Literal, cast

# airflow/sdk/__init__.pyi (3.3.2) leaves out the deadline names that airflow/sdk/__init__.py exports.
from airflow.sdk import AsyncCallback, Context, DeadlineAlert, DeadlineReference  # type: ignore[attr-defined]
from airflow.sdk.bases.notifier import BaseNotifier

from boostqa.ops.alerts import Alert, email_body, post_webhook, slack_payload
from boostqa.settings import get_settings
from boostqa_airflow.constants import ALERTS_CONN_ID, OWNER
from boostqa_airflow.hooks.alerts import AlertChannels, AlertHook
from boostqa_airflow.runs import MACROS

log = logging.getLogger(__name__)

# How long after a run is queued it should be done, per DAG, at production sizes (the embedded demo finishes each
# in minutes). A miss alerts; it does not stop the run. See docs/runbook.md "Stuck DAG run".
STAGE_DEADLINES: dict[str, timedelta] = {
    "seed_ingest": timedelta(hours=2),
    "seed_annotate": timedelta(hours=12),
    "warehouse_build": timedelta(hours=1),
    "qa_synthesis": timedelta(hours=48),
    "mixture_export": timedelta(hours=4),
    "midtrain": timedelta(days=7),
    "benchmark_eval": timedelta(hours=12),
    "scaling_sweep": timedelta(days=14),  # a grid of training runs: sized for a production grid
    "anneal_probe": timedelta(days=2),  # two short anneals and their evaluations
}


def deliver(alert: Alert, channels: AlertChannels, context: Context | None = None) -> list[str]:
    """Send the alert to every configured channel; a failing channel is logged, never raised.

    Returns the channels that took it.
    """
    runbook_url = get_settings().runbook_url
    log.error("ALERT %s", alert.subject)
    sent: list[str] = []
    if channels.webhook_url:
        try:
            post_webhook(channels.webhook_url, slack_payload(alert, runbook_url))
            sent.append("webhook")
        except Exception:  # an alert must never mask the failure it reports
            log.exception("could not deliver the alert to the webhook")
    if channels.emails:
        try:
            from airflow.providers.smtp.notifications.smtp import SmtpNotifier

            SmtpNotifier(to=channels.emails, subject=alert.subject, html_content=email_body(alert, runbook_url),
                         smtp_conn_id=channels.smtp_conn_id).notify(context or {})
            sent.append("email")
        except Exception:
            log.exception("could not deliver the alert by email")
    return sent


def _alert_from_context(scope: Literal["task", "dag"], context: dict[str, Any]) -> Alert:
    ti = context.get("ti") or context.get("task_instance")
    dag_run = context.get("dag_run")
    dag_id = cast(str, getattr(ti, "dag_id", None) or getattr(dag_run, "dag_id", None)
                  or getattr(context.get("dag"), "dag_id", "?"))
    run_id = getattr(ti, "run_id", None) or getattr(dag_run, "run_id", None) or "?"
    if scope == "task" and ti is not None:
        exception = context.get("exception")
        return Alert(kind="task_failed", dag_id=dag_id, run_id=run_id, task_id=ti.task_id,
                     map_index=getattr(ti, "map_index", None), try_number=getattr(ti, "try_number", None),
                     max_tries=getattr(ti, "max_tries", None),
                     error=f"{type(exception).__name__}: {exception}" if exception else None,
                     log_url=getattr(ti, "log_url", None))
    return Alert(kind="dag_failed", dag_id=dag_id, run_id=run_id, detail=str(context.get("reason") or "") or None)


class OnCallNotifier(BaseNotifier):
    """A failed task (final try) or DAG run -> the ``boostqa_alerts`` connection's webhook and emails."""

    def __init__(self, scope: Literal["task", "dag"], alerts_conn_id: str = ALERTS_CONN_ID) -> None:
        super().__init__()
        self.scope = scope
        self.alerts_conn_id = alerts_conn_id

    def render_template_fields(self, context: Any, jinja_env: Any = None) -> None:
        """Nothing to render; and run callbacks get a SerializedDAG, which has no Jinja env (Airflow 3.3)."""

    def notify(self, context: Any) -> None:
        """Deliver the alert for this task or DAG run to the connection's channels."""
        alert = _alert_from_context(self.scope, context)
        deliver(alert, AlertHook(self.alerts_conn_id).get_conn(), context)


async def notify_deadline_missed(context: dict[str, Any] | None = None, **kwargs: Any) -> None:
    """Deadline callback (runs in the triggerer): the run named in ``context`` is still going past its budget."""
    dag_run = (context or {}).get("dag_run") or {}
    deadline = (context or {}).get("deadline") or {}
    alert = Alert(kind="deadline_missed", dag_id=dag_run.get("dag_id") or kwargs.get("dag_id", "?"),
                  run_id=dag_run.get("dag_run_id") or dag_run.get("run_id") or "?",
                  detail=f"still {dag_run.get('state', 'running')} {kwargs.get('budget', '')} after it was queued "
                         f"(deadline {deadline.get('deadline_time', '?')}); it keeps running")
    channels = await AlertHook(kwargs.get("alerts_conn_id", ALERTS_CONN_ID)).aget_conn()
    await asyncio.to_thread(deliver, alert, channels)


def stage_deadline(dag_id: str, budget: timedelta | None = None) -> DeadlineAlert:
    """Alert when a run of ``dag_id`` is not finished ``budget`` after it was queued.

    ``budget`` defaults to ``STAGE_DEADLINES[dag_id]``.
    """
    budget = budget or STAGE_DEADLINES[dag_id]
    return DeadlineAlert(
        reference=DeadlineReference.DAGRUN_QUEUED_AT, interval=budget,
        callback=AsyncCallback(notify_deadline_missed, kwargs={"dag_id": dag_id, "budget": str(budget)}),
    )


def _under_dags_test() -> bool:
    """Whether this process is ``airflow dags test`` (the embedded demo and the end-to-end tests run DAGs so).

    Airflow 3.3's ``dag.test()`` serializes the DAG in memory, so a successful run's deadline clean-up looks up
    the serialized alert (a dict) where the scheduler has the alert's database id, and the run crashes after its
    last task. The scheduler, the dag-processor and the triggerer are unaffected.
    """
    return sys.argv[1:3] == ["dags", "test"]


def dag_operations(dag_id: str) -> dict[str, Any]:
    """DAG keyword arguments every BoostQA DAG takes: owner, failure callbacks (run and task), the stage deadline.

    Retries are not here: they depend on the task's kind (boostqa_airflow.policy.retry_args). A DAG that is no
    pipeline stage (an ad-hoc one) gets the callbacks but no deadline, and so does every DAG under
    ``airflow dags test`` (see ``_under_dags_test``).
    """
    with_deadline = dag_id in STAGE_DEADLINES and not _under_dags_test()
    return {
        "default_args": {"owner": OWNER, "on_failure_callback": [OnCallNotifier("task")]},
        "on_failure_callback": [OnCallNotifier("dag")],
        "deadline": stage_deadline(dag_id) if with_deadline else None,
        # {{ boostqa_run_id(stage, dag_run, params) }}: the run id every stage writes under (boostqa_airflow.runs)
        "user_defined_macros": dict(MACROS),
    }
