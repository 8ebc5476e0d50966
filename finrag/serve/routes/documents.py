"""Documents: upload (queued ingest), list, show, delete, page images."""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import uuid
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, Response
from pydantic import StringConstraints
from starlette.concurrency import run_in_threadpool

from finrag.finance.companies import company_aliases
from finrag.ingest.boxes import draw_boxes, locate_quote
from finrag.ingest.render import PageRenderError
from finrag.records import Box, DocStatus, DocumentRecord
from finrag.serve.deps import IngestKey, ReadKey, StateDep
from finrag.serve.errors import ERROR_RESPONSES, NOT_FOUND, ApiError, ErrorResponse, not_found
from finrag.serve.jobs import QueueFullError
from finrag.serve.routes.jobs import job_out, public_reason
from finrag.serve.schemas import Deleted, DocumentList, DocumentOut, DocumentPatch, JobOut
from finrag.serve.state import ServeState

router = APIRouter(prefix="/v1/documents", tags=["documents"])

PDF_MAGIC = b"%PDF-"
_MAGIC_WINDOW = 1024  # the PDF spec tolerates a little junk before the header
_UNSAFE = re.compile(r"[^\w.-]+")  # \w: letters and digits of any script
DocId = Annotated[str, PathParam(min_length=1, max_length=255)]


def safe_filename(name: str | None) -> str:
    """The client's file name reduced to a harmless base name ending in .pdf (letters of any script are
    kept; separators, control and other characters become '_'). It is the document's name only: the
    file itself is stored under its content hash, so names never collide."""
    base = Path((name or "").replace("\\", "/")).name
    stem = _UNSAFE.sub("_", Path(base).stem).strip("._ ")[:120] or "upload"
    return f"{stem}.pdf"


def upload_key(tenant: str, digest: str) -> str:
    """Where an upload lives: by tenant and content hash (the same bytes twice are one file)."""
    return f"{tenant}/{digest}.pdf"


def _save_upload(state: ServeState, tenant: str, upload: UploadFile) -> tuple[str, Path]:
    """Copy the upload to data_dir/uploads/<tenant>/<sha256>.pdf after checking magic bytes, size and
    the tenant's quota. Returns (document name, stored path); a failed copy leaves no file behind."""
    limit = int(state.serve.max_upload_mb * 2**20)
    head = upload.file.read(_MAGIC_WINDOW)
    if PDF_MAGIC not in head:
        raise ApiError(
            415, "unsupported_media_type", "not a PDF: the file has no %PDF- header (only PDFs are accepted)"
        )
    name = safe_filename(upload.filename)
    folder = state.uploads_dir / tenant
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    quota = state.settings.security.tenant_quota_mb
    used = sum(p.stat().st_size for p in folder.glob("*.pdf")) if quota is not None else 0
    tmp = folder / f".{secrets.token_hex(8)}.part"
    size = 0
    digest = hashlib.sha256()
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            chunk = head
            while chunk:
                size += len(chunk)
                if size > limit:
                    raise ApiError(
                        413,
                        "payload_too_large",
                        f"upload larger than {state.serve.max_upload_mb:g} MB (FINRAG_SERVE_MAX_UPLOAD_MB)",
                    )
                if quota is not None and used + size > quota * 2**20:
                    raise ApiError(
                        413,
                        "quota_exceeded",
                        f"the tenant's storage quota of {quota:g} MB is used up (FINRAG_SECURITY_TENANT_QUOTA_MB)",
                    )
                digest.update(chunk)
                out.write(chunk)
                chunk = upload.file.read(1 << 20)
        final = state.uploads_dir / upload_key(tenant, digest.hexdigest())
        if final.exists():  # the same bytes again: one file, and ingest will say "unchanged"
            tmp.unlink()
        else:
            tmp.replace(final)
    finally:
        tmp.unlink(missing_ok=True)  # whatever went wrong (size, quota, a dropped connection), no partial file
    return name, final


@router.post(
    "",
    status_code=202,
    response_model=JobOut,
    summary="Upload a PDF filing; ingestion runs in the background (poll the job)",
    responses={
        **ERROR_RESPONSES,
        413: {"model": ErrorResponse, "description": "file too large"},
        415: {"model": ErrorResponse, "description": "not a PDF"},
        503: {"model": ErrorResponse, "description": "ingest queue full"},
    },
)
async def upload(
    request: Request,
    state: StateDep,
    who: IngestKey,
    file: Annotated[UploadFile, File(description="a PDF (checked by its %PDF- header)")],
) -> JobOut:
    name, path = await run_in_threadpool(_save_upload, state, who.tenant, file)
    try:
        job = await run_in_threadpool(state.jobs.submit_ingest, who.tenant, name, path, who.key_id)
    except QueueFullError:
        raise ApiError(503, "queue_full", "the ingest queue is full; retry later", {"Retry-After": "30"}) from None
    return job_out(job)


