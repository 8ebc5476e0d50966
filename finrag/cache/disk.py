"""Response cache in a SQLite file: the embedded default (one machine, several processes)."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

PURGE_EVERY = 500  # writes between sweeps of expired rows


class DiskCache:
    name = "disk"

    def __init__(self, path: Path, default_ttl_s: float = 7 * 24 * 3600) -> None:
        self.path = Path(path)
        self.default_ttl_s = default_ttl_s
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._writes = 0
        self._error = ""

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # One connection shared by threads under our lock; WAL so other processes can read meanwhile.
            conn = sqlite3.connect(self.path, check_same_thread=False, timeout=10, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS response_cache ("
                " tenant TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, expires_at REAL NOT NULL,"
                " PRIMARY KEY (tenant, key))"
            )
            conn.execute("CREATE INDEX IF NOT EXISTS ix_response_cache_expires ON response_cache (expires_at)")
            self._conn = conn
        return self._conn

    def get(self, tenant: str, key: str) -> str | None:
        try:
            with self._lock:
                row = (
                    self._db()
                    .execute("SELECT value, expires_at FROM response_cache WHERE tenant = ? AND key = ?", (tenant, key))
                    .fetchone()
                )
        except sqlite3.Error as exc:
            self._error = f"{type(exc).__name__}: {exc}"
            return None
        if row is None or row[1] < time.time():
            return None
        return row[0]

    def set(self, tenant: str, key: str, value: str, ttl_s: float | None = None) -> None:
        expires = time.time() + (self.default_ttl_s if ttl_s is None else ttl_s)
        try:
            with self._lock:
                db = self._db()
                db.execute(
                    "INSERT INTO response_cache (tenant, key, value, expires_at) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT (tenant, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at",
                    (tenant, key, value, expires),
                )
                self._writes += 1
                if self._writes % PURGE_EVERY == 0:
                    db.execute("DELETE FROM response_cache WHERE expires_at < ?", (time.time(),))
            self._error = ""
        except sqlite3.Error as exc:  # a full disk must not fail the request that produced the answer
            self._error = f"{type(exc).__name__}: {exc}"

    def delete(self, tenant: str, key: str) -> None:
        with self._lock:
            self._db().execute("DELETE FROM response_cache WHERE tenant = ? AND key = ?", (tenant, key))

    def invalidate_tenant(self, tenant: str) -> int:
        with self._lock:
            return self._db().execute("DELETE FROM response_cache WHERE tenant = ?", (tenant,)).rowcount

    def purge_expired(self) -> int:
        with self._lock:
            return self._db().execute("DELETE FROM response_cache WHERE expires_at < ?", (time.time(),)).rowcount

    def healthy(self) -> bool:
        return not self._error

    def status(self) -> dict[str, Any]:
        return {"backend": self.name, "healthy": self.healthy(), "error": self._error, "path": str(self.path)}

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
