"""Rate limits and the response cache in a real Redis (started here), and what happens when it dies."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from finrag.serve.app import create_app
from finrag.serve.testing import free_port
from finrag.settings import ServeSettings
from tests.test_api import CEDAR_8K, bearer, build_service, metric

pytestmark = [pytest.mark.slow, pytest.mark.integration]
pytest.importorskip("redis", reason="the redis package is not installed (pip install redis)")
REDIS = shutil.which("redis-server")


@pytest.fixture()
def redis_url(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    if REDIS is None:
        pytest.skip("redis-server is not installed (apt-get install -y redis-server)")
    port = free_port()
    proc = subprocess.Popen(
        [REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                proc.kill()
                pytest.skip("redis-server did not start")
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0", proc
    proc.kill()
    proc.wait()


def test_redis_backs_limits_and_cache_then_falls_back(
    redis_url, tmp_path: Path, shared_embedder, sample_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    url, proc = redis_url
    svc = build_service(tmp_path / "data", shared_embedder)
    assert not svc.ingest([sample_dir / CEDAR_8K], tenant="acme").failed
    app = create_app(svc.settings, svc, ServeSettings(redis_url=url, rate_limit_per_minute=8))
    key, _ = app.state.finrag.keys.create("acme", "t")
    try:
        with TestClient(app) as c:
            ready = c.get("/readyz").json()
            assert ready["status"] == "ok", ready
            assert (
                ready["checks"]["cache"]["backend"] == "redis" and ready["checks"]["rate_limits"]["backend"] == "redis"
            )
            q = {"question": "What did Cedar Ridge Energy announce?"}
            assert c.post("/v1/query", headers=bearer(key), json=q).json()["cached"] is False
            assert c.post("/v1/query", headers=bearer(key), json=q).json()["cached"] is True
            import redis

            client = redis.Redis.from_url(url)
            assert client.keys("finrag:cache:*")  # the entry lives in Redis
            assert any(k.startswith(b"LIMITS") for k in client.keys("*"))  # so does the moving window

            # Redis dies: requests keep working, limits count in memory, the cache is skipped.
            proc.kill()
            proc.wait()
            r = c.post("/v1/query", headers=bearer(key), json=q)
            assert r.status_code == 200 and r.json()["cached"] is False
            ready = c.get("/readyz").json()
            assert ready["status"] == "degraded", ready
            assert ready["checks"]["rate_limits"]["backend"] == "memory"
            assert not ready["checks"]["cache"]["ok"]
            codes = [c.get("/v1/documents", headers=bearer(key)).status_code for _ in range(10)]
            assert 429 in codes  # the in-memory fallback still enforces the limit
            assert metric(c, "finrag_cache_requests_total", result="hit") == 1
    finally:
        svc.close()
