"""Chunk <-> payload mapping shared by every VectorStore implementation (edge and server)."""

from __future__ import annotations

from typing import Any

from finrag.records import Chunk, ChunkKind

# section_key: the item / notes section covering most of the page; sections: every section on it.
SECTION_FIELDS = ("section_key", "sections")
KEYWORD_FIELDS = ("tenant", "doc_id", "kind", "doc_type", "company", *SECTION_FIELDS)
INTEGER_FIELDS = ("fiscal_year", "page_start")
# Server stores index is_child as a bool; the edge store filters children by `kind` instead.
BOOL_FIELDS = ("is_child",)


def chunk_payload(chunk: Chunk) -> dict[str, Any]:
    meta = chunk.metadata
    payload: dict[str, Any] = {
        "tenant": chunk.tenant,
        "doc_id": chunk.doc_id,
        "kind": chunk.kind.value,
        "is_child": chunk.kind != ChunkKind.PAGE,
        "text": chunk.text,
        "page_start": chunk.page_start,
        "page_end": chunk.page_end,
        "parent_id": chunk.parent_id or "",
        "section": chunk.section,
        "doc_name": meta.get("doc_name", ""),
        "company": meta.get("company", ""),
        "doc_type": meta.get("doc_type", ""),
        "section_key": meta.get("section_key", ""),
        "sections": list(meta.get("sections", [])),
    }
    if meta.get("fiscal_year") is not None:
        payload["fiscal_year"] = int(meta["fiscal_year"])
    if meta.get("fiscal_quarter") is not None:
        payload["fiscal_quarter"] = int(meta["fiscal_quarter"])
    return payload


def chunk_from_payload(point_id: str, payload: dict[str, Any]) -> Chunk:
    meta = {
        "doc_name": payload.get("doc_name", ""),
        "company": payload.get("company", ""),
        "doc_type": payload.get("doc_type", ""),
        "fiscal_year": payload.get("fiscal_year"),
        "fiscal_quarter": payload.get("fiscal_quarter"),
        "section_key": payload.get("section_key", ""),
        "sections": list(payload.get("sections") or []),
    }
    return Chunk(
        id=point_id,
        doc_id=payload.get("doc_id", ""),
        tenant=payload.get("tenant", ""),
        kind=ChunkKind(payload.get("kind", ChunkKind.PASSAGE.value)),
        text=payload.get("text", ""),
        page_start=int(payload.get("page_start", 0)),
        page_end=int(payload.get("page_end", 0)),
        parent_id=payload.get("parent_id") or None,
        section=payload.get("section", ""),
        metadata=meta,
    )
