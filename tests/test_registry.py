from pathlib import Path

import pytest

from finrag.records import DocStatus, DocType, DocumentRecord, Filing
from finrag.registry.sql import SqlRegistry


@pytest.fixture()
def registry(tmp_path: Path) -> SqlRegistry:
    reg = SqlRegistry(f"sqlite:///{tmp_path / 'reg.sqlite3'}")
    reg.warm_up()
    return reg


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


def test_roundtrip_keeps_filing_metadata(registry: SqlRegistry) -> None:
    registry.upsert(_rec("a1"))
    got = registry.get("t1", "a1")
    assert got is not None
    assert got.filing.company == "Acme Corp"
    assert got.filing.doc_type is DocType.TEN_K
    assert got.filing.fiscal_year == 2022
    assert got.filing.aliases == ["Acme"]
    assert got.status is DocStatus.READY


def test_tenants_are_separate(registry: SqlRegistry) -> None:
    registry.upsert(_rec("a1", tenant="t1"))
    registry.upsert(_rec("a1", tenant="t2"))
    assert [d.tenant for d in registry.list(tenant="t1")] == ["t1"]
    assert registry.find_by_hash("t2", "a1" * 4) is not None
    assert registry.find_by_hash("t3", "a1" * 4) is None
    registry.delete("t1", "a1")
    assert registry.get("t1", "a1") is None
    assert registry.get("t2", "a1") is not None


def test_status_and_filters(registry: SqlRegistry) -> None:
    registry.upsert(_rec("a1", status=DocStatus.INDEXING, path="/a.pdf"))
    registry.upsert(_rec("b2", status=DocStatus.READY, path="/a.pdf"))
    assert [d.doc_id for d in registry.list("t1", DocStatus.INDEXING)] == ["a1"]
    registry.set_status("t1", "a1", DocStatus.FAILED, error="boom")
    failed = registry.get("t1", "a1")
    assert failed is not None and failed.status is DocStatus.FAILED and failed.error == "boom"
    assert {d.doc_id for d in registry.find_by_source("t1", "/a.pdf")} == {"a1", "b2"}
    with pytest.raises(KeyError):
        registry.set_status("t1", "nope", DocStatus.READY)


def test_persists_across_instances(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.sqlite3'}"
    SqlRegistry(url).upsert(_rec("z9"))
    again = SqlRegistry(url)
    assert again.get("t1", "z9") is not None
