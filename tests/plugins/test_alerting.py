from __future__ import annotations

import asyncio
import json
import threading
import warnings
from typing import Any

import pytest

with warnings.catch_warnings():  # stdlib on 3.11 (deprecated): a real SMTP server for the email path
    warnings.simplefilter("ignore", DeprecationWarning)
    import asyncore
    import smtpd

from boostqa_airflow.alerting import OnCallNotifier, deliver, notify_deadline_missed
from boostqa_airflow.hooks.alerts import AlertChannels, AlertHook
from tests.conftest import WebhookReceiver


class _Ti:
    dag_id, task_id, run_id, map_index, try_number, max_tries = "midtrain", "train", "manual__1", -1, 2, 1
    log_url = "http://airflow.example/log"


def _set_alerts(monkeypatch: pytest.MonkeyPatch, **fields: Any) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_BOOSTQA_ALERTS", json.dumps({"conn_type": "http", **fields}))


def test_hook_reads_webhook_from_the_password_and_emails_from_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    _set_alerts(monkeypatch, password="https://hooks.slack.com/services/T/B/X",
                extra={"emails": "oncall@example.org, ml@example.org", "smtp_conn_id": "smtp_ops"})
    channels = AlertHook().get_conn()
    assert channels == AlertChannels("https://hooks.slack.com/services/T/B/X",
                                     ["oncall@example.org", "ml@example.org"], "smtp_ops")


def test_without_the_connection_alerts_go_to_the_log_only(monkeypatch: pytest.MonkeyPatch,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_BOOSTQA_ALERTS", raising=False)
    assert not AlertHook().get_conn().configured
    OnCallNotifier("task").notify({"ti": _Ti(), "exception": MemoryError("CUDA out of memory")})
    assert "ALERT [boostqa] task failed: midtrain.train (manual__1)" in caplog.text


def test_task_notifier_posts_the_failure_with_training_runbook_entries(monkeypatch: pytest.MonkeyPatch,
                                                                       webhook: WebhookReceiver) -> None:
    _set_alerts(monkeypatch, password=webhook.url)
    OnCallNotifier("task").notify({"ti": _Ti(), "exception": MemoryError("CUDA out of memory")})
    [payload] = webhook.payloads
    assert "MemoryError: CUDA out of memory" in str(payload["text"])
    assert "#7-training-oom-or-preemption" in str(payload["text"])


def test_a_dead_webhook_does_not_raise_out_of_the_callback(monkeypatch: pytest.MonkeyPatch,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    import boostqa_airflow.alerting
    from boostqa.ops.alerts import Alert, post_webhook

    monkeypatch.setattr(boostqa_airflow.alerting, "post_webhook", post_webhook.retry_with(wait=lambda _: 0))

    dead = WebhookReceiver(fail_first=100)
    dead.close()  # nothing listens any more: connection refused on every try
    sent = deliver(Alert(kind="dag_failed", dag_id="midtrain", run_id="r"), AlertChannels(webhook_url=dead.url))
    assert sent == [] and "could not deliver the alert to the webhook" in caplog.text


def test_deadline_callback_reports_the_run_still_going(monkeypatch: pytest.MonkeyPatch,
                                                       webhook: WebhookReceiver) -> None:
    _set_alerts(monkeypatch, password=webhook.url)
    context = {"dag_run": {"dag_id": "qa_synthesis", "dag_run_id": "scheduled__2026-11-24", "state": "running"},
               "deadline": {"id": "d1", "deadline_time": "2026-11-26T00:00:00+00:00"}}
    asyncio.run(notify_deadline_missed(context=context, dag_id="qa_synthesis", budget="2 days, 0:00:00"))
    [payload] = webhook.payloads
    text = str(payload["text"])
    assert "past its deadline" in text and "`qa_synthesis`" in text and "scheduled__2026-11-24" in text
    assert "still running 2 days, 0:00:00 after it was queued" in text


class _Recorder(smtpd.SMTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), None)
        self.messages: list[tuple[list[str], str]] = []

    def process_message(self, peer: Any, mailfrom: str, rcpttos: list[str], data: Any, **kwargs: Any) -> None:
        self.messages.append((rcpttos, data.decode() if isinstance(data, bytes) else data))


def test_email_alerts_go_through_the_smtp_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    server = _Recorder()
    port = server.socket.getsockname()[1]
    loop = threading.Thread(target=asyncore.loop, kwargs={"timeout": 0.1}, daemon=True)
    loop.start()
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_OPS", json.dumps(
        {"conn_type": "smtp", "host": "127.0.0.1", "port": port,
         "extra": {"disable_tls": True, "disable_ssl": True, "from_email": "airflow@example.org"}}))
    _set_alerts(monkeypatch, extra={"emails": ["oncall@example.org"], "smtp_conn_id": "smtp_ops"})
    try:
        OnCallNotifier("task").notify({"ti": _Ti(), "exception": MemoryError("CUDA out of memory")})
    finally:
        server.close()
    [(to, message)] = server.messages
    assert to == ["oncall@example.org"]
    assert "[boostqa] task failed: midtrain.train (manual__1)" in message


def test_dags_test_runs_get_no_deadline_but_the_scheduler_does(monkeypatch: pytest.MonkeyPatch) -> None:
    from boostqa_airflow.alerting import dag_operations

    monkeypatch.setattr("sys.argv", ["airflow", "scheduler"])
    assert dag_operations("qa_synthesis")["deadline"] is not None
    monkeypatch.setattr("sys.argv", ["/venv/lib/airflow/__main__.py", "dags", "test", "qa_synthesis", "2026-11-26"])
    operations = dag_operations("qa_synthesis")
    assert operations["deadline"] is None and operations["on_failure_callback"]  # alerts stay on
