"""``AlertHook``: the optional ``boostqa_alerts`` connection -> where on-call alerts go (webhook, email)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from airflow.sdk import BaseHook
from airflow.sdk.exceptions import AirflowNotFoundException

from boostqa_airflow.constants import ALERTS_CONN_ID


@dataclass(frozen=True)
class AlertChannels:
    """Destinations of one deployment's alerts; empty when alerting is not configured."""

    webhook_url: str | None = None
    emails: list[str] = field(default_factory=list)
    smtp_conn_id: str = "smtp_default"

    @property
    def configured(self) -> bool:
        """Whether any destination is set."""
        return bool(self.webhook_url or self.emails)


class AlertHook(BaseHook):
    """Connection fields: password = the incoming-webhook URL; extras ``emails`` (list) and ``smtp_conn_id``.

    The URL is a secret: Slack puts its token in the path, and Airflow masks passwords in logs. The extras are for email
    alerts.
    """

    conn_name_attr = "alerts_conn_id"
    default_conn_name = ALERTS_CONN_ID
    conn_type = "http"
    hook_name = "BoostQA on-call alerts"

    def __init__(self, alerts_conn_id: str = ALERTS_CONN_ID) -> None:
        super().__init__()
        self.alerts_conn_id = alerts_conn_id

    @staticmethod
    def _channels(conn: Any) -> AlertChannels:
        extra = conn.extra_dejson or {}
        emails = extra.get("emails") or []
        if isinstance(emails, str):
            emails = [e.strip() for e in emails.split(",") if e.strip()]
        return AlertChannels(webhook_url=conn.password or extra.get("webhook_url") or None, emails=list(emails),
                             smtp_conn_id=extra.get("smtp_conn_id", "smtp_default"))

    def get_conn(self) -> AlertChannels:
        """The configured channels; none (and a warning) when the connection is not defined."""
        try:
            return self._channels(self.get_connection(self.alerts_conn_id))
        except AirflowNotFoundException:
            self.log.warning("connection %r is not defined: alerts only reach the task log", self.alerts_conn_id)
            return AlertChannels()

    async def aget_conn(self) -> AlertChannels:
        """``get_conn`` for async callers (deadline callbacks run in the triggerer)."""
        try:
            return self._channels(await self.aget_connection(self.alerts_conn_id))
        except AirflowNotFoundException:
            self.log.warning("connection %r is not defined: alerts only reach the triggerer log", self.alerts_conn_id)
            return AlertChannels()
