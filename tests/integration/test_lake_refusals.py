"""S3 refusals on the real SeaweedFS: credentials it refuses are LakeDenied (bucket, key, what to check), at once."""

from __future__ import annotations

import time

import pytest

from boostqa.errors import LakeDenied, RunPermanent
from boostqa.lake.store import LakeConfig, ObjectStore
from boostqa.settings import BoostqaSettings

pytestmark = pytest.mark.integration


def _store(stack: BoostqaSettings, secret: str, bucket: str = "boostqa") -> ObjectStore:
    return ObjectStore(LakeConfig(endpoint_url=stack.s3_endpoint, bucket=bucket, access_key=stack.lake.access_key,
                                  secret_key=secret))  # type: ignore[arg-type]


def test_refused_credentials_fail_at_once_naming_the_bucket_key_and_connection(stack: BoostqaSettings) -> None:
    refused = _store(stack, "not-the-secret")
    started = time.monotonic()
    for call, target in ((lambda: refused.get_bytes("seeds/x.parquet"), "s3://boostqa/seeds/x.parquet"),
                         (lambda: refused.put_bytes("qa/y.parquet", b"1"), "s3://boostqa/qa/y.parquet"),
                         (lambda: refused.list_keys("raw/"), "s3://boostqa/raw/"),
                         (lambda: refused.delete_keys(["qa/z.parquet", "qa/w.parquet"]), "s3://boostqa/qa/z.parquet")):
        with pytest.raises(LakeDenied, match="boostqa_s3") as denied:
            call()
        assert target in str(denied.value) and "HTTP 403" in str(denied.value)
        assert isinstance(denied.value, RunPermanent)  # operators fail such a task without retries
    assert time.monotonic() - started < 10  # no backoff: a refusal is not an outage

    missing = _store(stack, stack.lake.secret_key, bucket="no-such-bucket-here")
    with pytest.raises(LakeDenied, match="bucket 'no-such-bucket-here' exists"):
        missing.list_keys("seeds/")
    assert _store(stack, stack.lake.secret_key).get_bytes_or_none("no/such/key.parquet") is None  # a missing key is
    # not a refusal
