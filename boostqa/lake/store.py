"""S3 object store access (SeaweedFS here, AWS S3 or MinIO in production) with retries on transient errors."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar, cast

from pydantic import BaseModel, ConfigDict, SecretStr
from tenacity import retry, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from boostqa.errors import LakeDenied, LakeError

if TYPE_CHECKING:
    from botocore.exceptions import ClientError
    from types_boto3_s3 import S3Client

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])
# Error codes that no retry heals: the credentials, their policy or the bucket are wrong (docs/runbook.md).
DENIED_CODES = frozenset({"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "NoSuchBucket",
                          "AllAccessDisabled", "AccountProblem", "InvalidToken", "ExpiredToken"})


class LakeConfig(BaseModel):
    """Where the lake lives and how to sign requests; built from the ``boostqa_s3`` connection in Airflow."""

    model_config = ConfigDict(frozen=True)

    endpoint_url: str | None = None
    access_key: str
    secret_key: SecretStr
    bucket: str
    region: str = "us-east-1"

    def uri(self, key: str) -> str:
        """``s3://bucket/key`` for logs, manifests and XCom."""
        return f"s3://{self.bucket}/{key}"


def _status(exc: ClientError) -> int:
    """The HTTP status of a botocore ClientError (0 when the response has none)."""
    return exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)


def _is_transient(exc: BaseException) -> bool:
    """Connection drops, throttling and 5xx are worth a retry; 4xx client errors are not."""
    from botocore.exceptions import ClientError, ConnectionError, ReadTimeoutError

    if isinstance(exc, ConnectionError | ReadTimeoutError):
        return True
    if isinstance(exc, ClientError):
        return _status(exc) >= 500 or exc.response.get("Error", {}).get("Code") in {"SlowDown", "Throttling"}
    return False


def _is_denied(exc: ClientError) -> bool:
    return _status(exc) == 403 or exc.response.get("Error", {}).get("Code") in DENIED_CODES


def _denied(method: F) -> F:
    """Turn a refusal no retry heals into ``LakeDenied`` naming the bucket, the key or prefix and what to check."""

    @functools.wraps(method)
    def call(self: ObjectStore, target: str | list[str], *args: Any, **kwargs: Any) -> Any:
        from botocore.exceptions import ClientError

        try:
            return method(self, target, *args, **kwargs)
        except ClientError as exc:
            if not _is_denied(exc):
                raise
            error = exc.response.get("Error", {})
            bucket = kwargs.get("bucket") or self.config.bucket
            if isinstance(target, list):  # delete_keys: name the first key
                target = target[0] + (f" (and {len(target) - 1} more)" if len(target) > 1 else "") if target else ""
            raise LakeDenied(
                f"{method.__name__} s3://{bucket}/{target} refused: {error.get('Code', '?')} (HTTP {_status(exc)}) "
                f"{error.get('Message', '')}. Check the Airflow connection boostqa_s3 (its login and password, and "
                f"that its policy grants this prefix; infra/policies/) and that bucket {bucket!r} exists at "
                f"{self.config.endpoint_url or 'AWS'}. Retrying will not help"
            ) from exc

    return cast(F, call)


_retry = retry(
    retry=retry_if_exception(_is_transient),
    stop=stop_after_attempt(5),
    wait=wait_exponential_jitter(multiplier=0.5, max=8),
    reraise=True,
)


