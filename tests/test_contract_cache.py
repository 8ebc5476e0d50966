"""The response-cache protocol (`finrag.cache.ResponseCache`): one suite of behaviour, run against every
implementation (the on-disk SQLite default and Redis, a real redis-server started here), then the
invalidation that matters to users: an ingest or a delete drops the tenant's cached answers, through the
API on both implementations and through `finrag worker` on Redis."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from finrag.cache import DiskCache, RedisCache, ResponseCache, cache_key
from tests.servers import RedisServer, redis_or_skip


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    with redis_or_skip() as server:
        yield server


class CacheContract:
    """Subclasses give a `cache` fixture; every test here must pass for each implementation."""

    def test_implements_the_protocol(self, cache: ResponseCache) -> None:
        assert isinstance(cache, ResponseCache)

    def test_set_then_get_within_the_tenant(self, cache: ResponseCache) -> None:
        k = cache_key("capex FY2023?", {"fiscal_years": [2023]}, 5)
        assert cache.get("t1", k) is None
        cache.set("t1", k, '{"text": "1,577"}')
        assert cache.get("t1", k) == '{"text": "1,577"}'
        assert cache.get("t2", k) is None  # namespaced per tenant
        cache.set("t1", k, "newer")
        assert cache.get("t1", k) == "newer"

    def test_invalidate_tenant_drops_only_that_tenant(self, cache: ResponseCache) -> None:
        cache.set("t1", "a", "1")
        cache.set("t1", "b", "2")
        cache.set("t2", "a", "other")
        cache.set("t1:x", "a", "colon tenant")  # a ':' in a tenant cannot reach another tenant's keys
        cache.set("t1*", "a", "glob tenant")  # nor can a glob character
        assert cache.invalidate_tenant("t1") == 2
        assert cache.get("t1", "a") is None and cache.get("t1", "b") is None
        assert cache.get("t2", "a") == "other"
        assert cache.get("t1:x", "a") == "colon tenant"
        assert cache.get("t1*", "a") == "glob tenant"
        assert cache.invalidate_tenant("nobody") == 0

    def test_entries_expire(self, cache: ResponseCache) -> None:
        cache.set("t1", "short", "v", ttl_s=0.2)
        cache.set("t1", "long", "v")
        assert cache.get("t1", "short") == "v"
        time.sleep(0.35)
        assert cache.get("t1", "short") is None
        assert cache.get("t1", "long") == "v"

    def test_delete_one_entry(self, cache: ResponseCache) -> None:
        cache.set("t1", "a", "1")
        cache.set("t1", "b", "2")
        cache.delete("t1", "a")
        assert cache.get("t1", "a") is None and cache.get("t1", "b") == "2"

    def test_status_reports_health(self, cache: ResponseCache) -> None:
        assert cache.healthy()
        status = cache.status()
        assert status["healthy"] is True and status["backend"] == cache.name and status["error"] == ""


class TestDiskCache(CacheContract):
    @pytest.fixture()
    def cache(self, tmp_path: Path) -> Iterator[ResponseCache]:
        c = DiskCache(tmp_path / "responses.sqlite3")
        yield c
        c.close()


class TestRedisCache(CacheContract):
    @pytest.fixture()
    def cache(self, redis_server: RedisServer) -> Iterator[ResponseCache]:
        c = RedisCache(redis_server.url)
        c._client.flushdb()
        yield c
        c.close()


# invalidation in the service ------------------------------------------------------------------------------
NORTHWIND_10K = "NORTHWINDROBOTICS_2023_10K.pdf"
CEDAR_8K = "CEDARRIDGEENERGY_2023_8K_dated-2023-11-14.pdf"


def _entries(cache: ResponseCache, tenant: str) -> int:
    """How many entries the tenant has, read from the backend itself (not through get)."""
    if isinstance(cache, RedisCache):
        return sum(1 for _ in cache._client.scan_iter(match=cache._tenant_prefix(tenant) + "*"))
    assert isinstance(cache, DiskCache)
    with cache._lock:
        return cache._db().execute("SELECT count(*) FROM response_cache WHERE tenant = ?", (tenant,)).fetchone()[0]


@pytest.fixture(params=["disk", "redis"])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "disk":
        return ""
    return request.getfixturevalue("redis_server").url


def test_ingest_and_delete_invalidate_the_tenants_cached_answers(
    backend: str, tmp_path: Path, shared_embedder, sample_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from finrag.serve.app import create_app
    from finrag.settings import ServeSettings
    from tests.test_api import bearer, build_service, ingest

    if backend:
        RedisCache(backend)._client.flushdb()
    svc = build_service(tmp_path / "data", shared_embedder)
    assert not svc.ingest([sample_dir / CEDAR_8K], tenant="acme").failed
    assert not svc.ingest([sample_dir / CEDAR_8K], tenant="globex").failed
    app = create_app(svc.settings, svc, ServeSettings(redis_url=backend))
    state = app.state.finrag
    assert state.cache.name == ("redis" if backend else "disk")
    acme, _ = state.keys.create("acme", "t")
    globex, _ = state.keys.create("globex", "t")
    q = {"question": "What did Cedar Ridge Energy announce?"}
    try:
        with TestClient(app) as c:

            def ask(key: str) -> bool:
                r = c.post("/v1/query", headers=bearer(key), json=q)
                assert r.status_code == 200, r.text
                return bool(r.json()["cached"])

            assert (ask(acme), ask(acme), ask(globex)) == (False, True, False)
            assert _entries(state.cache, "acme") == 1 and _entries(state.cache, "globex") == 1

            job = ingest(c, acme, sample_dir / NORTHWIND_10K)
            assert _entries(state.cache, "acme") == 0  # dropped, not merely unreachable
            assert _entries(state.cache, "globex") == 1 and ask(globex) is True  # other tenants keep theirs
            assert ask(acme) is False and ask(acme) is True

            assert c.delete(f"/v1/documents/{job['doc_id']}", headers=bearer(acme)).status_code == 200
            assert _entries(state.cache, "acme") == 0
            assert ask(acme) is False
    finally:
        svc.close()


def test_worker_jobs_clear_the_entries_the_api_wrote(redis_server: RedisServer) -> None:
    """`finrag worker` and the API share one cache class and one key layout: the clear-out matches."""
    from finrag.jobs import run_worker
    from finrag.queue import build_queue
    from finrag.serve.cache import answer_key

    api_cache = RedisCache(redis_server.url)
    api_cache._client.flushdb()
    key = answer_key("What did Cedar Ridge Energy announce?", "auto", {}, None, "3:2:x")
    api_cache.set("acme", key, '{"text": "cached"}')
    api_cache.set("globex", key, '{"text": "kept"}')
    queue = build_queue(redis_server.url, namespace="finrag:test-jobs")
    queue.enqueue("ingest", {"tenant": "acme", "path": "/nowhere.pdf"})
    done = run_worker(
        None, queue=queue, handlers={"ingest": lambda job: {"tenant": job.payload["tenant"]}}, max_jobs=1,
        redis_url=redis_server.url,
    )  # fmt: skip
    assert done == 1
    assert api_cache.get("acme", key) is None
    assert api_cache.get("globex", key) == '{"text": "kept"}'
    queue.close()
    api_cache.close()
