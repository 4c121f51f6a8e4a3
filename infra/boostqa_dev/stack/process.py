"""Start and stop background services by PID file, each in its own process group so nothing is left behind."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from boostqa.errors import StackError
from boostqa.launch.local import pid_alive

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServiceProcess:
    """A long-running service the stack owns: its command, environment, log and PID files."""

    name: str
    argv: list[str]
    state_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None

    @property
    def pid_file(self) -> Path:
        """Where the service's PID is kept."""
        return self.state_dir / "pids" / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        """Where the service's output goes."""
        return self.state_dir / "logs" / f"{self.name}.log"


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def read_pid(service: ServiceProcess) -> int | None:
    """The PID recorded for the service if that process is still ours (guards against PID reuse)."""
    try:
        recorded = json.loads(service.pid_file.read_text())
    except (OSError, ValueError):
        return None
    pid = int(recorded["pid"])
    cmdline = _cmdline(pid)
    # The program name and the first arguments (e.g. `-m vllm...`) must match: python-based services differ there.
    if not all(part in cmdline for part in [Path(recorded["argv0"]).name, *recorded.get("args", [])]):
        return None
    return pid


def start(service: ServiceProcess) -> int:
    """Start the service unless it already runs; return its PID."""
    existing = read_pid(service)
    if existing:
        log.info("%s already running (pid %d)", service.name, existing)
        return existing
    service.log_file.parent.mkdir(parents=True, exist_ok=True)
    service.pid_file.parent.mkdir(parents=True, exist_ok=True)
    with service.log_file.open("ab") as log_handle:
        process = subprocess.Popen(  # noqa: S603 - argv is built by the stack, never from user text
            service.argv,
            stdout=log_handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **service.env},
            cwd=service.cwd,
            start_new_session=True,
        )
    record = {"pid": process.pid, "argv0": service.argv[0], "args": service.argv[1:3]}
    service.pid_file.write_text(json.dumps(record))
    log.info("started %s (pid %d), log %s", service.name, process.pid, service.log_file)
    return process.pid


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return any(pid_alive(int(p.name)) for p in Path("/proc").iterdir()
               if p.name.isdigit() and _pgid(int(p.name)) == pgid)


def _pgid(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


def _reap(pid: int, timeout: float = 5.0) -> None:
    """Collect the exit status when the service is our own child, so no zombie is left behind.

    A multi-threaded leader shows as a zombie before its last thread is gone; only then can it be reaped.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == pid or time.monotonic() > deadline:
                return
        except ChildProcessError:
            return  # not our child: its own parent (or init) reaps it
        time.sleep(0.05)


def stop(service: ServiceProcess, timeout: float = 20.0) -> bool:
    """Stop the service's whole process group (SIGINT, then SIGTERM, then SIGKILL); True if it was running."""
    pid = read_pid(service)
    service.pid_file.unlink(missing_ok=True)
    if pid is None:
        return False
    pgid = pid  # started with start_new_session=True, so the leader's PID is the group id
    for sig, grace in ((signal.SIGINT, timeout / 2), (signal.SIGTERM, timeout / 2), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and _group_alive(pgid):
            time.sleep(0.2)
        if not _group_alive(pgid):
            break
    _reap(pid)
    if _group_alive(pgid):
        raise StackError(f"{service.name} (process group {pgid}) survived SIGKILL; inspect with `ps -g {pgid}`")
    log.info("stopped %s (pid %d)", service.name, pid)
    return True
