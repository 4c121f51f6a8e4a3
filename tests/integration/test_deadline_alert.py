"""A stage deadline under the real scheduler and triggerer (`airflow standalone`): a run still going past its budget
posts a "past its deadline" alert to the webhook, while the run goes on."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from boostqa_dev.stack import airflow_home, ui
from boostqa_dev.stack.airflow_home import airflow_env
from boostqa_dev.stack.ports import port_is_open, wait_until
from boostqa_dev.stack.process import start, stop
from tests.conftest import WebhookReceiver, isolated_settings

pytestmark = pytest.mark.integration

PROBE_DAG = '''
import time
from datetime import datetime, timedelta

from airflow.sdk import DAG, task

from boostqa_airflow.alerting import dag_operations, stage_deadline

with DAG(dag_id="deadline_probe", schedule=None, start_date=datetime(2026, 1, 1), catchup=False,
         is_paused_upon_creation=False,
         **{**dag_operations("deadline_probe"),
            "deadline": stage_deadline("deadline_probe", budget=timedelta(seconds=5))}):

    @task
    def long_stage() -> None:
        time.sleep(90)

    long_stage()
'''


def test_a_run_past_its_deadline_alerts_through_the_triggerer(tmp_path: Path, webhook: WebhookReceiver) -> None:
    settings = isolated_settings(tmp_path / "state")
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "deadline_probe.py").write_text(PROBE_DAG)
    airflow_home.prepare(settings)
    extra = {"AIRFLOW__CORE__DAGS_FOLDER": str(dags), "BOOSTQA_RUNBOOK_URL": "https://git.example.org/runbook.md",
             "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
             "AIRFLOW_CONN_BOOSTQA_ALERTS": json.dumps({"conn_type": "http", "password": webhook.url})}
    spec = ui.airflow_service(settings)
    spec = dataclasses.replace(spec, env={**spec.env, **extra})
    env = {**os.environ, **airflow_env(settings), **extra}
    try:
        start(spec)
        wait_until(lambda: port_is_open(settings.host, settings.ports.airflow_api), "Airflow", 180,
                   str(spec.log_file))
        deadline = time.monotonic() + 180
        while True:  # the dag-processor must have parsed the file before a run can be triggered
            trigger = subprocess.run([sys.executable, "-m", "airflow", "dags", "trigger", "deadline_probe"], env=env,
                                     capture_output=True, text=True, timeout=120, check=False)
            if trigger.returncode == 0 or time.monotonic() > deadline:
                break
            time.sleep(5)
        assert trigger.returncode == 0, trigger.stderr[-2000:]
        wait_until(lambda: bool(webhook.payloads), "the deadline alert", 180, str(spec.log_file))
    finally:
        stop(spec)
    text = str(webhook.payloads[0]["text"])
    assert "past its deadline" in text and "`deadline_probe`" in text and "run: `manual__" in text
    assert "0:00:05 after it was queued" in text and "it keeps running" in text
    assert "<https://git.example.org/runbook.md|Runbook>" in text
