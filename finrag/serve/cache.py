"""Response cache and per-tenant index versions.

A cache key includes the tenant's index version, a counter bumped whenever that tenant's documents
change (ingest job finished, delete), so stale answers are never served and need no explicit purge."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from typing import Any, Protocol

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine

from finrag.serve.db import CacheRow, IndexVersionRow, session

log = logging.getLogger(__name__)


def normalise_question(question: str) -> str:
    """Questions that differ only in case, spacing or final punctuation share an entry."""
    return " ".join(question.split()).casefold().rstrip(" ?!.")


def cache_key(tenant: str, question: str, mode: str, filters: dict[str, Any], top_k: int | None, version: str) -> str:
    material = json.dumps(
        {"t": tenant, "q": normalise_question(question), "m": mode, "f": filters, "k": top_k, "v": version},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


class IndexVersions:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lock = threading.Lock()

    def get(self, tenant: str) -> int:
        with session(self.engine) as s:
            row = s.get(IndexVersionRow, tenant)
            return row.version if row else 0

    def bump(self, tenant: str) -> int:
        with self._lock, session(self.engine) as s, s.begin():
            row = s.get(IndexVersionRow, tenant)
            if row is None:
                row = IndexVersionRow(tenant=tenant, version=0)
                s.add(row)
            row.version += 1
            return row.version


class ResponseCache(Protocol):
    backend: str

    def get(self, key: str) -> dict[str, Any] | None: ...

    def set(self, key: str, tenant: str, value: dict[str, Any], ttl_s: int) -> None: ...

    def forget_tenant(self, tenant: str) -> None: ...

    def check(self) -> str | None:
        """None when healthy, else the reason."""
        ...


class NullCache:
    backend = "none"

    def __init__(self, reason: str = "") -> None:
        self.reason = reason

    def get(self, key: str) -> dict[str, Any] | None:
        return None

    def set(self, key: str, tenant: str, value: dict[str, Any], ttl_s: int) -> None:
        return None

    def forget_tenant(self, tenant: str) -> None:
        return None

    def check(self) -> str | None:
        return self.reason or None


class SqlCache:
    """On-disk default: a table next to the registry (SQLite in data_dir unless a URL says otherwise)."""

    backend = "sql"

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writes = 0

    def get(self, key: str) -> dict[str, Any] | None:
        with session(self.engine) as s:
            row = s.get(CacheRow, key)
            if row is None or row.expires_at < time.time():
                return None
            return dict(row.value)

    def set(self, key: str, tenant: str, value: dict[str, Any], ttl_s: int) -> None:
        """One atomic upsert: two requests answering the same question at once (or a tenant's entries
        being dropped meanwhile) must not collide. A failed write is a lost cache entry, never a
        failed request: the answer is already made."""
        row = {"key": key, "tenant": tenant, "expires_at": time.time() + ttl_s, "value": value}
        try:
            with session(self.engine) as s, s.begin():
                dialect = self.engine.dialect.name
                if dialect in ("sqlite", "postgresql"):
                    insert = sqlite_insert if dialect == "sqlite" else pg_insert
                    stmt = insert(CacheRow).values(**row)
                    s.execute(stmt.on_conflict_do_update(index_elements=[CacheRow.key], set_=row))
                else:
                    s.merge(CacheRow(**row))
                self._writes += 1
                if self._writes % 200 == 0:  # occasional sweep keeps the table from growing without bound
                    s.execute(delete(CacheRow).where(CacheRow.expires_at < time.time()))
        except Exception:
            log.warning("response cache write failed; answer served uncached", exc_info=True)

    def forget_tenant(self, tenant: str) -> None:
        """Entries of older index versions can never be hit again; drop them to save disk."""
        with session(self.engine) as s, s.begin():
            s.execute(delete(CacheRow).where(CacheRow.tenant == tenant))

    def check(self) -> str | None:
        try:
            with session(self.engine) as s:
                s.execute(select(CacheRow.key).limit(1))
        except Exception as exc:
            return f"cache database: {type(exc).__name__}: {exc}"
        return None


class RedisCache:
    """Shared across replicas. A Redis outage turns lookups into misses, never into errors."""

    backend = "redis"

    def __init__(self, client: Any, retry_after_s: float = 5.0) -> None:
        self.client = client
        self.down_reason = ""
        self.retry_after_s = retry_after_s
        self._down_until = 0.0

    def _guard(self, op: str, fn: Any, probe: bool = False) -> Any:
        # Circuit breaker: while Redis is down, skip it instead of paying a connect timeout per request.
        if not probe and time.monotonic() < self._down_until:
            return None
        try:
            out = fn()
        except Exception as exc:
            self.down_reason = f"redis cache unavailable ({op}: {type(exc).__name__}); serving without cache"
            self._down_until = time.monotonic() + self.retry_after_s
            log.warning("redis cache error", extra={"op": op, "error": str(exc)})
            return None
        self.down_reason = ""
        self._down_until = 0.0
        return out

    def get(self, key: str) -> dict[str, Any] | None:
        raw = self._guard("get", lambda: self.client.get(f"finrag:cache:{key}"))
        return json.loads(raw) if raw else None

    def set(self, key: str, tenant: str, value: dict[str, Any], ttl_s: int) -> None:
        self._guard("set", lambda: self.client.set(f"finrag:cache:{key}", json.dumps(value), ex=ttl_s))

    def forget_tenant(self, tenant: str) -> None:
        return None  # entries expire by TTL; the version in the key already hides them

    def check(self) -> str | None:
        ok = self._guard("ping", lambda: self.client.ping(), probe=True)
        return None if ok else (self.down_reason or "redis cache unavailable")


def build_cache(enabled: bool, redis_url: str, engine: Engine) -> ResponseCache:
    if not enabled:
        return NullCache()
    if not redis_url:
        return SqlCache(engine)
    try:
        import redis
    except ImportError:
        return NullCache("redis_url is set but the redis package is not installed; response cache disabled")
    # No ping here: a Redis that is down now behaves as "no cache" and is used again once it is back.
    return RedisCache(redis.Redis.from_url(redis_url, socket_timeout=0.5, socket_connect_timeout=0.5))
