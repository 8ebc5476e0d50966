"""Per-key rate limits: a moving window of requests per minute (the `limits` library, in memory or in
Redis) plus a cap on requests in flight. Redis trouble falls back to memory and says so in /readyz."""

from __future__ import annotations

import logging
import math
import threading
import time

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

log = logging.getLogger(__name__)


class RateLimiter:
    def __init__(self, per_minute: int, max_concurrent: int, redis_url: str = "") -> None:
        self.item: RateLimitItem = parse(f"{per_minute}/minute")
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

    def hit(self, key_id: str) -> float | None:
        """Count one request. None when allowed, else seconds until the window lets one through."""
        if self.redis_url and self._storage is self._memory and time.monotonic() >= self._retry_redis_at:
            self._try_redis()
        try:
            allowed = self._limiter.hit(self.item, key_id)
            if allowed:
                return None
            stats = self._limiter.get_window_stats(self.item, key_id)
        except Exception as exc:  # Redis went away mid-flight: fall back rather than fail the request
            self._use_memory(f"redis error ({type(exc).__name__})")
            allowed = self._limiter.hit(self.item, key_id)
            if allowed:
                return None
            stats = self._limiter.get_window_stats(self.item, key_id)
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
