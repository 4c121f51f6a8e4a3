from __future__ import annotations

import httpx
import pytest

from boostqa.ops.alerts import Alert, email_body, post_webhook, slack_payload
from tests.conftest import WebhookReceiver

RUNBOOK = "https://git.example.org/boostqa/blob/main/docs/runbook.md"


def _task_alert(error: str = "LlmUnavailable: generator at http://vllm:8000 refused the connection") -> Alert:
    return Alert(kind="task_failed", dag_id="qa_synthesis", run_id="scheduled__2026-11-26", task_id="synthesize_shard",
                 map_index=3, try_number=5, max_tries=4, error=error, log_url="http://airflow/log/1")


def test_task_alert_names_the_task_its_try_its_error_log_and_the_dag_s_runbook_entries() -> None:
    text = slack_payload(_task_alert(), RUNBOOK)["text"]
    assert "`qa_synthesis` / `synthesize_shard`" in text
    assert "map index: 3" in text and "try: 5 of 5" in text
    assert "refused the connection" in text and "http://airflow/log/1" in text
    # The LLM stage points at the LLM incidents first.
    assert text.index("#1-vllm-server-down") < text.index("#3-s3-outage")
    assert f"<{RUNBOOK}#2-429-storms-and-llm-timeouts|429 storms and LLM timeouts>" in text


def test_long_errors_are_cut_and_unknown_dags_link_the_runbook_top() -> None:
    alert = Alert(kind="dag_failed", dag_id="adhoc", run_id="manual__1", error="x" * 5000)
    text = slack_payload(alert, RUNBOOK)["text"]
    assert len(text) < 2000 and text.count("x") <= 1501
    assert f"<{RUNBOOK}|Runbook>" in text


def test_subject_and_email_body_escape_html() -> None:
    alert = _task_alert(error="ValueError: <script>")
    assert alert.subject == "[boostqa] task failed: qa_synthesis.synthesize_shard[3] (scheduled__2026-11-26)"
    body = email_body(alert, RUNBOOK)
    assert "&lt;script&gt;" in body and "<script>" not in body


def test_webhook_post_retries_a_503_then_delivers() -> None:
    receiver = WebhookReceiver(fail_first=2)
    try:
        post_webhook.retry_with(wait=lambda _: 0)(receiver.url, slack_payload(_task_alert(), RUNBOOK))  # type: ignore[attr-defined]
    finally:
        receiver.close()
    assert receiver.attempts == 3
    assert receiver.payloads[0]["blocks"][0]["text"]["type"] == "mrkdwn"  # type: ignore[index]


def test_webhook_post_gives_up_on_a_dead_endpoint() -> None:
    receiver = WebhookReceiver(fail_first=100)
    try:
        with pytest.raises(httpx.HTTPStatusError):
            post_webhook.retry_with(wait=lambda _: 0)(receiver.url, {"text": "x"})  # type: ignore[attr-defined]
    finally:
        receiver.close()
    assert receiver.attempts == 4
