"""The Registry contract: one suite every implementation must pass, run on SQLite (a file) and on a real
Postgres started by the test (Debian's server; migrated with alembic first, as production does)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from finrag.protocols import Registry
from finrag.records import DocStatus, DocType, DocumentRecord, Filing
from finrag.registry.sql import SqlRegistry
from tests.servers import PostgresServer


def _rec(doc_id: str, tenant: str = "t1", status: DocStatus = DocStatus.READY, path: str = "/x.pdf") -> DocumentRecord:
    return DocumentRecord(
        doc_id=doc_id,
        tenant=tenant,
        name=f"name-{doc_id}",
        source_path=path,
        content_hash=doc_id * 4,
        status=status,
        pages=3,
        filing=Filing(company="Acme Corp", aliases=["Acme"], ticker="ACME", doc_type=DocType.TEN_K, fiscal_year=2022),
    )


class RegistryContract:
    """Subclasses provide `registry_url` (an empty, ready database) and `registry` (a SqlRegistry on it)."""

    def test_satisfies_the_protocol(self, registry: SqlRegistry) -> None:
        assert isinstance(registry, Registry)
        registry.warm_up()  # idempotent
        assert registry.list() == []

    def test_roundtrip_keeps_filing_metadata(self, registry: SqlRegistry) -> None:
        registry.upsert(_rec("a1"))
        got = registry.get("t1", "a1")
        assert got is not None
        assert got.filing.company == "Acme Corp"
        assert got.filing.doc_type is DocType.TEN_K
        assert got.filing.fiscal_year == 2022
        assert got.filing.aliases == ["Acme"]
        assert got.filing.ticker == "ACME"
        assert got.status is DocStatus.READY
        assert (got.name, got.source_path, got.content_hash, got.pages) == ("name-a1", "/x.pdf", "a1" * 4, 3)
        assert got.created_at and got.updated_at
        assert registry.get("t1", "missing") is None

    def test_tenants_are_separate(self, registry: SqlRegistry) -> None:
        registry.upsert(_rec("a1", tenant="t1"))
        registry.upsert(_rec("a1", tenant="t2"))
        assert [d.tenant for d in registry.list(tenant="t1")] == ["t1"]
        assert registry.find_by_hash("t2", "a1" * 4) is not None
        assert registry.find_by_hash("t3", "a1" * 4) is None
        assert registry.find_by_source("t3", "/x.pdf") == []
        registry.delete("t1", "a1")
        assert registry.get("t1", "a1") is None
        assert registry.get("t2", "a1") is not None
        registry.delete("t1", "a1")  # deleting what is gone is not an error

    def test_status_and_filters(self, registry: SqlRegistry) -> None:
        registry.upsert(_rec("a1", status=DocStatus.INDEXING, path="/a.pdf"))
        registry.upsert(_rec("b2", status=DocStatus.READY, path="/a.pdf"))
        assert [d.doc_id for d in registry.list("t1", DocStatus.INDEXING)] == ["a1"]
        registry.set_status("t1", "a1", DocStatus.FAILED, error="boom")
        failed = registry.get("t1", "a1")
        assert failed is not None and failed.status is DocStatus.FAILED and failed.error == "boom"
        assert {d.doc_id for d in registry.find_by_source("t1", "/a.pdf")} == {"a1", "b2"}
        with pytest.raises(KeyError):
            registry.set_status("t1", "nope", DocStatus.READY)

    def test_count_agrees_with_list(self, registry: SqlRegistry) -> None:
        registry.upsert(_rec("a1", status=DocStatus.INDEXING))
        registry.upsert(_rec("b2"))
        registry.upsert(_rec("c3", tenant="t2"))
        for tenant in (None, "t1", "t2", "t3"):
            for status in (None, DocStatus.READY, DocStatus.INDEXING, DocStatus.FAILED):
                assert registry.count(tenant, status) == len(registry.list(tenant, status)), (tenant, status)
        registry.set_status("t1", "a1", DocStatus.READY)
        assert registry.count("t1", DocStatus.READY) == 2
        registry.delete("t1", "b2")
        assert registry.count("t1", DocStatus.READY) == 1

    def test_list_is_ordered_by_name_across_tenants(self, registry: SqlRegistry) -> None:
        for doc_id, tenant in (("c3", "t1"), ("a1", "t2"), ("b2", "t1")):
            registry.upsert(_rec(doc_id, tenant=tenant))
        assert [d.doc_id for d in registry.list()] == ["a1", "b2", "c3"]
        assert [d.doc_id for d in registry.list("t1", DocStatus.READY)] == ["b2", "c3"]

    def test_upsert_is_idempotent_and_keeps_created_at(self, registry: SqlRegistry) -> None:
        registry.upsert(_rec("a1", status=DocStatus.INDEXING))
        first = registry.get("t1", "a1")
        for _ in range(3):
            registry.upsert(_rec("a1"))
        registry.set_status("t1", "a1", DocStatus.READY, chunks=7)
        assert len(registry.list("t1")) == 1
        got = registry.get("t1", "a1")
        assert first is not None and got is not None
        assert got.chunks == 7 and got.status is DocStatus.READY
        assert got.created_at == first.created_at and got.updated_at >= first.updated_at

    def test_persists_across_instances(self, registry: SqlRegistry, registry_url: str) -> None:
        registry.upsert(_rec("z9"))
        again = SqlRegistry(registry_url)
        got = again.get("t1", "z9")
        assert got is not None and got.filing.aliases == ["Acme"]
        again.engine.dispose()


class TestSqliteRegistry(RegistryContract):
    @pytest.fixture()
    def registry_url(self, tmp_path: Path) -> str:
        return f"sqlite:///{tmp_path / 'reg.sqlite3'}"

    @pytest.fixture()
    def registry(self, registry_url: str) -> Iterator[SqlRegistry]:
        reg = SqlRegistry(registry_url)
        reg.warm_up()
        yield reg
        reg.engine.dispose()

    def test_dialect(self, registry: SqlRegistry) -> None:
        assert registry.engine.dialect.name == "sqlite"


@pytest.mark.integration
class TestPostgresRegistry(RegistryContract):
    @pytest.fixture()
    def registry_url(self, pg: PostgresServer) -> str:
        return pg.create_database(f"t_{uuid.uuid4().hex[:12]}")

    @pytest.fixture()
    def registry(self, registry_url: str) -> Iterator[SqlRegistry]:
        pytest.importorskip("alembic")
        from finrag.db.migrations import upgrade

        upgrade(registry_url)  # production path: migrations first, then the app (create_all is then a no-op)
        reg = SqlRegistry(registry_url)
        reg.warm_up()
        yield reg
        reg.engine.dispose()

    def test_dialect(self, registry: SqlRegistry) -> None:
        assert registry.engine.dialect.name == "postgresql"
