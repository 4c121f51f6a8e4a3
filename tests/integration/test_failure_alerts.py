"""A failing task under real Airflow (`airflow dags test`) alerts the webhook twice: the task, then the DAG run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from boostqa.settings import BoostqaSettings
from boostqa_dev.stack.airflow_home import airflow_env
from tests.conftest import WebhookReceiver

pytestmark = pytest.mark.integration

PROBE_DAG = '''
from datetime import datetime

from airflow.sdk import DAG, task

from boostqa_airflow.alerting import dag_operations

with DAG(dag_id="alert_probe", schedule=None, start_date=datetime(2026, 1, 1), catchup=False,
         **dag_operations("alert_probe")):

    @task(retries=0)
    def fetch_source() -> None:
        raise RuntimeError("seed source answered HTTP 404 for https://example.org/seeds.jsonl")

    fetch_source()
'''


def test_a_failed_task_posts_a_task_alert_and_a_run_alert(stack: BoostqaSettings, tmp_path: Path,
                                                         webhook: WebhookReceiver) -> None:
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "alert_probe.py").write_text(PROBE_DAG)
    env = {**os.environ, **airflow_env(stack), "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
           "BOOSTQA_RUNBOOK_URL": "https://git.example.org/runbook.md",
           "AIRFLOW_CONN_BOOSTQA_ALERTS": json.dumps({"conn_type": "http", "password": webhook.url})}
    result = subprocess.run([sys.executable, "-m", "airflow", "dags", "test", "alert_probe", "2026-11-26"],
                            env=env, capture_output=True, text=True, timeout=300, check=False)
    output = result.stdout + result.stderr
    texts = [str(p["text"]) for p in webhook.payloads]
    assert len(texts) == 2, output[-4000:]
    task_alert, run_alert = texts
    assert "task failed" in task_alert and "`alert_probe` / `fetch_source`" in task_alert
    assert "RuntimeError: seed source answered HTTP 404" in task_alert
    assert "try: 1 of 1" in task_alert and "log: http" in task_alert
    assert "<https://git.example.org/runbook.md|Runbook>" in task_alert
    assert "DAG run failed" in run_alert and "`alert_probe`" in run_alert
    # The webhook URL is a secret (Slack's token is in its path): Airflow masks it in the logs.
    assert webhook.url not in output
