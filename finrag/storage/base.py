"""Object store records and protocol (see finrag.storage)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable


@dataclass(slots=True, frozen=True)
class ObjectInfo:
    key: str
    size: int
    etag: str
    modified: float  # epoch seconds


@runtime_checkable
class ObjectStore(Protocol):
    @property
    def uri(self) -> str:
        """Where this store points (a folder path or s3://bucket/prefix); names the updater's state."""
        ...

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]: ...

    def head(self, key: str) -> ObjectInfo | None: ...

    def get(self, key: str) -> bytes: ...

    def download(self, key: str, dest: Path) -> Path:
        """Write the object to `dest` atomically (temp file + rename); returns `dest`."""
        ...

    def put(self, key: str, data: bytes) -> ObjectInfo: ...

    def delete(self, key: str) -> None: ...

    def local_path(self, key: str) -> Path | None:
        """The object's own file when the store is a folder (no copy needed), else None."""
        ...


def split_s3_uri(uri: str) -> tuple[str, str]:
    rest = uri.removeprefix("s3://")
    bucket, _, prefix = rest.partition("/")
    return bucket, prefix.strip("/")
