"""Alerts for the people on call: what failed, where its log is, which runbook entries to check.

They go to a Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat and Teams workflows accept
``{"text": ...}``).
"""

from __future__ import annotations

import logging
from typing import Any, Literal

import httpx
from pydantic import BaseModel
from tenacity import retry, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from boostqa.ops.runbook import runbook_links

log = logging.getLogger(__name__)

AlertKind = Literal["task_failed", "dag_failed", "deadline_missed"]
_HEADLINES: dict[str, str] = {
    "task_failed": ":red_circle: task failed",
    "dag_failed": ":red_circle: DAG run failed",
    "deadline_missed": ":hourglass: DAG run past its deadline",
}
ERROR_CHARS = 1500  # enough for the exception and its message, short enough for a chat line


class Alert(BaseModel):
    """One event worth waking someone for."""

    kind: AlertKind
    dag_id: str
    run_id: str
    task_id: str | None = None
    map_index: int | None = None
    try_number: int | None = None
    max_tries: int | None = None
    error: str | None = None
    log_url: str | None = None
    detail: str | None = None

    @property
    def subject(self) -> str:
        """One line naming the event, e.g. for an email subject."""
        where = self.dag_id if self.task_id is None else f"{self.dag_id}.{self.task_id}"
        if self.map_index is not None and self.map_index >= 0:
            where += f"[{self.map_index}]"
        return f"[boostqa] {_HEADLINES[self.kind].split(' ', 1)[1]}: {where} ({self.run_id})"

    def lines(self, runbook_url: str) -> list[str]:
        """The alert as plain-text lines (Slack mrkdwn-safe): facts first, then what to read."""
        out = [f"*{_HEADLINES[self.kind]}*: `{self.dag_id}`" + (f" / `{self.task_id}`" if self.task_id else ""),
               f"run: `{self.run_id}`"]
        if self.map_index is not None and self.map_index >= 0:
            out.append(f"map index: {self.map_index}")
        if self.try_number is not None:
            tries = f"{self.try_number} of {self.max_tries + 1}" if self.max_tries is not None else str(self.try_number)
            out.append(f"try: {tries}")
        if self.detail:
            out.append(self.detail)
        if self.error:
            error = self.error if len(self.error) <= ERROR_CHARS else self.error[:ERROR_CHARS] + " …"
            out.append(f"error: ```{error}```")
        if self.log_url:
            out.append(f"log: {self.log_url}")
        links = ", ".join(f"<{url}|{title}>" for title, url in runbook_links(self.dag_id, runbook_url))
        out.append(f"runbook: {links}")
        return out


def slack_payload(alert: Alert, runbook_url: str) -> dict[str, Any]:
    """The JSON body for an incoming webhook: ``text`` (every client) plus one mrkdwn section block (Slack)."""
    text = "\n".join(alert.lines(runbook_url))
    return {"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]}


def email_body(alert: Alert, runbook_url: str) -> str:
    """The alert as a small HTML email body (SMTP notifier)."""
    import html

    items = "".join(f"<li>{html.escape(line)}</li>" for line in alert.lines(runbook_url))
    return f"<p>{html.escape(alert.subject)}</p><ul>{items}</ul>"


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, httpx.HTTPStatusError):
        return exc.response.status_code == 429 or exc.response.status_code >= 500
    return isinstance(exc, httpx.TransportError)


@retry(retry=retry_if_exception(_retryable), stop=stop_after_attempt(4), wait=wait_exponential_jitter(1, 10),
       reraise=True)
def post_webhook(url: str, payload: dict[str, Any], timeout_s: float = 10.0) -> None:
    """POST the payload; retries 429, 5xx and connection errors a few times (a chat outage must not hang a task).

    Raises:
        httpx.HTTPError: the webhook kept failing or refused the payload.
    """
    response = httpx.post(url, json=payload, timeout=timeout_s)
    response.raise_for_status()
    log.info("alert sent to the webhook (HTTP %d)", response.status_code)
