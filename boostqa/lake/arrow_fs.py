"""The lake as a pyarrow file system: what Ray Data (and any Arrow reader) needs to read and write its parts."""

from __future__ import annotations

from urllib.parse import urlparse

import pyarrow.fs as pafs

from boostqa.lake.store import LakeConfig


def arrow_filesystem(config: LakeConfig) -> pafs.S3FileSystem:
    """An S3 file system signed with the lake's credentials (its endpoint's scheme and host when it has one)."""
    endpoint = urlparse(config.endpoint_url) if config.endpoint_url else None
    return pafs.S3FileSystem(
        access_key=config.access_key, secret_key=config.secret_key.get_secret_value(), region=config.region,
        endpoint_override=endpoint.netloc if endpoint else None, scheme=endpoint.scheme if endpoint else "https",
        allow_bucket_creation=False, allow_bucket_deletion=False)


def arrow_paths(config: LakeConfig, keys: list[str]) -> list[str]:
    """``bucket/key`` paths of lake keys, as ``arrow_filesystem`` names them."""
    return [f"{config.bucket}/{key}" for key in keys]


def parquet_rows(config: LakeConfig, keys: list[str]) -> int:
    """Rows of the lake's parquet objects ``keys``, from their footers (a ranged read each, no data)."""
    import pyarrow.parquet as pq

    fs = arrow_filesystem(config)
    total = 0
    for path in arrow_paths(config, keys):
        with fs.open_input_file(path) as handle:
            total += pq.ParquetFile(handle).metadata.num_rows
    return total
