"""What keeps the question path flat as filings grow: the registry's fingerprint and READY lookup (SQL, no
listing), the retriever's scope resolver rebuilt only when the registry changed, and company lookup by
inverted index over thousands of filings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from finrag.records import DocStatus, DocType, DocumentRecord, Filing
from finrag.registry.sql import SqlRegistry
from finrag.retrieve.retriever import Retriever
from finrag.retrieve.scope import ScopeResolver
from finrag.settings import RetrievalSettings


def _doc(
    i: int, status: DocStatus = DocStatus.READY, year: int = 2023, form: DocType = DocType.TEN_K
) -> DocumentRecord:
    company = f"Company{i:05d} Widgets Inc."
    return DocumentRecord(
        doc_id=f"d{i:05d}-{year}-{form}",
        tenant="t",
        name=f"C{i}_{year}",
        source_path=f"/x/{i}-{year}-{form}",
        content_hash=f"h{i}-{year}-{form}",
        status=status,
        filing=Filing(company=company, ticker=f"T{i:04d}"[:5], doc_type=form, fiscal_year=year),
    )


def test_fingerprint_follows_every_change(tmp_path: Path) -> None:
    reg = SqlRegistry(f"sqlite:///{tmp_path / 'r.sqlite3'}")
    seen = {reg.fingerprint("t", DocStatus.READY)}
    reg.upsert(_doc(1))
    seen.add(reg.fingerprint("t", DocStatus.READY))
    reg.upsert(_doc(2, DocStatus.INDEXING))
    assert reg.fingerprint("t", DocStatus.READY) in seen  # another status: the READY listing is unchanged
    reg.set_status("t", _doc(2).doc_id, DocStatus.READY)
    seen.add(reg.fingerprint("t", DocStatus.READY))
    reg.delete("t", _doc(1).doc_id)
    seen.add(reg.fingerprint("t", DocStatus.READY))
    assert len(seen) == 4
    assert reg.fingerprint("other", DocStatus.READY).startswith("0:")


def test_ready_ids_only_the_ready_among_those_asked(tmp_path: Path) -> None:
    reg = SqlRegistry(f"sqlite:///{tmp_path / 'r.sqlite3'}")
    for i in range(5):
        reg.upsert(_doc(i, DocStatus.READY if i % 2 == 0 else DocStatus.INDEXING))
    asked = {_doc(i).doc_id for i in (0, 1, 2)} | {"missing"}
    assert reg.ready_ids("t", asked) == {_doc(0).doc_id, _doc(2).doc_id}
    assert reg.ready_ids("other", asked) == set()
    assert reg.ready_ids("t", []) == set()


class _CountingRegistry:
    def __init__(self, registry: SqlRegistry) -> None:
        self.registry = registry
        self.lists = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.registry, name)

    def list(self, tenant: str | None = None, status: DocStatus | None = None) -> list[DocumentRecord]:
        self.lists += 1
        return self.registry.list(tenant=tenant, status=status)


def test_resolver_is_rebuilt_only_when_the_registry_changes(tmp_path: Path) -> None:
    reg = _CountingRegistry(SqlRegistry(f"sqlite:///{tmp_path / 'r.sqlite3'}"))
    for i in range(3):
        reg.upsert(_doc(i))
    retriever = Retriever(None, None, None, reg, RetrievalSettings(), None)  # type: ignore[arg-type]
    first = retriever.resolver("t")
    for _ in range(5):
        assert retriever.resolver("t") is first
    assert reg.lists == 1
    reg.upsert(_doc(7))
    assert retriever.resolver("t") is not first
    assert reg.lists == 2
    assert [d.doc_id for d in retriever.resolver("t").companies_in("What did Company00007 Widgets earn?")] == [
        _doc(7).doc_id
    ]


def test_company_lookup_among_thousands_of_filings() -> None:
    docs = [_doc(i, year=y) for i in range(1500) for y in (2022, 2023)]
    resolver = ScopeResolver(docs)
    scope = resolver.resolve("What was Company01234 Widgets' revenue in fiscal 2022?")
    assert scope.doc_ids == [_doc(1234, year=2022).doc_id]
    by_ticker = resolver.companies_in("How did T0042 do?")
    assert {d.doc_id for d in by_ticker} == {_doc(42, year=y).doc_id for y in (2022, 2023)}
    # No company named: the form alone narrows the search to every filing of that form.
    docs.append(_doc(9999, form=DocType.TEN_Q))
    unnamed = ScopeResolver(docs).resolve("Which companies filed a 10-Q with a going concern warning?")
    assert unnamed.company_missing and unnamed.doc_ids == [_doc(9999, form=DocType.TEN_Q).doc_id]
