"""Object stores for source filings: a local folder (embedded default) or S3 / S3-compatible (MinIO, R2...).

Keys are '/'-separated paths relative to the store's root (folder, or bucket + prefix). `etag` is a cheap
change marker from the listing (S3's ETag; size + mtime for files): the updater hashes the content only
when it changes, and decides on the content hash."""

from __future__ import annotations

import os
from pathlib import Path

from finrag.storage.base import ObjectInfo, ObjectStore, split_s3_uri
from finrag.storage.local import LocalObjectStore

__all__ = ["LocalObjectStore", "ObjectInfo", "ObjectStore", "open_store", "split_s3_uri"]


def open_store(uri: str, **s3_options: object) -> ObjectStore:
    """`s3://bucket/prefix` (endpoint from FINRAG_S3_ENDPOINT_URL / AWS_ENDPOINT_URL for MinIO & co.) or a folder."""
    if uri.startswith("s3://"):
        from finrag.storage.s3 import S3ObjectStore

        bucket, prefix = split_s3_uri(uri)
        endpoint = s3_options.pop("endpoint_url", None) or os.environ.get("FINRAG_S3_ENDPOINT_URL") or None
        return S3ObjectStore(bucket, prefix, endpoint_url=endpoint, **s3_options)  # type: ignore[arg-type]
    return LocalObjectStore(Path(uri.removeprefix("file://")))