class ObjectStore:
    """Thin, retrying wrapper over boto3 for the handful of calls the pipeline makes."""

    def __init__(self, config: LakeConfig) -> None:
        self.config = config

    @cached_property
    def client(self) -> S3Client:
        """The boto3 S3 client, created on first use (path-style addressing works with every S3 server)."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.config.endpoint_url,
            aws_access_key_id=self.config.access_key,
            aws_secret_access_key=self.config.secret_key.get_secret_value(),
            region_name=self.config.region,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}, connect_timeout=5),
        )

    @_denied
    @_retry
    def put_bytes(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        """Write one object; an S3 PUT replaces the whole object atomically."""
        self.client.put_object(Bucket=self.config.bucket, Key=key, Body=data, ContentType=content_type)

    @_denied
    @_retry
    def get_bytes(self, key: str, bucket: str | None = None) -> bytes:
        """Read one object."""
        response = self.client.get_object(Bucket=bucket or self.config.bucket, Key=key)
        body: bytes = response["Body"].read()
        return body

    def get_bytes_or_none(self, key: str) -> bytes | None:
        """Read one object, or None where it does not exist."""
        from botocore.exceptions import ClientError

        try:
            return self.get_bytes(key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
                return None
            raise

    @_denied
    @_retry
    def list_keys(self, prefix: str, bucket: str | None = None) -> list[str]:
        """All keys under a prefix, sorted."""
        paginator = self.client.get_paginator("list_objects_v2")
        keys: list[str] = []
        for page in paginator.paginate(Bucket=bucket or self.config.bucket, Prefix=prefix):
            keys.extend(item["Key"] for item in page.get("Contents", []))
        return sorted(keys)

    @_denied
    @_retry
    def delete_keys(self, keys: list[str]) -> None:
        """Delete objects (no-op for an empty list).

        Raises:
            LakeError: the store refused to delete some keys (S3 answers 200 and lists them; each is named).
        """
        for start in range(0, len(keys), 1000):
            chunk: list[Any] = [{"Key": k} for k in keys[start : start + 1000]]
            response = self.client.delete_objects(Bucket=self.config.bucket, Delete={"Objects": chunk, "Quiet": True})
            if errors := response.get("Errors"):
                failed = ", ".join(f"{e.get('Key')} ({e.get('Code')}: {e.get('Message')})" for e in errors[:5])
                denied = any(e.get("Code") in DENIED_CODES for e in errors)
                raise (LakeDenied if denied else LakeError)(
                    f"could not delete {len(errors)} of {len(chunk)} objects in s3://{self.config.bucket}/: {failed}"
                    + (". Check that the boostqa_s3 connection's policy grants s3:DeleteObject" if denied else ""))

    def ensure_bucket(self) -> bool:
        """Create the bucket if it is missing; False while the endpoint cannot answer (callers poll).

        Raises:
            LakeError: the store refused (403: these credentials may not see or create the bucket).
        """
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.head_bucket(Bucket=self.config.bucket)
            return True
        except BotoCoreError:
            return False
        except ClientError as exc:
            if _status(exc) == 403:
                raise LakeError(f"access to bucket {self.config.bucket!r} denied: these credentials may not "
                                "read or create it (an admin, or the warehouse role plus s3:CreateBucket)") from exc
        # Missing (404): create it; outside us-east-1 S3 wants the region spelled out.
        # Any: the S3 stubs spell LocationConstraint as a Literal of AWS regions; ours is any string (SeaweedFS, MinIO).
        extra: dict[str, Any] = ({} if self.config.region == "us-east-1"
                                 else {"CreateBucketConfiguration": {"LocationConstraint": self.config.region}})
        try:
            self.client.create_bucket(Bucket=self.config.bucket, **extra)
        except BotoCoreError:
            return False
        except ClientError as exc:
            if _status(exc) == 403:
                raise LakeError(f"creating bucket {self.config.bucket!r} was refused: {exc}") from exc
            return False
        return True

    def check(self) -> None:
        """Fail with a clear message when the bucket cannot be reached.

        Raises:
            LakeError: the endpoint is down, the credentials are wrong or the bucket is missing.
        """
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.head_bucket(Bucket=self.config.bucket)
        except (BotoCoreError, ClientError) as exc:
            raise LakeError(
                f"cannot reach bucket {self.config.bucket!r} at {self.config.endpoint_url or 'AWS'}: {exc}. "
                "Is the store up (`boostqa stack status`) and are the boostqa_s3 credentials right?"
            ) from exc
