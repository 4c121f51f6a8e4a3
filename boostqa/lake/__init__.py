"""The data lake: bucket layout, the S3 object store, deterministic parquet writes and manifests."""
