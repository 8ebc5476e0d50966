"""Response caches: the SQLite file default and Redis (a real redis-server, killed mid-test)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from finrag.cache import DiskCache, NullCache, ResponseCache, build_cache, cache_key
from tests.servers import RedisServer, redis_or_skip


def _behaves_like_a_cache(cache: ResponseCache) -> None:
    k = cache_key("capex FY2023?", {"fiscal_years": [2023]}, 5)
    assert cache.get("t1", k) is None
    cache.set("t1", k, '{"text": "1,577"}')
    assert cache.get("t1", k) == '{"text": "1,577"}'
    assert cache.get("t2", k) is None  # namespaced per tenant
    cache.set("t2", k, "other")
    cache.set("t1:x", k, "colon tenant")  # a ':' in a tenant cannot reach another tenant's keys
    assert cache.invalidate_tenant("t1") == 1
    assert cache.get("t1", k) is None
    assert cache.get("t2", k) == "other"
    assert cache.get("t1:x", k) == "colon tenant"
    cache.set("t1", "short", "v", ttl_s=0.2)
    assert cache.get("t1", "short") == "v"
    time.sleep(0.35)
    assert cache.get("t1", "short") is None  # TTL
    cache.delete("t2", k)
    assert cache.get("t2", k) is None
    assert cache.healthy() and cache.status()["healthy"]


def test_cache_key_is_stable_and_order_free() -> None:
    assert cache_key("q", {"a": 1, "b": 2}) == cache_key("q", {"b": 2, "a": 1})
    assert cache_key("q", 5) != cache_key("q", 6)


def test_disk_cache(tmp_path: Path) -> None:
    cache = DiskCache(tmp_path / "cache.sqlite3")
    _behaves_like_a_cache(cache)
    cache.set("t1", "k", "kept")
    cache.close()
    again = DiskCache(tmp_path / "cache.sqlite3")  # survives a restart, shared between processes
    assert again.get("t1", "k") == "kept"
    again.set("t1", "gone", "v", ttl_s=-1)
    assert again.purge_expired() == 2  # "gone" and the expired "short"
    assert again.get("t1", "k") == "kept"
    again.close()


def test_build_cache_picks_the_backend(tmp_path: Path) -> None:
    assert isinstance(build_cache(enabled=False), NullCache)
    assert isinstance(build_cache(path=tmp_path / "c.sqlite3"), DiskCache)
    assert isinstance(build_cache(), NullCache)


@pytest.fixture()
def redis_server() -> Iterator[RedisServer]:
    with redis_or_skip() as server:
        yield server


@pytest.mark.integration
def test_redis_cache(redis_server: RedisServer) -> None:
    from finrag.cache import RedisCache

    cache = build_cache(redis_url=redis_server.url)
    assert isinstance(cache, RedisCache)
    _behaves_like_a_cache(cache)
    cache.close()


@pytest.mark.integration
def test_redis_down_degrades_to_no_cache_and_recovers(redis_server: RedisServer) -> None:
    from finrag.cache import RedisCache

    cache = RedisCache(redis_server.url, retry_s=0.5, socket_timeout_s=0.3)
    cache.set("t1", "k", "v")
    assert cache.get("t1", "k") == "v"

    redis_server.kill()
    t0 = time.monotonic()
    assert cache.get("t1", "k") is None  # a miss, not an exception
    cache.set("t1", "k2", "v2")  # dropped silently
    assert cache.invalidate_tenant("t1") == -1
    assert not cache.healthy()
    status = cache.status()
    assert status["healthy"] is False and "Connection" in status["error"]
    # While the circuit is open requests do not even try: no per-request timeout.
    t1 = time.monotonic()
    for _ in range(100):
        assert cache.get("t1", "k") is None
    assert time.monotonic() - t1 < 0.2
    assert time.monotonic() - t0 < 3

    redis_server.start()  # same port, empty (no persistence)
    time.sleep(0.6)
    assert cache.healthy()
    cache.set("t1", "k", "again")
    assert cache.get("t1", "k") == "again"
    assert cache.status() == {"backend": "redis", "healthy": True, "error": ""}
    cache.close()
