"""Object store records and protocol (see finrag.storage)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
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


def key_path(root: Path, key: str) -> Path:
    """Where `key` lives under a local folder (a store's root, or a mirror of a bucket). Keys that would
    leave it ("../x", "/x") or alias another key's file ("a//b", "a/./b" and "a/b/" all mean a/b) are
    refused: two different objects must never share, and overwrite, one file."""
    rel = PurePosixPath(key)
    if rel.is_absolute() or ".." in rel.parts:
        raise ValueError(f"key escapes the store: {key!r}")
    if not key:
        return root  # the folder itself (a listing root, never an object)
    if rel.as_posix() != key or "\0" in key:
        raise ValueError(f"key is not in normal form (one file per key): {key!r}")
    return root.joinpath(*rel.parts)
