"""Response cache in Redis, shared by every API replica; degrades to "no cache" while Redis is down."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from typing import Any
from urllib.parse import quote

log = logging.getLogger(__name__)


class RedisCache:
    """Keys are ``{prefix}:{tenant}:{key}`` with the tenant percent-encoded (a ':' in a tenant name cannot
    reach into another tenant's keys, and `invalidate_tenant` can SCAN one tenant's keys exactly).

    Failures open a circuit for `retry_s`: requests during that time skip Redis entirely (no timeout per
    request), then the next call tries again. Short socket timeouts bound the cost of finding out."""

    name = "redis"

    def __init__(
        self,
        url: str,
        prefix: str = "finrag:cache",
        default_ttl_s: float = 7 * 24 * 3600,
        socket_timeout_s: float = 0.5,
        retry_s: float = 5.0,
        client: Any = None,
    ) -> None:
        import redis

        self.url = url
        self.prefix = prefix
        self.default_ttl_s = default_ttl_s
        self.retry_s = retry_s
        self._errors: tuple[type[BaseException], ...] = (redis.RedisError, OSError)
        self._client = client or redis.Redis.from_url(
            url,
            socket_timeout=socket_timeout_s,
            socket_connect_timeout=socket_timeout_s,
            decode_responses=True,
        )
        self._down_until = 0.0
        self._error = ""
        self._lock = threading.Lock()

    # keys ----------------------------------------------------------------------------------------
    def _tenant_prefix(self, tenant: str) -> str:
        return f"{self.prefix}:{quote(tenant, safe='')}:"

    def _key(self, tenant: str, key: str) -> str:
        return self._tenant_prefix(tenant) + key

    # circuit -------------------------------------------------------------------------------------
    def _available(self) -> bool:
        return time.monotonic() >= self._down_until

    def _failed(self, exc: BaseException) -> None:
        with self._lock:
            first = not self._error
            self._error = f"{type(exc).__name__}: {exc}"
            self._down_until = time.monotonic() + self.retry_s
        if first:  # once per outage, not once per request
            log.warning("redis cache unavailable; answering without cache", extra={"error": self._error})

    def _ok(self) -> None:
        if self._error:
            with self._lock:
                self._error = ""
                self._down_until = 0.0
            log.info("redis cache back")

    # API -----------------------------------------------------------------------------------------
    def get(self, tenant: str, key: str) -> str | None:
        if not self._available():
            return None
        try:
            value = self._client.get(self._key(tenant, key))
        except self._errors as exc:
            self._failed(exc)
            return None
        self._ok()
        return value

    def set(self, tenant: str, key: str, value: str, ttl_s: float | None = None) -> None:
        if not self._available():
            return
        ttl_ms = max(1, int(1000 * (self.default_ttl_s if ttl_s is None else ttl_s)))
        try:
            self._client.set(self._key(tenant, key), value, px=ttl_ms)
        except self._errors as exc:
            self._failed(exc)
            return
        self._ok()

    def delete(self, tenant: str, key: str) -> None:
        if not self._available():
            return
        try:
            self._client.delete(self._key(tenant, key))
        except self._errors as exc:
            self._failed(exc)

    def invalidate_tenant(self, tenant: str) -> int:
        """SCAN + UNLINK the tenant's keys (never KEYS: it blocks Redis). Returns the number dropped, or -1
        when Redis is unreachable (entries then die by their TTL)."""
        if not self._available():
            return -1
        pattern = _glob_escape(self._tenant_prefix(tenant)) + "*"
        dropped = 0
        try:
            batch: list[str] = []
            for key in self._client.scan_iter(match=pattern, count=500):
                batch.append(key)
                if len(batch) >= 500:
                    dropped += self._client.unlink(*batch)
                    batch = []
            if batch:
                dropped += self._client.unlink(*batch)
        except self._errors as exc:
            self._failed(exc)
            return -1
        self._ok()
        return dropped

    def healthy(self) -> bool:
        """Pings when the circuit allows it, so /readyz notices a recovery without traffic."""
        if not self._available():
            return False
        try:
            self._client.ping()
        except self._errors as exc:
            self._failed(exc)
            return False
        self._ok()
        return True

    def status(self) -> dict[str, Any]:
        ok = self.healthy()
        return {"backend": self.name, "healthy": ok, "error": "" if ok else self._error}

    def close(self) -> None:
        with contextlib.suppress(*self._errors):
            self._client.close()


def _glob_escape(text: str) -> str:
    return "".join("\\" + ch if ch in "*?[]\\" else ch for ch in text)
