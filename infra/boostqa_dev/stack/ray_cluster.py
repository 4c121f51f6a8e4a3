"""The embedded Ray cluster: one head node on loopback that runs the heavy data jobs Airflow submits to it."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import signal
import sys
import urllib.request
from functools import partial
from pathlib import Path

from boostqa.errors import StackError
from boostqa.launch.local import pid_alive
from boostqa.settings import BoostqaSettings
from boostqa_dev.stack.airflow_home import settings_env
from boostqa_dev.stack.ports import require_free, wait_until
from boostqa_dev.stack.process import ServiceProcess, read_pid, start

log = logging.getLogger(__name__)
# Ray puts unix sockets under its temp folder (<temp>/session_<date>_<pid>/sockets/plasma_store); a socket path
# over 107 bytes cannot be bound, so a deep state folder gets a short temp folder of its own under /tmp.
_MAX_TEMP_DIR = 40


def temp_dir(settings: BoostqaSettings) -> Path:
    """Ray's session and spill folder for this state folder."""
    beside_state = settings.state_dir / "ray"
    if len(str(beside_state)) <= _MAX_TEMP_DIR:
        return beside_state
    digest = hashlib.sha1(str(settings.state_dir.resolve()).encode()).hexdigest()[:12]  # noqa: S324 - a name, not a MAC
    return Path("/tmp") / f"boostqa-ray-{digest}"  # noqa: S108 - per state folder, created by us


def ray_binary() -> str:
    """The ``ray`` command beside this interpreter (the pipeline venv).

    Raises:
        StackError: Ray is not installed in this environment.
    """
    beside_python = Path(sys.executable).parent / "ray"
    if not beside_python.exists():
        raise StackError("the `ray` command is missing: run `make install` (the pipeline venv installs ray)")
    return str(beside_python)


def cluster_env(settings: BoostqaSettings) -> dict[str, str]:
    """What the cluster's processes (and so every job's driver and workers) see.

    The venv's ``python`` first on PATH, so a job's entrypoint runs the pipeline's interpreter; the settings of the
    stack that started it; and the lake credentials, which a production cluster gets from its Secret.
    """
    return {
        **settings_env(settings),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "BOOSTQA_LAKE__ACCESS_KEY": settings.lake.access_key,
        "BOOSTQA_LAKE__SECRET_KEY": settings.lake.secret_key,
        "RAY_USAGE_STATS_ENABLED": "0",
    }


def service(settings: BoostqaSettings) -> ServiceProcess:
    """``ray start --head --block``: the head node in the foreground of its own process group."""
    p, ray = settings.ports, settings.ray
    argv = [
        ray_binary(), "start", "--head", "--block", "--disable-usage-stats",
        f"--node-ip-address={settings.host}", f"--port={p.ray_gcs}",
        "--include-dashboard=true", f"--dashboard-host={settings.host}", f"--dashboard-port={p.ray_dashboard}",
        f"--dashboard-agent-listen-port={p.ray_dashboard_agent}", f"--ray-client-server-port={p.ray_client}",
        f"--num-cpus={ray.num_cpus or os.cpu_count() or 1}",
        f"--object-store-memory={ray.object_store_mb * 1024 * 1024}",
        f"--temp-dir={temp_dir(settings)}",
    ]
    return ServiceProcess(name="ray", argv=argv, state_dir=settings.state_dir, env=cluster_env(settings))


def worker_service(settings: BoostqaSettings, name: str, num_cpus: int, agent_port: int) -> ServiceProcess:
    """``ray start --address --block``: one more node of the stack's cluster on this machine (tests, benches).

    A node of its own (raylet, object store, workers) joining the head's GCS: the shape of a multi-node cluster,
    on one machine. ``agent_port`` must be free (each node's dashboard agent listens on one).
    """
    argv = [
        ray_binary(), "start", f"--address={settings.host}:{settings.ports.ray_gcs}", "--block",
        "--disable-usage-stats", f"--node-ip-address={settings.host}", f"--num-cpus={num_cpus}",
        f"--dashboard-agent-listen-port={agent_port}",
        f"--object-store-memory={settings.ray.object_store_mb * 1024 * 1024}",
    ]
    return ServiceProcess(name=f"ray-{name}", argv=argv, state_dir=settings.state_dir, env=cluster_env(settings))


def version(address: str, timeout: float = 2.0) -> dict[str, object] | None:
    """The Jobs API's version document, or None when it does not answer."""
    try:
        with urllib.request.urlopen(f"{address}/api/version", timeout=timeout) as response:  # noqa: S310 - our URL
            return dict(json.load(response))
    except (OSError, ValueError):
        return None


def _kill_group(pgid: int) -> None:
    """SIGKILL every process left in a head's group (its GCS and raylet outlive a ``ray start`` that exited)."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def up(settings: BoostqaSettings, attempts: int = 2) -> str:
    """Start the head (if not running) and wait for its Jobs API; return a one-line status.

    ``ray start --block`` has been seen to exit during start-up, once in some fifteen starts, leaving its GCS and
    raylet behind: such a start is cleaned up and tried again, ``attempts`` times in all.
    """
    spec = service(settings)
    if read_pid(spec) is None:
        p = settings.ports
        require_free(settings.host, {"ray_dashboard": p.ray_dashboard, "ray_gcs": p.ray_gcs,
                                     "ray_client": p.ray_client, "ray_dashboard_agent": p.ray_dashboard_agent})
    temp_dir(settings).mkdir(parents=True, exist_ok=True)
    for attempt in range(1, attempts + 1):
        pid = start(spec)
        try:
            # Alive means the process we started still runs.
            wait_until(lambda: version(settings.ray_address) is not None, "Ray Jobs API",
                       settings.ray.startup_timeout_s, str(spec.log_file), alive=partial(pid_alive, pid))
        except StackError:
            _kill_group(pid)  # started with start_new_session: the leader's pid is the group id
            spec.pid_file.unlink(missing_ok=True)
            if attempt == attempts:
                raise
            log.warning("the Ray head did not start (attempt %d of %d); starting it again", attempt, attempts)
            continue
        return f"pid {pid}, Jobs API {settings.ray_address}"
    raise StackError("unreachable")  # the loop returns or raises


def health(settings: BoostqaSettings) -> tuple[bool, str]:
    """(healthy, detail): the head runs and its Jobs API answers."""
    pid = read_pid(service(settings))
    if pid is None:
        return False, "not running (start it: `boostqa stack up`)"
    found = version(settings.ray_address)
    if found is None:
        log_file = service(settings).log_file
        return False, f"pid {pid} but the Jobs API at {settings.ray_address} does not answer; see {log_file}"
    return True, f"pid {pid}, Ray {found.get('ray_version', '?')}, Jobs API {settings.ray_address}"
