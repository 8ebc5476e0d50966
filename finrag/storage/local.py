"""Object store on a local folder (or a mounted volume shared by containers)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from finrag.storage.base import ObjectInfo, key_path


def _info(key: str, st: os.stat_result) -> ObjectInfo:
    # size + mtime in ns: changes whenever the file is rewritten, costs no read.
    return ObjectInfo(key=key, size=st.st_size, etag=f"{st.st_size:x}-{st.st_mtime_ns:x}", modified=st.st_mtime)


class LocalObjectStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @property
    def uri(self) -> str:
        return str(self.root.resolve())

    def _path(self, key: str) -> Path:
        return key_path(self.root, key)

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        if not self.root.exists():
            return
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                if name.startswith("."):  # editors' temp files, partial downloads
                    continue
                path = Path(dirpath) / name
                key = path.relative_to(self.root).as_posix()
                if not key.startswith(prefix):
                    continue
                try:
                    yield _info(key, path.stat())
                except FileNotFoundError:  # deleted while listing
                    continue

    def head(self, key: str) -> ObjectInfo | None:
        try:
            return _info(key, self._path(key).stat())
        except FileNotFoundError:
            return None

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def download(self, key: str, dest: Path) -> Path:
        return _atomic_write(dest, self.get(key))

    def put(self, key: str, data: bytes) -> ObjectInfo:
        path = _atomic_write(self._path(key), data)
        return _info(key, path.stat())

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def local_path(self, key: str) -> Path | None:
        return self._path(key)


def _atomic_write(dest: Path, data: bytes) -> Path:
    dest.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".tmp-")  # created 0600
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return dest
