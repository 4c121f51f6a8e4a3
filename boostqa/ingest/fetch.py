"""Fetch a seed source's bytes by kind: local file or glob, HTTP(S) URL, or S3 prefix."""

from __future__ import annotations

import glob
import logging
from dataclasses import dataclass
from pathlib import Path

from tenacity import retry, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from boostqa.errors import SourceError
from boostqa.ingest.config import SourceConfig
from boostqa.lake.store import ObjectStore

log = logging.getLogger(__name__)

FORMAT_SUFFIXES = {"jsonl": (".jsonl", ".ndjson"), "json": (".json",), "csv": (".csv",), "parquet": (".parquet",)}


@dataclass(frozen=True)
class SourceBlob:
    """One fetched file of a source."""

    name: str
    data: bytes


def fetch_source(source: SourceConfig, store: ObjectStore | None = None) -> list[SourceBlob]:
    """Return the source's files in a stable order.

    Raises:
        SourceError: nothing matched, or the source could not be fetched.
    """
    if source.kind == "local":
        blobs = _fetch_local(source.location)
    elif source.kind == "http":
        blobs = [_fetch_http(source.location)]
    elif source.kind == "s3":
        if store is None:
            raise SourceError(f"source {source.name!r} is on S3 but no object store was given")
        blobs = _fetch_s3(source, store)
    else:
        raise SourceError(f"source {source.name!r}: kind {source.kind!r} is read as records, not bytes")
    log.info("fetched %s: %d file(s), %d bytes", source.name, len(blobs), sum(len(b.data) for b in blobs))
    return blobs


def _fetch_local(pattern: str) -> list[SourceBlob]:
    paths = sorted(Path(p) for p in glob.glob(pattern, recursive=True))
    files = [p for p in paths if p.is_file()]
    if not files:
        raise SourceError(f"no file matches {pattern!r}")
    return [SourceBlob(name=str(p), data=p.read_bytes()) for p in files]


def _is_retryable_http(exc: BaseException) -> bool:
    import httpx

    if isinstance(exc, httpx.TransportError):
        return True
    return isinstance(exc, httpx.HTTPStatusError) and exc.response.status_code >= 500


@retry(
    retry=retry_if_exception(_is_retryable_http),
    stop=stop_after_attempt(4),
    wait=wait_exponential_jitter(multiplier=0.5, max=8),
    reraise=True,
)
def _get_url(url: str) -> bytes:
    import httpx

    response = httpx.get(url, follow_redirects=True, timeout=60)
    response.raise_for_status()
    return response.content


def _fetch_http(url: str) -> SourceBlob:
    import httpx

    try:
        return SourceBlob(name=url, data=_get_url(url))
    except httpx.HTTPError as exc:
        raise SourceError(f"cannot download {url}: {exc}") from exc


def _fetch_s3(source: SourceConfig, store: ObjectStore) -> list[SourceBlob]:
    if not source.location.startswith("s3://"):
        raise SourceError(f"source {source.name!r}: s3 location must look like s3://bucket/prefix")
    bucket, _, prefix = source.location[len("s3://") :].partition("/")
    suffixes = FORMAT_SUFFIXES[source.format]
    keys = [k for k in store.list_keys(prefix, bucket=bucket) if k.endswith(suffixes)]
    if not keys:
        raise SourceError(f"no {source.format} object under {source.location}")
    return [SourceBlob(name=f"s3://{bucket}/{k}", data=store.get_bytes(k, bucket=bucket)) for k in keys]