@router.get("", response_model=DocumentList, summary="Documents of the key's tenant", responses=ERROR_RESPONSES)
async def list_documents(state: StateDep, who: ReadKey) -> DocumentList:
    docs = await run_in_threadpool(state.service.documents, who.tenant)
    return DocumentList(documents=[document_out(d) for d in docs])


def document_out(rec: DocumentRecord) -> DocumentOut:
    """A document as clients see it: a failure's reason names the file as it was sent, never the path
    (or content-hash name) it is stored under."""
    out = DocumentOut.of(rec)
    out.error = public_reason(rec.error, f"{rec.name}.pdf")
    return out


def _document(state: ServeState, tenant: str, doc_id: str) -> DocumentRecord:
    rec = state.service.document(doc_id, tenant)
    if rec is None:  # another tenant's id looks exactly like a missing one
        raise not_found(f"document {doc_id!r}")
    return rec


@router.get(
    "/{doc_id}",
    response_model=DocumentOut,
    summary="One document (id or name)",
    responses={**ERROR_RESPONSES, **NOT_FOUND},
)
async def get_document(doc_id: DocId, state: StateDep, who: ReadKey) -> DocumentOut:
    return document_out(await run_in_threadpool(_document, state, who.tenant, doc_id))


def _delete(state: ServeState, tenant: str, doc_id: str) -> str:
    rec = _document(state, tenant, doc_id)
    with state.write_lock:  # the store takes one writer at a time: wait for a running ingest
        state.service.delete_document(rec.doc_id, tenant)
    state.tenant_changed(tenant)
    state.pages.forget(tenant, rec.doc_id)
    source = Path(rec.source_path)
    uploads = (state.uploads_dir / tenant).resolve()
    if source.parent == uploads and not any(d.source_path == rec.source_path for d in state.service.documents(tenant)):
        source.unlink(missing_ok=True)  # our own copy of the upload; files ingested by the CLI are left alone
    return rec.doc_id


@router.delete(
    "/{doc_id}", response_model=Deleted, summary="Delete a document", responses={**ERROR_RESPONSES, **NOT_FOUND}
)
async def delete_document(doc_id: DocId, state: StateDep, who: IngestKey) -> Deleted:
    return Deleted(deleted=True, id=await run_in_threadpool(_delete, state, who.tenant, doc_id))


def _correct(state: ServeState, tenant: str, doc_id: str, patch: DocumentPatch) -> DocumentRecord:
    """Re-scope a filing whose cover page was misread: the registry's Filing (what scope inference reads)
    and the payload of its points (what scope filters match), without re-embedding."""
    given = patch.model_fields_set
    if not given:
        raise ApiError(422, "validation_error", "nothing to change: give company, doc_type or fiscal_year")
    for name in ("company", "doc_type"):
        if name in given and getattr(patch, name) is None:
            raise ApiError(422, "validation_error", f"{name}: cannot be null")
    with state.write_lock:  # one writer at a time: an ingest of this document cannot interleave
        rec = _document(state, tenant, doc_id)
        if rec.status != DocStatus.READY:
            raise ApiError(409, "not_ready", f"document {doc_id!r} is {rec.status.value}: correct it once it is ready")
        f = rec.filing
        payload: dict[str, Any] = {}
        if "company" in given and patch.company is not None and patch.company != f.company:
            # The detected aliases and ticker named the misread company: they would keep scoping
            # questions about it to this filing.
            f.company, f.aliases, f.ticker = patch.company, company_aliases(patch.company), ""
            payload["company"] = patch.company
        if "doc_type" in given and patch.doc_type is not None:
            f.doc_type = patch.doc_type
            payload["doc_type"] = patch.doc_type.value
        if "fiscal_year" in given:
            f.fiscal_year = patch.fiscal_year
            payload["fiscal_year"] = patch.fiscal_year
        for name in given:
            f.source[name] = "override"
        registry, store = state.service.c.registry, state.service.c.store
        if payload:
            store.set_document_payload(tenant, rec.doc_id, payload)
            store.flush()
        registry.upsert(rec)
    state.tenant_changed(tenant)  # cached answers were scoped with the old values
    updated = registry.get(tenant, rec.doc_id)
    assert updated is not None
    return updated


@router.patch(
    "/{doc_id}",
    response_model=DocumentOut,
    summary="Correct a filing's detected company, form or fiscal year (re-scoped without re-embedding)",
    responses={
        **ERROR_RESPONSES,
        **NOT_FOUND,
        409: {"model": ErrorResponse, "description": "the document is not ready (being ingested, or failed)"},
    },
)
async def correct_document(doc_id: DocId, patch: DocumentPatch, state: StateDep, who: IngestKey) -> DocumentOut:
    return document_out(await run_in_threadpool(_correct, state, who.tenant, doc_id, patch))


