"""Object stores for source filings: a local folder (embedded default) or S3 / S3-compatible (MinIO, R2...).

Keys are '/'-separated paths relative to the store's root (folder, or bucket + prefix). `etag` is a cheap
change marker from the listing (S3's ETag; size + mtime for files): the updater hashes the content only
when it changes, and decides on the content hash."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from finrag.storage.base import ObjectInfo, ObjectStore, split_s3_uri
from finrag.storage.local import LocalObjectStore

if TYPE_CHECKING:
    from finrag.settings import S3Settings

__all__ = ["LocalObjectStore", "ObjectInfo", "ObjectStore", "open_store", "split_s3_uri"]


def open_store(uri: str, s3: S3Settings | None = None, **s3_options: object) -> ObjectStore:
    """`s3://bucket/prefix` (endpoint and region from the settings' `s3` section, FINRAG_S3_*, for MinIO
    & co.) or a folder."""
    if uri.startswith("s3://"):
        from finrag.storage.s3 import S3ObjectStore

        bucket, prefix = split_s3_uri(uri)
        endpoint = s3_options.pop("endpoint_url", None) or (s3.endpoint_url if s3 is not None else "") or None
        if s3 is not None:
            s3_options.setdefault("region_name", s3.region)
        return S3ObjectStore(bucket, prefix, endpoint_url=endpoint, **s3_options)  # type: ignore[arg-type]
    return LocalObjectStore(Path(uri.removeprefix("file://")))
