"""The long-lived ``airflow dags test`` runner on the embedded Airflow home: runs succeed and fail as under the CLI,
each run sees its own environment and writes its own log, and a failed run leaves the runner serving."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from boostqa.settings import BoostqaSettings
from boostqa_dev.stack import dag_runs
from boostqa_dev.stack.airflow_home import airflow_env

pytestmark = pytest.mark.integration

PROBE_DAGS = '''
import os
from datetime import datetime
from pathlib import Path

from airflow.sdk import DAG, task

with DAG(dag_id="runner_probe", schedule=None, start_date=datetime(2026, 1, 1), catchup=False):

    @task(retries=0)
    def record(**context) -> None:
        Path(os.environ["PROBE_OUT"]).write_text(os.environ["PROBE_VALUE"] + " " + context["dag_run"].conf["word"])

    record()

with DAG(dag_id="runner_failing_probe", schedule=None, start_date=datetime(2026, 1, 1), catchup=False):

    @task(retries=0)
    def fail() -> None:
        raise RuntimeError("the probe fails on purpose")

    fail()
'''


def test_runs_fail_and_succeed_as_under_the_cli_with_their_own_environment(stack: BoostqaSettings,
                                                                          tmp_path: Path) -> None:
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "probes.py").write_text(PROBE_DAGS)
    out = tmp_path / "out.txt"
    base = {**os.environ, **airflow_env(stack), "AIRFLOW__CORE__DAGS_FOLDER": str(dags), "PROBE_OUT": str(out)}
    logs = tmp_path / "logs"
    try:
        first = dag_runs.run_in_runner(base | {"PROBE_VALUE": "one"}, "runner_probe", "2026-11-26",
                                       {"word": "alpha"}, logs / "first.log", lambda: None)
        assert first == {"state": "success"}, (logs / "first.log").read_text()[-3000:]
        assert out.read_text() == "one alpha"
        runner = dag_runs._runner
        assert runner is not None

        failed = dag_runs.run_in_runner(base, "runner_failing_probe", "2026-11-26", None, logs / "failed.log",
                                        lambda: None)
        assert failed["state"] == "failed"
        assert "the probe fails on purpose" in (logs / "failed.log").read_text()

        polls: list[int] = []
        again = dag_runs.run_in_runner(base | {"PROBE_VALUE": "two"}, "runner_probe", "2026-11-27",
                                       {"word": "beta"}, logs / "again.log", lambda: polls.append(1))
        assert again == {"state": "success"} and out.read_text() == "two beta"  # this run's environment
        assert dag_runs._runner is runner and polls  # the same process served all three, polling as it went
        assert "the probe fails on purpose" not in (logs / "again.log").read_text()  # each run its own log
    finally:
        process = dag_runs._runner.process if dag_runs._runner else None
        dag_runs.stop_runner()
    assert process is None or process.poll() is not None