def _page(state: ServeState, tenant: str, doc_id: str, n: int) -> Path:
    rec = _document(state, tenant, doc_id)
    if not 1 <= n <= rec.pages:
        raise not_found(f"page {n} of document {doc_id!r} ({rec.pages} pages)")
    cached = state.pages.path_for(tenant, rec.doc_id, n)
    if cached.exists():
        return cached
    source = Path(rec.source_path)
    if not source.is_file():
        raise not_found(f"the source PDF of document {doc_id!r}")
    try:
        return state.pages.render(tenant, rec.doc_id, source, n)
    except PageRenderError as exc:
        raise ApiError(500, "render_failed", str(exc)) from exc


# x0,y0,x1,y1: numbers of at most 6 digits (a page is a few thousand points at most), in the schema, so a
# malformed box is refused by validation like any other bad parameter
_NUMBER = r"\s*(-?\d{1,6}(?:\.\d{1,6})?)\s*"
BOX_PATTERN = rf"^{_NUMBER},{_NUMBER},{_NUMBER},{_NUMBER}$"
_BOX_PARAM = re.compile(BOX_PATTERN)
_MAX_BOXES = 50


def parse_box(value: str) -> Box:
    """`x0,y0,x1,y1` in PDF points, top-left origin (a citation's box as the API returns it); corners
    given in either order make the same box."""
    m = _BOX_PARAM.match(value)
    if m is None:  # the route's validation refuses these first; kept for direct callers
        raise ApiError(422, "invalid_box", f"box={value!r}: expected x0,y0,x1,y1 (numbers, PDF points)")
    x0, y0, x1, y1 = (float(v) for v in m.groups())
    return Box(x0=min(x0, x1), y0=min(y0, y1), x1=max(x0, x1), y1=max(y0, y1))


def _highlight_boxes(
    state: ServeState, tenant: str, rec: DocumentRecord, n: int, chunk_id: str, quote: str | None
) -> tuple[list[Box], float, float]:
    """The boxes of a cited chunk on page `n` (of `quote` within it when given): 404 for a chunk that is
    not the tenant's, not this document's or not on this page, exactly like a missing one."""
    try:
        uuid.UUID(chunk_id)
    except ValueError:
        raise not_found(f"chunk {chunk_id!r}") from None
    chunks = state.service.c.store.get_chunks(tenant, [chunk_id])
    if not chunks or chunks[0].doc_id != rec.doc_id or not chunks[0].page_start + 1 <= n <= chunks[0].page_end + 1:
        raise not_found(f"chunk {chunk_id!r} on page {n} of document {rec.doc_id!r}")
    glyphs = state.service.locator.glyphs(tenant, rec.doc_id, n)
    if glyphs is None:
        return [], 0.0, 0.0
    return locate_quote(glyphs, quote or chunks[0].text, context=chunks[0].text), glyphs.width, glyphs.height


def _highlighted(
    state: ServeState, tenant: str, doc_id: str, n: int, chunk_id: str | None, quote: str | None, boxes: list[Box]
) -> bytes:
    path = _page(state, tenant, doc_id, n)
    rec = _document(state, tenant, doc_id)
    width = 0.0
    if chunk_id:
        found, width, _ = _highlight_boxes(state, tenant, rec, n, chunk_id, quote)
        boxes = [*found, *boxes]
    if not width:
        glyphs = state.service.locator.glyphs(tenant, rec.doc_id, n)
        width = glyphs.width if glyphs is not None else 0.0
    # without the page's size, the renderer's resolution says how points map to pixels
    return draw_boxes(path.read_bytes(), boxes, width, fallback_scale=state.pages.dpi / 72)


@router.get(
    "/{doc_id}/pages/{n}.png",
    summary="Image of a page (1-based), for showing a citation; optionally with the cited text highlighted",
    response_class=FileResponse,
    responses={**ERROR_RESPONSES, **NOT_FOUND, 200: {"content": {"image/png": {}}}},
)
async def page_image(
    doc_id: DocId,
    n: Annotated[int, PathParam(ge=1, le=100_000)],
    state: StateDep,
    who: ReadKey,
    highlight: Annotated[
        str | None,
        Query(
            max_length=64,
            description="a citation's chunk_id: draw where its quote (or, without `quote`, the chunk) is on the page",
        ),
    ] = None,
    quote: Annotated[
        str | None, Query(max_length=2000, description="with `highlight`: the citation's quote, to mark only it")
    ] = None,
    box: Annotated[
        list[Annotated[str, StringConstraints(pattern=BOX_PATTERN)]] | None,
        Query(
            max_length=_MAX_BOXES,
            description="x0,y0,x1,y1 in PDF points, top-left origin (a citation's `boxes`); repeatable",
        ),
    ] = None,
) -> Response:
    if highlight is None and not box:
        path = await run_in_threadpool(_page, state, who.tenant, doc_id, n)
        # Private: page images are tenant data, so no shared caches.
        return FileResponse(path, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})
    boxes = [parse_box(b) for b in box or []]
    png = await run_in_threadpool(_highlighted, state, who.tenant, doc_id, n, highlight, quote, boxes)
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, max-age=3600"})
