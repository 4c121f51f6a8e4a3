"""Client of the long-lived ``airflow dags test`` process (``boostqa_airflow.dag_runner``).

One per Airflow home and configuration, started on first use, restarted when either changes, stopped when this
process exits.
"""

from __future__ import annotations

import atexit
import json
import select
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from boostqa.errors import StackError


def _config_key(env: dict[str, str]) -> tuple[tuple[str, str], ...]:
    """What Airflow reads once at import: its home, its configuration, the import path.

    A runner serves requests whose key equals its own; any other change of environment is applied per run.
    """
    return tuple(sorted((k, v) for k, v in env.items()
                        if k in ("AIRFLOW_HOME", "PYTHONPATH") or k.startswith("AIRFLOW__")))


class DagRunner:
    """One runner process; ``run`` sends a request and waits for its reply, polling ``on_poll`` about each second."""

    def __init__(self, env: dict[str, str], log_file: Path) -> None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        self.key = _config_key(env)
        with log_file.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - a fixed module of ours
                [sys.executable, "-m", "boostqa_airflow.dag_runner"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=log, env=env, text=True)
        self.log_file = log_file

    def run(self, request: dict[str, object], on_poll: Callable[[], None]) -> dict[str, str]:
        """Run one request. Raises StackError when the runner dies (the next ``run_in_runner`` starts a new one)."""
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        while True:
            ready, _, _ = select.select([self.process.stdout], [], [], 1.0)
            on_poll()
            if ready:
                line = self.process.stdout.readline()
                if line:
                    return dict(json.loads(line))
            if ready or self.process.poll() is not None:
                raise StackError(f"the DAG runner exited with code {self.process.wait()}; read {self.log_file} "
                                 f"and {request['log_file']}")

    def close(self, wait_s: float = 30) -> None:
        """Close stdin (the runner exits when idle), wait up to ``wait_s``, then kill it."""
        if self.process.poll() is None:
            assert self.process.stdin
            self.process.stdin.close()
            try:
                self.process.wait(timeout=wait_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


_runner: DagRunner | None = None


def run_in_runner(env: dict[str, str], dag_id: str, logical_date: str, conf: dict[str, object] | None,
                  log_file: Path, on_poll: Callable[[], None]) -> dict[str, str]:
    """Run one DAG through the process-wide runner for ``env`` (the full environment of the run)."""
    global _runner  # noqa: PLW0603 - one runner per process, like a connection pool
    if _runner is not None and (_runner.key != _config_key(env) or _runner.process.poll() is not None):
        stop_runner()
    if _runner is None:
        _runner = DagRunner(env, log_file.parent / "dag_runner.log")
    request: dict[str, object] = {"dag_id": dag_id, "logical_date": logical_date, "conf": conf, "env": env,
                                  "log_file": str(log_file)}
    try:
        return _runner.run(request, on_poll)
    except BaseException:
        # a runner left mid-run (it died, or this process was interrupted) would answer the next request with this
        # run's reply: never reuse it
        stop_runner(wait_s=0)
        raise


def stop_runner(wait_s: float = 30) -> None:
    """Stop the runner of this process, if any."""
    global _runner  # noqa: PLW0603
    if _runner is not None:
        _runner.close(wait_s)
        _runner = None


atexit.register(stop_runner)
