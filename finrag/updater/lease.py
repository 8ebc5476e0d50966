"""Leases: one updater replica scans a source at a time; the others stand by and take over when the
holder stops renewing (crash, scale-down). In the DB (`SqlLease`, finrag.updater.state) or in Redis."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from finrag.updater.state import SqlLease, default_holder

__all__ = ["Lease", "RedisLease", "SqlLease"]

_RENEW = """
local cur = redis.call('GET', KEYS[1])
if cur == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if cur == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


@runtime_checkable
class Lease(Protocol):
    name: str
    holder: str
    ttl_s: float

    def acquire(self) -> bool:
        """Take or renew; True while we hold it."""
        ...

    def release(self) -> None: ...


class RedisLease:
    """SET NX PX with the holder as value; renew/release only by the holder (Lua compare-and-set)."""

    def __init__(self, url: str, name: str, ttl_s: float = 60.0, holder: str | None = None, client: Any = None):
        import redis

        self.name = name
        self.ttl_s = ttl_s
        self.holder = holder or default_holder()
        self.r = client or redis.Redis.from_url(url, decode_responses=True, socket_timeout=5, socket_connect_timeout=5)
        self._key = f"finrag:lease:{name}"
        self._renew = self.r.register_script(_RENEW)
        self._release = self.r.register_script(_RELEASE)

    def acquire(self) -> bool:
        return bool(self._renew(keys=[self._key], args=[self.holder, int(self.ttl_s * 1000)]))

    renew = acquire

    def release(self) -> None:
        self._release(keys=[self._key], args=[self.holder])
