"""Ingest pipeline: files -> (parse, describe, chunk in a worker process) -> embed -> index -> registry.

Parsing and chunking run in a process pool while the main process embeds the previous filing, so the
model (the bottleneck) never waits. A document is `ready` only after its chunks are flushed; a crash
leaves it `indexing`, and the next run deletes its partial chunks and redoes it."""

from __future__ import annotations

import hashlib
import logging
import multiprocessing as mp
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from finrag.protocols import Embedder, ParseError, Registry, SparseEncoder, VectorStore
from finrag.records import Chunk, ChunkKind, DocStatus, DocType, DocumentRecord, Filing

if TYPE_CHECKING:
    from finrag.ingest.page_images import PageImageIndexer

log = logging.getLogger(__name__)

PDF_SUFFIXES = {".pdf"}


@dataclass(slots=True)
class FilingOverrides:
    """Explicit metadata given at ingest; wins over what the cover page says."""

    company: str | None = None
    fiscal_year: int | None = None
    doc_type: str | None = None

    def apply(self, filing: Filing) -> Filing:
        if self.company:
            filing.company = self.company
            filing.source["company"] = "override"
        if self.fiscal_year:
            filing.fiscal_year = self.fiscal_year
            filing.source["fiscal_year"] = "override"
        if self.doc_type:
            filing.doc_type = DocType(self.doc_type)
            filing.source["doc_type"] = "override"
        return filing


@dataclass(slots=True)
class ParsedFiling:
    path: str
    filing: Filing
    pages: int
    chunks: list[Chunk]
    parse_s: float
    chunk_s: float


@dataclass(slots=True)
class IngestEvent:
    path: str
    status: str  # ingested | skipped | failed | replaced
    doc_id: str = ""
    pages: int = 0
    chunks: int = 0
    reason: str = ""


@dataclass(slots=True)
class IngestReport:
    events: list[IngestEvent] = field(default_factory=list)
    pages: int = 0
    chunks: int = 0
    embedded: int = 0
    seconds: dict[str, float] = field(
        default_factory=lambda: dict.fromkeys(("hash", "parse", "chunk", "embed", "sparse", "index", "registry"), 0.0)
    )
    wall_s: float = 0.0
    # The index builds (`IngestPipeline(index_min_points=..., segment_points=...)`): their seconds
    # together, None when none ran; not part of `seconds` or `wall_s` so pages/s figures stay comparable
    # with and without them. `index_builds`: how many ran (mid-run ones and the end-of-run one).
    index_build_s: float | None = None
    index_builds: int = 0
    index_points: int = 0
    # Why that build failed ("" when it did not): the run's documents are still ingested and searched
    # (by a full scan of the unindexed segments) until a build succeeds.
    index_build_error: str = ""
    embedder: str = ""  # what embedded the documents (model/backend)

    @property
    def failed(self) -> list[IngestEvent]:
        return [e for e in self.events if e.status == "failed"]

    def count(self, status: str) -> int:
        return sum(1 for e in self.events if e.status == status)


