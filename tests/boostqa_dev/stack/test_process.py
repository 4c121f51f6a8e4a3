from __future__ import annotations

import json
import os
import time
from pathlib import Path

from boostqa_dev.stack.process import ServiceProcess, read_pid, start, stop


def _pids_in_group(pgid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == pgid:
                    state = (entry / "stat").read_text().split(") ")[-1]
                    if not state.startswith("Z"):
                        found.append(int(entry.name))
            except (ProcessLookupError, FileNotFoundError):
                continue
    return found


def test_stop_kills_the_whole_process_group_including_children(tmp_path: Path) -> None:
    # The parent ignores SIGINT and SIGTERM, like `airflow standalone` children that outlive their parent.
    script = "trap '' INT TERM; sleep 300 & sleep 300 & wait"
    service = ServiceProcess(name="sleeper", argv=["/bin/bash", "-c", script], state_dir=tmp_path)
    pid = start(service)
    time.sleep(0.5)
    assert len(_pids_in_group(pid)) >= 3
    assert start(service) == pid  # idempotent: a running service is not started twice
    assert stop(service, timeout=2) is True
    assert _pids_in_group(pid) == []
    assert read_pid(service) is None
    assert stop(service) is False


def test_a_recycled_pid_is_not_taken_for_our_service(tmp_path: Path) -> None:
    service = ServiceProcess(name="ghost", argv=["/usr/bin/definitely-not-running"], state_dir=tmp_path)
    service.pid_file.parent.mkdir(parents=True)
    service.pid_file.write_text(json.dumps({"pid": os.getpid(), "argv0": service.argv[0]}))
    assert read_pid(service) is None
    assert stop(service) is False  # never signals a process that is not ours


def test_logs_go_to_the_state_folder(tmp_path: Path) -> None:
    service = ServiceProcess(name="echo", argv=["/bin/bash", "-c", "echo hello-from-service; sleep 30"],
                             state_dir=tmp_path)
    start(service)
    try:
        deadline = time.monotonic() + 5
        while "hello-from-service" not in service.log_file.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "hello-from-service" in service.log_file.read_text()
    finally:
        stop(service, timeout=2)
