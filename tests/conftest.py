"""Shared fixtures: real components (SQLite, Qdrant edge, the packaged MiniLM), never mocks."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
# Tests swap `components.embedder` for the session's model or a hashing one and expect ingest to use it;
# the bf16 ingest embedder (chosen by `auto` on AMX CPUs) has its own tests in tests/test_embed_bf16.py.
os.environ.setdefault("FINRAG_INGEST_EMBEDDER", "same")

from finrag.settings import Settings
from tests.servers import PostgresServer

# Exported ONNX models are cached across test runs (and data dirs): exporting is the slow part.
MODEL_CACHE = Path(os.environ.get("FINRAG_TEST_MODEL_CACHE", Path.home() / ".cache" / "finrag"))


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    return Settings(data_dir=data_dir, cache_dir=MODEL_CACHE, **overrides)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from finrag.sample.generate import generate_samples

    out = tmp_path_factory.mktemp("samples")
    generate_samples(out)
    return out


@pytest.fixture(scope="session")
def shared_embedder():
    """One warmed-up embedder for the whole session (model load + export happen once)."""
    from finrag.embed import build_embedder

    emb = build_embedder(Settings(cache_dir=MODEL_CACHE))
    emb.warm_up()
    return emb


@pytest.fixture()
def service_factory(tmp_path: Path, shared_embedder):
    """Build QAServices on a fresh data dir that share the session's embedder."""
    from finrag.service import QAService, build_components

    made = []

    def make(data_dir: Path | None = None, **overrides: object):
        settings = make_settings(data_dir or tmp_path / "data", **overrides)
        components = build_components(settings)
        components.embedder = shared_embedder
        svc = QAService(settings, components)
        made.append(svc)
        return svc

    yield make
    for svc in made:
        svc.close()


@pytest.fixture(scope="session")
def sample_service(tmp_path_factory: pytest.TempPathFactory, sample_dir: Path, shared_embedder) -> Iterator:
    """The sample filings ingested once, for read-only tests."""
    from finrag.service import QAService, build_components

    settings = make_settings(tmp_path_factory.mktemp("sample-index"))
    components = build_components(settings)
    components.embedder = shared_embedder
    svc = QAService(settings, components)
    report = svc.ingest([sample_dir])
    assert not report.failed, report.failed
    yield svc
    svc.close()


@pytest.fixture(scope="session")
def schema_api(tmp_path_factory: pytest.TempPathFactory, shared_embedder, sample_dir: Path) -> Iterator[tuple]:  # type: ignore[no-untyped-def,type-arg]
    """The API over one ingested sample filing and an all-scopes key: what the schemathesis runs fuzz."""
    from finrag.serve.app import create_app
    from finrag.settings import ServeSettings
    from tests.test_api import CEDAR_8K, build_service

    svc = build_service(tmp_path_factory.mktemp("api-schema"), shared_embedder)
    assert not svc.ingest([sample_dir / CEDAR_8K], tenant="acme").failed
    app = create_app(svc.settings, svc, ServeSettings(rate_limit_per_minute=1_000_000, max_concurrent_per_key=1000))
    key, _ = app.state.finrag.keys.create("acme", "fuzz", ["query", "ingest", "admin"])
    yield app, key
    app.state.finrag.pages.close()
    svc.close()


# A real Postgres (Debian's server, started by the test module that asks for it) and a fresh database.
@pytest.fixture(scope="module")
def pg() -> Iterator[PostgresServer]:
    from tests.servers import postgres_or_skip

    with postgres_or_skip() as server:
        yield server


@pytest.fixture()
def pg_url(pg: PostgresServer) -> str:
    return pg.create_database(f"t_{uuid.uuid4().hex[:12]}")
