"""Response cache: answers keyed by (tenant, question fingerprint), with a TTL and per-tenant invalidation.

`DiskCache` (SQLite file) is the embedded default; `RedisCache` is shared by API replicas. A cache is an
optimisation, never a dependency: when Redis is down lookups miss, writes are dropped, `healthy()` says
False and `status()` says why, and the API keeps answering."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from finrag.cache.disk import DiskCache
from finrag.cache.redis_cache import RedisCache

__all__ = ["DiskCache", "NullCache", "RedisCache", "ResponseCache", "build_cache", "cache_key"]


@runtime_checkable
class ResponseCache(Protocol):
    name: str

    def get(self, tenant: str, key: str) -> str | None: ...

    def set(self, tenant: str, key: str, value: str, ttl_s: float | None = None) -> None: ...

    def delete(self, tenant: str, key: str) -> None: ...

    def invalidate_tenant(self, tenant: str) -> int:
        """Drop every entry of one tenant (its index changed); returns how many were dropped when known."""
        ...

    def healthy(self) -> bool: ...

    def status(self) -> dict[str, Any]:
        """{'backend': ..., 'healthy': bool, 'error': str} for /readyz and logs."""
        ...

    def close(self) -> None: ...


class NullCache:
    """Caching switched off."""

    name = "none"

    def get(self, tenant: str, key: str) -> str | None:
        return None

    def set(self, tenant: str, key: str, value: str, ttl_s: float | None = None) -> None:
        pass

    def delete(self, tenant: str, key: str) -> None:
        pass

    def invalidate_tenant(self, tenant: str) -> int:
        return 0

    def healthy(self) -> bool:
        return True

    def status(self) -> dict[str, Any]:
        return {"backend": self.name, "healthy": True, "error": ""}

    def close(self) -> None:
        pass


def cache_key(*parts: Any) -> str:
    """Stable fingerprint of whatever determines an answer (question, scope, top_k, settings version)."""
    blob = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def build_cache(
    redis_url: str = "", path: Path | None = None, ttl_s: float = 7 * 24 * 3600, enabled: bool = True
) -> ResponseCache:
    """Redis when a URL is given, else a SQLite file at `path`, else nothing."""
    if not enabled:
        return NullCache()
    if redis_url:
        return RedisCache(redis_url, default_ttl_s=ttl_s)
    if path is not None:
        return DiskCache(path, default_ttl_s=ttl_s)
    return NullCache()
