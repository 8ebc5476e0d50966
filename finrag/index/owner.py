"""One owner process per embedded store: an OS lock (flock) on `<store folder>.lock` in the data folder.

The embedded Qdrant shard is not safe for two processes: a second one opening it damages the WAL the
first one is writing. So the store takes an exclusive, non-blocking `flock` before it opens anything and
holds it until it closes (the kernel drops it when the process dies, so a crash leaves no stale lock).
The lock file names the owner (PID, and the port when it is `finrag serve`) so a second process can say
who to ask instead, or send read-only requests to that server's API."""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

# This process serves HTTP on this port (set by `finrag serve`): every lock it holds, or takes later,
# records it, so other processes know where the API of the data folder is.
_serving: dict[str, object] = {}


@dataclass(frozen=True, slots=True)
class Holder:
    pid: int
    port: int | None = None
    host: str = ""

    def describe(self) -> str:
        where = f" on port {self.port}" if self.port else ""
        return f"PID {self.pid}{where}"


class StoreLockedError(RuntimeError):
    """Another process owns the embedded store; nothing was opened or changed."""

    def __init__(self, folder: Path, holder: Holder | None) -> None:
        self.folder = folder
        self.holder = holder
        who = holder.describe() if holder else "another process"
        hint = "use the API or stop the server" if holder and holder.port else "wait for it to finish or stop it"
        super().__init__(f"this data folder ({folder}) is served by {who}; {hint}")


def lock_path(store_dir: Path) -> Path:
    store_dir = Path(store_dir)
    return store_dir.parent / f"{store_dir.name}.lock"


def _read_holder(fd: int) -> Holder | None:
    try:
        raw = os.pread(fd, 4096, 0)
        data = json.loads(raw.decode() or "{}")
        return Holder(int(data["pid"]), data.get("port"), str(data.get("host", "")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _open(path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # O_CREAT without O_TRUNC: opening never changes a file someone else holds.
    return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)


class OwnerLock:
    """The exclusive owner lock of one store folder."""

    def __init__(self, store_dir: Path) -> None:
        self.store_dir = Path(store_dir)
        self.path = lock_path(self.store_dir)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock or raise StoreLockedError naming the owner (without touching the store)."""
        if self._fd is not None:
            return
        fd = _open(self.path)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise StoreLockedError(self.store_dir.parent, holder) from None
        self._fd = fd
        self._write()
        _held.add(self)

    def _write(self) -> None:
        if self._fd is None:
            return
        info = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time(), **_serving}
        data = json.dumps(info).encode()
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, data, 0)

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        _held.discard(self)
        try:
            os.ftruncate(fd, 0)  # a reader between our unlock and exit must not see a stale owner
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def __hash__(self) -> int:
        return id(self)


_held: set[OwnerLock] = set()


class _Closable(Protocol):
    def flush(self) -> None: ...
    def close(self) -> None: ...


def close_owned(shard: _Closable | None, owner: OwnerLock) -> None:
    """Flush and close an embedded shard, then give up its folder's owner lock, even when closing fails
    (a process that cannot close its shard must not keep other processes out of the folder)."""
    try:
        if shard is not None:
            shard.flush()
            shard.close()
    finally:
        owner.release()


def announce_serving(port: int) -> None:
    """This process serves the API on `port`: recorded in every owner lock it holds or takes."""
    _serving["port"] = int(port)
    for lock in list(_held):
        lock._write()


def current_holder(store_dir: Path) -> Holder | None:
    """Who owns the store now (None when nobody does, or when it is this process). Probes without
    creating anything: a missing lock file means no owner."""
    path = lock_path(Path(store_dir))
    if any(lock.path == path for lock in _held):
        return None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_holder(fd) or Holder(pid=0)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
