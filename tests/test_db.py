"""One database package: `finrag migrate` makes every table the service uses, on a real Postgres,
and an upgrade from the previous head revision (0002) keeps the rows already there."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator

import pytest
from sqlalchemy import MetaData, create_engine, insert, pool, select
from sqlalchemy.orm import DeclarativeBase
from typer.testing import CliRunner

import finrag

pytest.importorskip("alembic")
pytestmark = pytest.mark.integration


def every_metadata() -> list[MetaData]:
    """The metadata of every declarative class in finrag (each module imported, so none is missed)."""
    for mod in pkgutil.walk_packages(finrag.__path__, "finrag."):
        if ".migrations" in mod.name or mod.name.endswith("__main__"):
            continue
        try:
            importlib.import_module(mod.name)
        except ImportError:  # an optional extra that is not installed here
            continue

    def subclasses(cls: type) -> Iterator[type]:
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    found: dict[int, MetaData] = {}
    for cls in subclasses(DeclarativeBase):
        if cls.__module__.startswith("finrag.") and "metadata" in vars(cls):
            found[id(cls.metadata)] = cls.metadata
    return list(found.values())


def tables(url: str) -> set[str]:
    from sqlalchemy import inspect

    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_one_metadata_owns_every_table() -> None:
    from finrag.db.models import Base

    metas = every_metadata()
    assert [m is Base.metadata for m in metas] == [True]
    used = {"documents", "finrag_source_objects", "finrag_leases", "online_eval", "online_eval_judge"}
    assert used | {"serve_api_keys", "finrag_jobs", "serve_answers", "serve_feedback"} <= set(Base.metadata.tables)


def test_finrag_migrate_on_an_empty_postgres_creates_every_table(pg_url: str, monkeypatch) -> None:
    from finrag.cli import app
    from finrag.db.migrations import head
    from tests.test_backends_postgres import diff_against_models

    assert tables(pg_url) == set()
    monkeypatch.setenv("FINRAG_DATABASE_URL", pg_url)
    out = CliRunner().invoke(app, ["migrate", "upgrade"])
    assert out.exit_code == 0, out.output
    assert head() in out.output
    wanted = {name for meta in every_metadata() for name in meta.tables}
    assert tables(pg_url) == wanted | {"alembic_version"}
    assert diff_against_models(pg_url) == []  # columns, types and indexes as the models declare


def test_upgrade_from_0002_keeps_rows_and_adds_the_service_tables(pg_url: str) -> None:
    from finrag.db.migrations import current_revision, head, upgrade
    from finrag.db.models import DocumentRow, LeaseRow, SourceObjectRow
    from finrag.registry.sql import SqlRegistry
    from tests.test_backends_postgres import diff_against_models

    assert upgrade(pg_url, "0002_updater") == "0002_updater"
    assert "serve_api_keys" not in tables(pg_url)  # what a deployment migrated before this release has
    engine = create_engine(pg_url, poolclass=pool.NullPool)
    doc = {
        "tenant": "acme", "doc_id": "d1", "name": "a.pdf", "source_path": "/x/a.pdf", "content_hash": "h1",
        "status": "ready", "pages": 3, "chunks": 9, "error": "", "filing": {"company": "Acme", "aliases": []},
        "created_at": "2026-01-01T00:00:00+00:00", "updated_at": "2026-01-01T00:00:00+00:00",
    }  # fmt: skip
    seen = {"source": "s3://b/p", "key": "a.pdf", "tenant": "acme", "etag": "e1", "content_hash": "h1",
            "doc_id": "d1", "updated_at": "2026-01-01T00:00:00+00:00"}  # fmt: skip
    with engine.begin() as conn:
        conn.execute(insert(DocumentRow.__table__).values(**doc))
        conn.execute(insert(SourceObjectRow.__table__).values(**seen))
        conn.execute(insert(LeaseRow.__table__).values(name="updater", holder="h", expires_at=1.0))

    assert upgrade(pg_url) == head() == current_revision(pg_url)
    with engine.connect() as conn:
        assert conn.execute(select(DocumentRow.__table__)).mappings().one()["content_hash"] == "h1"
        assert conn.execute(select(SourceObjectRow.__table__)).mappings().one()["etag"] == "e1"
        assert conn.execute(select(LeaseRow.__table__)).mappings().one()["holder"] == "h"
    engine.dispose()
    assert {"serve_api_keys", "finrag_jobs", "online_eval", "online_eval_judge"} <= tables(pg_url)
    assert diff_against_models(pg_url) == []
    reg = SqlRegistry(pg_url)
    rec = reg.get("acme", "d1")
    assert rec is not None and rec.filing.company == "Acme" and rec.chunks == 9
    reg.engine.dispose()


def test_upgrade_adopts_service_tables_that_create_all_made(pg_url: str) -> None:
    """A deployment that ran the API before migrations covered its tables: they exist, with rows."""
    from finrag.db import open_database
    from finrag.db.migrations import head, upgrade
    from finrag.serve.keys import KeyStore

    assert upgrade(pg_url, "0002_updater") == "0002_updater"
    engine = open_database(pg_url)  # the API's start-up create_all
    secret, _ = KeyStore(engine, cache_s=0).create("acme", "ci", ["query"])
    engine.dispose()
    assert upgrade(pg_url) == head()
    engine = open_database(pg_url)
    assert KeyStore(engine, cache_s=0).verify(secret) is not None
    engine.dispose()
