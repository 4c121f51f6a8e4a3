"""`boostqa ops init-lake` (compose's init job) against the real SeaweedFS: creates the bucket and the schema parts,
and a second run changes nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from boostqa.lake.store import LakeConfig, ObjectStore
from boostqa.settings import BoostqaSettings

pytestmark = pytest.mark.integration


def test_init_lake_creates_the_bucket_and_schema_parts_idempotently(stack: BoostqaSettings) -> None:
    env = {**os.environ, "AWS_ACCESS_KEY_ID": stack.lake.access_key, "AWS_SECRET_ACCESS_KEY": stack.lake.secret_key}
    argv = [str(Path(sys.executable).parent / "boostqa"), "ops", "init-lake", "--endpoint", stack.s3_endpoint,
            "--bucket", "compose-init-probe", "--timeout-s", "30"]
    first = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert first.returncode == 0, first.stderr
    assert "lake ready: s3://compose-init-probe" in first.stdout
    store = ObjectStore(LakeConfig(endpoint_url=stack.s3_endpoint, bucket="compose-init-probe",
                                   access_key=stack.lake.access_key, secret_key=stack.lake.secret_key))
    keys = store.list_keys("")
    assert keys and all(k.endswith(".parquet") for k in keys)
    second = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert second.returncode == 0 and "(0 schema parts written)" in second.stdout
    assert store.list_keys("") == keys

    bad = subprocess.run(argv, env={k: v for k, v in env.items() if k != "AWS_SECRET_ACCESS_KEY"},
                         capture_output=True, text=True, timeout=120, check=False)
    assert bad.returncode == 1 and "AWS_SECRET_ACCESS_KEY" in bad.stderr + bad.stdout

    # A refused request (wrong secret: HTTP 403) stops at once with the reason, instead of polling until timeout.
    started = time.monotonic()
    denied = subprocess.run(argv, env={**env, "AWS_SECRET_ACCESS_KEY": "wrong-secret"}, capture_output=True,
                            text=True, timeout=120, check=False)
    assert denied.returncode == 1 and "denied" in denied.stderr + denied.stdout
    assert time.monotonic() - started < 25
