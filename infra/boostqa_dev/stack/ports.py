"""Loopback port checks with errors that name the fix."""

from __future__ import annotations

import random
import socket
import time
from collections.abc import Callable

from boostqa.errors import StackError


def port_is_free(host: str, port: int) -> bool:
    """True when nothing listens on host:port and we may bind it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_ports(count: int, paired_offset: int, host: str = "127.0.0.1") -> list[int]:
    """``count`` distinct random ports p in 20000-28999, each free together with p + ``paired_offset``.

    SeaweedFS takes its http port + its gRPC offset. For private stacks beside a running one (tests, benchmarks).
    """
    chosen: list[int] = []
    rng = random.Random()
    while len(chosen) < count:
        port = rng.randrange(20_000, 29_000)
        if port not in chosen and port_is_free(host, port) and port_is_free(host, port + paired_offset):
            chosen.append(port)
    return chosen


def port_is_open(host: str, port: int) -> bool:
    """True when something accepts connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require_free(host: str, ports: dict[str, int]) -> None:
    """Raise a clear error for the first taken port.

    Raises:
        StackError: a port is in use; the message names the setting that moves it.
    """
    for label, port in ports.items():
        if not port_is_free(host, port):
            setting = label.split(".")[0].upper()
            raise StackError(
                f"port {port} ({label}) on {host} is already in use by another process. "
                f"Stop that process (`ss -ltnp 'sport = :{port}'` shows it) or choose another port, "
                f"e.g. `export BOOSTQA_PORTS__{setting}=<free port>`, then run `boostqa stack up` again."
            )


def wait_until(check: Callable[[], bool], what: str, timeout: float, log_hint: str,
               alive: Callable[[], bool] | None = None) -> None:
    """Poll ``check`` until it holds; give up early when ``alive`` says the process died.

    Raises:
        StackError: it did not hold within ``timeout`` seconds, or the process exited first.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if alive is not None and not alive():
            raise StackError(f"{what} exited during start-up; see {log_hint}")
        time.sleep(0.3)
    raise StackError(f"{what} did not become ready within {timeout:.0f}s; see {log_hint}")
