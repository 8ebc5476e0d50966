"""The tools pipelines may use for one tenant's question (search, pages, page images, whole filings)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from finrag.records import Chunk, Hit, Scope

SearchFn = Callable[[str, Scope | None], list[Hit]]
ReadPageFn = Callable[[str, int], "str | None"]  # (doc_id, zero-based page) -> page text
# [(doc_id, zero-based page)] -> each page's text (None when the store lacks it), in the order asked
ReadPagesFn = Callable[[Sequence[tuple[str, int]]], "list[str | None]"]
PageImageFn = Callable[[str, int], bytes]  # (doc_id, zero-based page) -> PNG
ReadDocumentFn = Callable[[str], "list[Chunk]"]  # doc_id -> its page chunks, in page order
# (question, scope) -> [(doc_id, zero-based page, score)], best first: pages found by their image
VisualPagesFn = Callable[[str, Scope], "list[tuple[str, int, float]]"]


@dataclass(slots=True)
class TenantContext:
    """The tools pipelines may use for one tenant's question. All optional: without `search` the
    agentic pipeline works from the retrieved hits only; without `page_image` vision answers from text."""

    tenant: str = "default"
    search: SearchFn | None = None
    read_page: ReadPageFn | None = None
    page_image: PageImageFn | None = None
    doc_names: Mapping[str, str] | None = None  # doc_id -> name, when chunks lack it
    read_document: ReadDocumentFn | None = None  # whole filings, for the long-context route
    visual_pages: VisualPagesFn | None = None  # page-image search, when a page-image service is configured
    # `read_page` for several pages in one store round trip per filing (what a search's hits need)
    read_pages: ReadPagesFn | None = None


class _ServiceLike(Protocol):
    """What `service_context` needs from a QAService (duck-typed to keep this module import-light)."""

    c: Any
    settings: Any

    def retrieve(self, question: str, tenant: str | None = ..., top_k: int | None = ..., filters: Any = ...) -> Any: ...


def service_context(service: _ServiceLike, tenant: str, *, render_scale: float = 1.5) -> TenantContext:
    """Tools backed by a QAService: search = its retriever, pages from the store's parent chunks,
    page images rendered from the registry's source PDF."""
    from finrag.ingest.render import render_page_png

    def search(query: str, scope: Scope | None) -> list[Hit]:
        return list(service.retrieve(query, tenant, filters=scope).hits)

    def read_pages(pages: Sequence[tuple[str, int]]) -> list[str | None]:
        by_doc: dict[str, list[int]] = {}
        for doc_id, page in pages:
            by_doc.setdefault(doc_id, []).append(page)
        texts: dict[tuple[str, int], str] = {}
        for doc_id, wanted in by_doc.items():
            for c in service.c.store.page_chunks(tenant, doc_id, wanted):
                texts.setdefault((doc_id, c.page_start), c.text)  # a page's first chunk, should it have two
        return [texts.get(p) for p in pages]

    def read_page(doc_id: str, page: int) -> str | None:
        return read_pages([(doc_id, page)])[0]

    def page_image(doc_id: str, page: int) -> bytes:
        rec = service.c.registry.get(tenant, doc_id)
        if rec is None:
            raise LookupError(f"document {doc_id} not found for tenant {tenant}")
        return render_page_png(rec.source_path, page, scale=render_scale)

    def read_document(doc_id: str) -> list[Chunk]:
        rec = service.c.registry.get(tenant, doc_id)
        if rec is None or rec.pages <= 0:
            return []
        pages = service.c.store.page_chunks(tenant, doc_id, range(rec.pages))
        return sorted(pages, key=lambda c: c.page_start)

    return TenantContext(
        tenant=tenant,
        search=search,
        read_page=read_page,
        read_pages=read_pages,
        page_image=page_image,
        read_document=read_document,
        visual_pages=_visual_pages(service, tenant),
    )


def _visual_pages(service: _ServiceLike, tenant: str) -> VisualPagesFn | None:
    """Page-image search (the question's multi-vector against the pages', MaxSim), when configured."""
    embedder, index = service.c.page_embedder, service.c.page_index
    if embedder is None or index is None:
        return None
    limit = service.settings.retrieval.page_image_candidates

    def visual_pages(question: str, scope: Scope) -> list[tuple[str, int, float]]:
        query = embedder.embed_queries([question])[0]
        return [(h.doc_id, h.page, h.score) for h in index.search(tenant, query, scope, limit)]

    return visual_pages