def discover(paths: Iterable[Path]) -> list[Path]:
    """Files given directly are taken as they are (a non-PDF gets a clear error later); folders are
    searched recursively for PDFs."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in PDF_SUFFIXES))
        else:
            found.append(path)
    return found


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class ChunkOptions:
    """What the chunker in a parse worker needs (picklable)."""

    max_tokens: int = 240
    with_prefix: bool = True
    exhibit_passages: int = 0
    strip_running_lines: bool = False


def _parse_and_chunk(
    path: str, doc_id: str, tenant: str, options: ChunkOptions, overrides: FilingOverrides, name: str
) -> ParsedFiling:
    """Runs in a worker process: everything CPU-bound that is not the embedding model. `name`: the
    document's name (its file's stem, or the original name of an upload stored under its hash)."""
    # Imported here: a re-ingest of unchanged files never parses, so it never pays for pdfium or the chunker.
    from finrag.ingest.chunk import FilingChunker
    from finrag.ingest.describe import CoverPageDescriber
    from finrag.ingest.parse import PdfiumParser

    t0 = time.perf_counter()
    pages = list(PdfiumParser().parse(Path(path)))
    filing = overrides.apply(CoverPageDescriber().describe(pages[:5], f"{name}{Path(path).suffix}"))
    t1 = time.perf_counter()
    chunker = FilingChunker(
        max_tokens=options.max_tokens,
        with_prefix=options.with_prefix,
        exhibit_passages=options.exhibit_passages,
        strip_running_lines=options.strip_running_lines,
    )
    chunks = chunker.chunk(doc_id, tenant, name, filing, pages)
    return ParsedFiling(path, filing, len(pages), chunks, t1 - t0, time.perf_counter() - t1)


class IngestPipeline:
    def __init__(
        self,
        registry: Registry,
        store: VectorStore,
        embedder: Embedder,
        sparse: SparseEncoder,
        *,
        child_max_tokens: int = 240,
        metadata_prefix: bool = True,
        parse_workers: int = 1,
        page_images: PageImageIndexer | None = None,
        exhibit_passages: int = 0,
        strip_running_lines: bool = False,
        index_min_points: int = 0,
        segment_points: int = 0,
        bulk_embedder: Embedder | None = None,
        bulk_min_pages: int = 0,
    ) -> None:
        """`index_min_points`: a run that wrote chunks ends with `store.optimize()` (the HNSW build) once
        the store holds at least this many points; 0 = never (search scans unindexed segments).
        `segment_points`: with builds on, a run also builds whenever its writes carry the store past a
        multiple of this many points, so the segments a long run makes stay about that size (one
        build of a whole large run would need memory for one segment of everything); 0 = only at the end.

        `bulk_embedder` (the same model, faster in bulk but slow to load) embeds the documents of a run
        with at least `bulk_min_pages` pages to ingest (0: every run), and of every run after it has been
        loaded (`warm_up`, or an earlier large run); the other runs use `embedder`."""
        self.registry = registry
        self.bulk_embedder = bulk_embedder
        self.bulk_min_pages = bulk_min_pages
        self._bulk_loaded = False
        self.index_min_points = index_min_points
        self.segment_points = segment_points
        # Store points before the run's first write, and at its last build (`build_segment_if_due`).
        self._points_before: int | None = None
        self._points_built = 0
        self.page_images = page_images  # visual retrieval, when a page-image service is configured
        self.store = store
        self.embedder = embedder
        self.sparse = sparse
        self.child_max_tokens = child_max_tokens
        self.metadata_prefix = metadata_prefix
        self.parse_workers = parse_workers
        self.exhibit_passages = exhibit_passages
        self.strip_running_lines = strip_running_lines
        self._names: dict[str, str] = {}

    # ---------------------------------------------------------------------------------------------
    def recover(self, tenant: str | None = None) -> list[DocumentRecord]:
        """Documents left `indexing` by a crash: drop their partial chunks; they are redone."""
        stale = self.registry.list(tenant=tenant, status=DocStatus.INDEXING)
        for rec in stale:
            log.warning("recovering interrupted ingest", extra={"doc_id": rec.doc_id, "doc": rec.name})
            self.store.delete_document(rec.tenant, rec.doc_id)
            if self.page_images is not None:
                self.page_images.delete_document(rec.tenant, rec.doc_id)
            self.registry.set_status(rec.tenant, rec.doc_id, DocStatus.PENDING, chunks=0)
        return stale

    def run(
        self,
        paths: Sequence[Path],
        tenant: str,
        overrides: FilingOverrides | None = None,
        on_event: Callable[[IngestEvent], None] | None = None,
        names: Mapping[str, str] | None = None,
    ) -> IngestReport:
        """`names`: document names by resolved path, for files stored under another name (uploads are
        kept under their content hash); the others are named after their file."""
        report = IngestReport()
        start = time.perf_counter()
        overrides = overrides or FilingOverrides()
        emit = on_event or (lambda _e: None)
        # The store opens on first use (~0.5 s on a 57k-point shard): a run where every file is unchanged
        # never needs it, nor the embedding model.
        self.registry.warm_up()

        stale = self.recover(tenant)
        self._names = {str(Path(p).resolve()): n for p, n in (names or {}).items()}
        for rec in stale:  # a redone document keeps the name it was given
            self._names.setdefault(rec.source_path, rec.name)
        files = discover(paths)
        # Finish what a crashed run left behind, even when it is not named this time.
        named = {str(p.resolve()) for p in files}
        files += [Path(r.source_path) for r in stale if r.source_path not in named and Path(r.source_path).exists()]

        todo: list[tuple[Path, str, str]] = []  # path, doc_id, hash
        t0 = time.perf_counter()
        for path in files:
            try:
                digest = file_hash(path)
            except OSError as exc:
                event = IngestEvent(str(path), "failed", reason=f"cannot read file: {exc.strerror or exc}")
                report.events.append(event)
                emit(event)
                continue
            existing = self.registry.find_by_hash(tenant, digest)
            if existing and existing.status == DocStatus.READY:
                event = IngestEvent(str(path), "skipped", existing.doc_id, existing.pages, existing.chunks, "unchanged")
                report.events.append(event)
                emit(event)
                continue
            if any(h == digest for _, _, h in todo):  # the same bytes twice in one batch
                event = IngestEvent(str(path), "skipped", digest[:16], reason="duplicate of another file in this batch")
                report.events.append(event)
                emit(event)
                continue
            todo.append((path, digest[:16], digest))
        report.seconds["hash"] += time.perf_counter() - t0

        embedder = self._embedder_for([path for path, _, _ in todo])
        report.embedder = embedder.name
        self._points_before = None
        for path, doc_id, digest, parsed_or_error in self._parsed(todo, tenant, overrides):
            if isinstance(parsed_or_error, str):
                event = self._record_failure(path, tenant, doc_id, digest, parsed_or_error)
            else:
                event = self._index(path, tenant, doc_id, digest, parsed_or_error, report, embedder)
                self.build_segment_if_due(report)
            report.events.append(event)
            emit(event)

        if self.index_min_points and report.chunks and (self._points_before is None or self._unbuilt(report)):
            self._build_index(report)
        report.wall_s = time.perf_counter() - start - (report.index_build_s or 0.0)
        return report

    def _unbuilt(self, report: IngestReport) -> int:
        """Points this run wrote since its last build (replaced documents' old chunks not netted out)."""
        assert self._points_before is not None
        return self._points_before + report.chunks - self._points_built

    def build_segment_if_due(self, report: IngestReport) -> None:
        """After a document: build the index when the run's writes carried the store past the next
        multiple of `segment_points` since its start or last build (points counted once, at the first
        call). Also used by runs that index documents one by one (bench/scale.py)."""
        if not (self.index_min_points and self.segment_points and report.chunks):
            return
        if self._points_before is None:
            self._points_before = self.store.count() - report.chunks
            self._points_built = self._points_before
        now = self._points_before + report.chunks
        if now // self.segment_points > self._points_built // self.segment_points and now >= self.index_min_points:
            self._build_index(report)
            self._points_built = now

    @property
    def document_embedder(self) -> Embedder:
        """What embeds a run's documents when its size does not decide: the bulk embedder once loaded, or
        always with `bulk_min_pages` 0."""
        if self.bulk_embedder is not None and (self._bulk_loaded or self.bulk_min_pages <= 0):
            return self.bulk_embedder
        return self.embedder

    def warm_up(self) -> None:
        """Load the embedder for documents; with a bulk embedder, that one, which every later run then uses
        (a long-running worker pays its load once)."""
        if self.bulk_embedder is not None:
            self._bulk_loaded = True
        self.document_embedder.warm_up()

    def _embedder_for(self, paths: Sequence[Path]) -> Embedder:
        """The bulk embedder when it is loaded or the run is large enough to repay loading it (pages
        counted from the PDFs' page trees; a file that cannot be opened counts none, its parse says why)."""
        if self.bulk_embedder is None or self.document_embedder is self.bulk_embedder:  # nothing to decide
            return self.document_embedder
        from finrag.ingest.parse import PdfiumParser

        parser, pages = PdfiumParser(), 0
        for path in paths:
            try:
                pages += parser.page_count(path)
            except ParseError:  # not a PDF, missing, corrupt, encrypted: its parse reports it
                continue
            if pages >= self.bulk_min_pages:
                self._bulk_loaded = True
                break
        return self.document_embedder

    def _build_index(self, report: IngestReport) -> None:
        """The index build after a run that wrote chunks, once the store is big enough for a full scan to
        cost more than the graph; timed apart from the ingest (`report.index_build_s`)."""
        points = self.store.count()
        if points < self.index_min_points:
            return
        t = time.perf_counter()
        report.index_points = points
        try:
            self.store.optimize()
        except Exception as exc:  # the documents are in; a failed build only leaves them unindexed
            report.index_build_error = f"{type(exc).__name__}: {exc}"
            log.error("index build failed", extra={"points": points, "error": report.index_build_error})
            return
        took = time.perf_counter() - t
        report.index_build_s = (report.index_build_s or 0.0) + took
        report.index_builds += 1
        log.info("index built", extra={"points": points, "seconds": round(took, 1)})

    # ---------------------------------------------------------------------------------------------
    def _parsed(
        self, todo: list[tuple[Path, str, str]], tenant: str, overrides: FilingOverrides
    ) -> Iterator[tuple[Path, str, str, ParsedFiling | str]]:
        """(path, doc id, hash, parsed filing or the reason it failed), in order."""
        jobs = [
            (
                path,
                doc_id,
                digest,
                (str(path), doc_id, tenant, self.chunk_options, overrides, self._name(path)),
            )
            for path, doc_id, digest in todo
        ]
        if self.parse_workers <= 0 or len(todo) <= 1:
            for path, doc_id, digest, arg in jobs:
                yield path, doc_id, digest, _safe(_parse_and_chunk, *arg)
            return
        with parse_pool(self.parse_workers) as pool:
            # Bounded look-ahead: at most workers + 1 parsed filings wait in memory.
            window = self.parse_workers + 1
            pending: list[tuple[Path, str, str, Future[ParsedFiling | str]]] = []
            while jobs or pending:
                while jobs and len(pending) < window:
                    path, doc_id, digest, arg = jobs.pop(0)
                    pending.append((path, doc_id, digest, pool.submit(_safe, _parse_and_chunk, *arg)))
                path, doc_id, digest, fut = pending.pop(0)
                try:
                    yield path, doc_id, digest, fut.result()
                except Exception as exc:  # the worker process itself died: fail this file, keep the batch
                    log.exception("parse worker failed", extra={"path": str(path)})
                    yield path, doc_id, digest, f"unexpected error while parsing: {type(exc).__name__}: {exc}"

    @property
    def chunk_options(self) -> ChunkOptions:
        return ChunkOptions(
            self.child_max_tokens, self.metadata_prefix, self.exhibit_passages, self.strip_running_lines
        )

    def _record_failure(self, path: Path, tenant: str, doc_id: str, digest: str, reason: str) -> IngestEvent:
        self.registry.upsert(
            DocumentRecord(
                doc_id=doc_id,
                tenant=tenant,
                name=self._name(path),
                source_path=str(path.resolve()),
                content_hash=digest,
                status=DocStatus.FAILED,
                error=reason,
            )
        )
        log.warning("ingest failed", extra={"path": str(path), "reason": reason})
        return IngestEvent(str(path), "failed", doc_id, reason=reason)

    def _index(
        self,
        path: Path,
        tenant: str,
        doc_id: str,
        digest: str,
        parsed: ParsedFiling,
        report: IngestReport,
        embedder: Embedder,
    ) -> IngestEvent:
        report.seconds["parse"] += parsed.parse_s
        report.seconds["chunk"] += parsed.chunk_s
        source = str(path.resolve())
        record = DocumentRecord(
            doc_id=doc_id,
            tenant=tenant,
            name=self._name(path),
            source_path=source,
            content_hash=digest,
            status=DocStatus.INDEXING,
            pages=parsed.pages,
            filing=parsed.filing,
        )
        t = time.perf_counter()
        self.registry.upsert(record)
        report.seconds["registry"] += time.perf_counter() - t
        # A previous partial attempt of this very document may have left points behind.
        self.store.delete_document(tenant, doc_id)

        from finrag.ingest.chunk import dense_view

        children = [c for c in parsed.chunks if c.kind != ChunkKind.PAGE]
        t = time.perf_counter()
        dense = embedder.embed_documents([dense_view(c.index_text) for c in children])
        report.seconds["embed"] += time.perf_counter() - t
        t = time.perf_counter()
        sparse = [self.sparse.embed_document(c.index_text) for c in parsed.chunks]
        report.seconds["sparse"] += time.perf_counter() - t
        t = time.perf_counter()
        ordered = children + [c for c in parsed.chunks if c.kind == ChunkKind.PAGE]
        by_id = {c.id: s for c, s in zip(parsed.chunks, sparse, strict=True)}
        self.store.upsert(ordered, dense, [by_id[c.id] for c in ordered])
        self.store.flush()
        report.seconds["index"] += time.perf_counter() - t
        visual_note = self._index_page_images(path, tenant, doc_id, parsed, report)

        t = time.perf_counter()
        self.registry.set_status(tenant, doc_id, DocStatus.READY, chunks=len(parsed.chunks), error="")
        replaced = [r for r in self.registry.find_by_source(tenant, source) if r.doc_id != doc_id]
        for old in replaced:  # the file changed: its previous version's chunks go away
            self.store.delete_document(tenant, old.doc_id)
            if self.page_images is not None:
                self.page_images.delete_document(tenant, old.doc_id)
            self.registry.delete(tenant, old.doc_id)
        report.seconds["registry"] += time.perf_counter() - t
        report.pages += parsed.pages
        report.chunks += len(parsed.chunks)
        report.embedded += len(children)
        status = "replaced" if replaced else "ingested"
        log.info("ingested", extra={"doc": self._name(path), "pages": parsed.pages, "chunks": len(parsed.chunks)})
        return IngestEvent(str(path), status, doc_id, parsed.pages, len(parsed.chunks), reason=visual_note)

    def _index_page_images(
        self, path: Path, tenant: str, doc_id: str, parsed: ParsedFiling, report: IngestReport
    ) -> str:
        """Page images for visual retrieval; a failing image service leaves the text index whole and
        is reported on the event (the filing is still answerable, its pages are found by text)."""
        if self.page_images is None:
            return ""
        t = time.perf_counter()
        try:
            self.page_images.index_document(tenant, doc_id, path, parsed.pages, parsed.filing)
            return ""
        except Exception as e:
            log.warning("page images not indexed", extra={"doc": self._name(path), "error": str(e)})
            return f"page images not indexed ({e}); its pages are found by text only"
        finally:
            report.seconds["page_images"] = report.seconds.get("page_images", 0.0) + time.perf_counter() - t

    def _name(self, path: Path) -> str:
        return self._names.get(str(path.resolve()), path.stem)

    def delete(self, tenant: str, doc_id: str) -> bool:
        rec = self.registry.get(tenant, doc_id)
        if rec is None:
            return False
        self.store.delete_document(tenant, doc_id)
        self.store.flush()
        if self.page_images is not None:
            self.page_images.delete_document(tenant, doc_id)
        self.registry.delete(tenant, doc_id)
        return True


def parse_pool(workers: int) -> ProcessPoolExecutor:
    """Parse workers that die with their parent: a killed ingest (kill -9 included) leaves no orphan
    parsing on alone."""
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=mp.get_context("spawn"), initializer=_die_with_parent, initargs=(os.getpid(),)
    )


def _die_with_parent(parent: int) -> None:
    """In each worker: the kernel sends SIGKILL when the parent dies (Linux); elsewhere, and as a
    backstop, a thread notices the parent has gone and exits."""
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # it died before we got here
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="finrag-parent-watch", daemon=True).start()


def _safe(fn: Callable[..., ParsedFiling], *args: object) -> ParsedFiling | str:
    try:
        return fn(*args)
    except ParseError as exc:
        return str(exc)
    except Exception as exc:  # keep the batch going; the reason is recorded
        log.exception("unexpected parse failure")
        return f"unexpected error while parsing: {type(exc).__name__}: {exc}"
