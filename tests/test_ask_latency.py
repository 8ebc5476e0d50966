"""The ask path's shortcuts return what the long way returns: pages read in one round trip per filing
(guarded the same), the retriever's chunk cache (dropped when the tenant's filings change), and the
calculator's item finder reading a search's pages at once."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from finrag.answer.computation import ItemFinder
from finrag.answer.context import service_context
from finrag.answer.guard import GuardLog, guard_context
from finrag.records import DocStatus, Hit
from tests.test_api import CEDAR_8K, NORTHWIND_10K


def _injected_page(sample_dir: Path) -> tuple[str, int]:
    """doc_name and zero-based page of the sample's planted instruction."""
    for line in (sample_dir / "documents.jsonl").read_text().splitlines():
        record = json.loads(line)
        if "prompt_injection" in record:
            return record["doc_name"], record["prompt_injection"]["evidence_page_num"]
    raise AssertionError("the sample filings lost their prompt-injection page")


def test_pages_read_at_once_are_the_pages_read_one_by_one_and_guarded_alike(
    sample_service: Any, sample_dir: Path
) -> None:
    svc = sample_service
    docs = {d.name: d.doc_id for d in svc.documents()}
    name, page = _injected_page(sample_dir)
    other = next(d for n, d in docs.items() if n != name)
    # two filings interleaved, a page twice, and a page no filing has
    wanted = [(other, 0), (docs[name], page), (other, 1), (docs[name], 0), (other, 0), (docs[name], 99_999)]
    one_log, many_log = GuardLog(), GuardLog()
    one = guard_context(service_context(svc, svc.settings.tenant), one_log)
    many = guard_context(service_context(svc, svc.settings.tenant), many_log)
    assert many.read_pages is not None and one.read_page is not None
    one_by_one = [one.read_page(d, p) for d, p in wanted]
    at_once = many.read_pages(wanted)
    assert at_once == one_by_one
    assert at_once[-1] is None and all(at_once[:-1])
    assert one_log.passages and many_log.as_dict() == one_log.as_dict()  # the planted page was withheld alike


def test_the_item_finder_reads_a_search_s_pages_in_one_round_trip(sample_service: Any) -> None:
    svc = sample_service
    ctx = service_context(svc, svc.settings.tenant)
    hits = svc.retrieve("Northwind Robotics revenue and net income fiscal 2023").hits
    calls: list[list[tuple[str, int]]] = []
    read_pages = ctx.read_pages
    assert read_pages is not None and ctx.read_page is not None

    def counting(pages: Any) -> list[str | None]:
        calls.append(list(pages))
        return read_pages(pages)

    ctx.read_pages = counting
    finder = ItemFinder(hits + hits, ctx, None)  # the same hits twice: each page read once
    keys = list(dict.fromkeys((h.chunk.doc_id, h.chunk.page_start) for h in hits))
    assert calls == [keys]
    for (doc_id, page), held in finder.pages.items():
        assert held.hit.chunk.text == ctx.read_page(doc_id, page)
    finder.add(hits)  # nothing new: no read at all
    assert len(calls) == 1


def test_the_chunk_cache_returns_the_store_s_chunks_and_forgets_a_deleted_filing(
    service_factory: Any, sample_dir: Path
) -> None:
    svc = service_factory()
    assert not svc.ingest([sample_dir / NORTHWIND_10K, sample_dir / CEDAR_8K]).failed
    tenant = svc.settings.tenant
    hits: list[Hit] = svc.retrieve("What was Northwind Robotics' revenue in fiscal 2023?").hits
    ids = [h.chunk.parent_id or h.chunk.id for h in hits]
    ids = [*ids, ids[0], "00000000-0000-0000-0000-000000000000"]  # a repeat and an unknown id
    retriever = svc.retriever
    first = retriever._get_chunks(tenant, ids)
    assert [c.id for c in first] == [c.id for c in svc.c.store.get_chunks(tenant, ids)]
    assert [c.text for c in first] == [c.text for c in svc.c.store.get_chunks(tenant, ids)]
    assert [c.id for c in retriever._get_chunks(tenant, ids)] == [c.id for c in first]  # from the cache
    # Deleting a filing changes the READY fingerprint: its chunks are not served from the cache.
    northwind = next(d for d in svc.documents() if d.name == NORTHWIND_10K.removesuffix(".pdf"))
    cached_ids = {c.id for c in first if c.doc_id == northwind.doc_id}
    assert cached_ids
    assert svc.delete_document(northwind.doc_id)
    assert all(d.status == DocStatus.READY for d in svc.documents())
    assert not {c.id for c in retriever._get_chunks(tenant, ids)} & cached_ids
