"""Rate limits per key and per tenant: moving windows of requests per minute (the `limits` library, in
memory or in Redis) plus a cap on one key's requests in flight. A tenant's window counts all its keys,
so minting more keys does not buy more throughput. Redis trouble falls back to memory and says so in
/readyz."""

from __future__ import annotations

import logging
import math
import threading
import time
from typing import NamedTuple

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

log = logging.getLogger(__name__)


class Refusal(NamedTuple):
    retry_after: float
    window: str  # "key" | "tenant"
    per_minute: int


class RateLimiter:
    def __init__(
        self, per_minute: int, max_concurrent: int, redis_url: str = "", tenant_per_minute: int | None = None
    ) -> None:
        self.item: RateLimitItem = parse(f"{per_minute}/minute")
        self.tenant_item: RateLimitItem | None = parse(f"{tenant_per_minute}/minute") if tenant_per_minute else None
        self.max_concurrent = max_concurrent
        self.redis_url = redis_url
        self.degraded_reason = ""
        self._memory = MemoryStorage()
        self._storage: Storage = self._memory
        self._retry_redis_at = 0.0
        if redis_url:
            self._try_redis()
        self._limiter = MovingWindowRateLimiter(self._storage)
        self._in_flight: dict[str, int] = {}
        self._lock = threading.Lock()

    @property
    def backend(self) -> str:
        return "memory" if self._storage is self._memory else "redis"

    def _try_redis(self) -> None:
        try:
            storage = storage_from_string(self.redis_url, socket_timeout=0.5, socket_connect_timeout=0.5)
            ok = storage.check()
        except Exception as exc:  # missing redis package, bad URL
            ok, storage = False, None
            log.warning("redis rate-limit storage unusable", extra={"error": str(exc)})
        if ok and storage is not None:
            self._storage = storage
            self._limiter = MovingWindowRateLimiter(storage)
            self.degraded_reason = ""
        else:
            self._use_memory("redis unreachable")

    def _use_memory(self, why: str) -> None:
        self._storage = self._memory
        self._limiter = MovingWindowRateLimiter(self._memory)
        self._retry_redis_at = time.monotonic() + 30
        self.degraded_reason = f"rate limits: {why}; counting in memory (per process)"
        log.warning(self.degraded_reason)

    def hit(self, key_id: str, tenant: str | None = None) -> Refusal | None:
        """Count one request of the key (and of its tenant). None when allowed, else which window
        refused it and the seconds until it lets one through."""
        if self.redis_url and self._storage is self._memory and time.monotonic() >= self._retry_redis_at:
            self._try_redis()
        windows = [("key", self.item, f"key:{key_id}")]
        if tenant is not None and self.tenant_item is not None:
            windows.append(("tenant", self.tenant_item, f"tenant:{tenant}"))
        for which, item, ident in windows:
            retry = self._hit(item, ident)
            if retry is not None:
                return Refusal(retry, which, item.amount)
        return None

    def _hit(self, item: RateLimitItem, ident: str) -> float | None:
        try:
            if self._limiter.hit(item, ident):
                return None
            stats = self._limiter.get_window_stats(item, ident)
        except Exception as exc:  # Redis went away mid-flight: fall back rather than fail the request
            self._use_memory(f"redis error ({type(exc).__name__})")
            if self._limiter.hit(item, ident):
                return None
            stats = self._limiter.get_window_stats(item, ident)
        return max(1.0, math.ceil(stats.reset_time - time.time()))

    def acquire(self, key_id: str) -> bool:
        """Take a concurrency slot (in this process); False when the key already has too many in flight."""
        with self._lock:
            n = self._in_flight.get(key_id, 0)
            if n >= self.max_concurrent:
                return False
            self._in_flight[key_id] = n + 1
            return True

    def release(self, key_id: str) -> None:
        with self._lock:
            n = self._in_flight.get(key_id, 0) - 1
            if n <= 0:
                self._in_flight.pop(key_id, None)
            else:
                self._in_flight[key_id] = n

    def in_flight(self, key_id: str) -> int:
        with self._lock:
            return self._in_flight.get(key_id, 0)

    def check(self) -> str | None:
        return self.degraded_reason or None
