"""The one facade the CLI, the API and the evaluation all call: ingest, ask, documents."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from finrag.protocols import (
    Embedder,
    PageImageEmbedder,
    PageImageIndex,
    Registry,
    Reranker,
    SparseEncoder,
    VectorStore,
)
from finrag.records import Answer, DocStatus, DocumentRecord, Scope
from finrag.settings import Settings

if TYPE_CHECKING:
    from finrag.answer.engine import AnswerEngine
    from finrag.answer.request import RequestBudget
    from finrag.ingest.boxes import CitationLocator
    from finrag.ingest.page_images import PageImageIndexer
    from finrag.ingest.pipeline import FilingOverrides, IngestEvent, IngestPipeline, IngestReport
    from finrag.retrieve.retriever import RetrievalResult, Retriever

log = logging.getLogger(__name__)

T = TypeVar("T")


class QuestionError(ValueError):
    """A question we refuse before doing any work (empty, too long)."""


@dataclass(slots=True)
class Components:
    registry: Registry
    store: VectorStore
    embedder: Embedder
    sparse: SparseEncoder
    reranker: Reranker
    # Documents at ingest, where they are embedded by another implementation of the same model (None: `embedder`).
    ingest_embedder: Embedder | None = None
    # Visual retrieval, only when a page-image service is configured.
    page_embedder: PageImageEmbedder | None = None
    page_index: PageImageIndex | None = None


def build_page_images(settings: Settings) -> tuple[PageImageEmbedder | None, PageImageIndex | None]:
    """The page-image embedder and index, beside the chunk store (server or embedded, like it)."""
    r = settings.retrieval
    if not r.page_image_url:
        return None, None
    from finrag.embed.page_images import RemotePageImageEmbedder
    from finrag.index.page_images import EdgePageImageIndex, ServerPageImageIndex

    key = r.page_image_api_key
    embedder = RemotePageImageEmbedder(
        r.page_image_url,
        api_key=key.get_secret_value() if key is not None else None,
        timeout_s=r.page_image_timeout_s,
        batch_size=r.page_image_batch,
    )
    index: PageImageIndex
    if settings.qdrant_url:
        qkey = settings.qdrant_api_key
        index = ServerPageImageIndex(
            settings.qdrant_url,
            collection=f"{settings.qdrant_collection}_pages",
            api_key=qkey.get_secret_value() if qkey is not None else None,
        )
    else:
        index = EdgePageImageIndex(settings.data_dir / "page_images")
    return embedder, index


def build_components(settings: Settings) -> Components:
    """Pick each role's implementation once, from settings (embedded defaults unless URLs are set).
    Nothing heavy happens here: the model, the store and the database open on first use."""
    from finrag.embed.factory import build_embedder, build_ingest_embedder
    from finrag.index.sparse import Bm25Encoder
    from finrag.registry.sql import SqlRegistry
    from finrag.retrieve.rerank import build_reranker

    embedder = build_embedder(settings)
    dim = embedder.dim  # the collection's vector size follows the model (a remote one may not be 384)
    if settings.qdrant_url:
        from finrag.index.qdrant_server import QdrantServerStore  # type: ignore[import-not-found]

        key = settings.qdrant_api_key
        store: VectorStore = QdrantServerStore(
            settings.qdrant_url,
            collection=settings.qdrant_collection,
            dim=dim,
            api_key=key.get_secret_value() if key is not None else None,
            shard_number=settings.qdrant_shard_number,
            replication_factor=settings.qdrant_replication_factor,
            write_consistency_factor=settings.qdrant_write_consistency_factor,
            on_disk=settings.qdrant_on_disk,
        )
    else:
        from finrag.index.qdrant_edge import QdrantEdgeStore

        store = QdrantEdgeStore(
            settings.vector_dir,
            dim=dim,
            quantization=settings.edge_quantization,
            vectors_on_disk=settings.edge_vectors_on_disk,
            index_memory=settings.edge_index_memory,
            segment_max_points=settings.edge_segment_max_points or None,
        )
    r = settings.retrieval
    reranker = build_reranker(r.rerank, r.cross_encoder_model, url=r.rerank_url or None)
    page_embedder, page_index = build_page_images(settings)
    return Components(
        registry=SqlRegistry(settings.sqlite_url),
        store=store,
        embedder=embedder,
        sparse=Bm25Encoder(),
        reranker=reranker,
        ingest_embedder=build_ingest_embedder(settings),
        page_embedder=page_embedder,
        page_index=page_index,
    )


class QAService:
    """The pipeline, the answer engine and the retriever are built on first use: a command that only
    ingests never imports the answer code, one that only asks never imports the PDF parser."""

    def __init__(self, settings: Settings, components: Components | None = None) -> None:
        self.settings = settings
        self.c = components or build_components(settings)
        self._index_checked = False
        self._build_lock = threading.RLock()

    def _once(self, name: str, build: Callable[[], T]) -> T:
        # The API server's threads may race to a lazy part: build it once (cached_property has no lock
        # from Python 3.12 on).
        with self._build_lock:
            if name not in self.__dict__:
                self.__dict__[name] = build()
            return self.__dict__[name]  # type: ignore[no-any-return]

    @cached_property
    def pipeline(self) -> IngestPipeline:
        from finrag.embed.factory import BF16_MIN_PAGES
        from finrag.ingest.pipeline import IngestPipeline

        s = self.settings
        return self._once(
            "pipeline",
            lambda: IngestPipeline(
                self.c.registry,
                self.c.store,
                self.c.embedder,
                self.c.sparse,
                child_max_tokens=s.child_max_tokens,
                metadata_prefix=s.metadata_prefix,
                exhibit_passages=s.exhibit_passages,
                strip_running_lines=s.strip_running_lines,
                parse_workers=s.parse_workers,
                page_images=self._page_image_indexer(),
                # A Qdrant server optimises in the background: ingest against it never runs the build.
                index_min_points=s.edge_index_min_points if not s.qdrant_url else 0,
                segment_points=s.edge_segment_max_points,
                # Chosen by `auto`, the bf16 model embeds only runs that repay its load (and every run once
                # loaded); asked for by name, every run.
                bulk_embedder=self.c.ingest_embedder,
                bulk_min_pages=BF16_MIN_PAGES if s.ingest_embedder == "auto" else 0,
            ),
        )

    def _page_image_indexer(self) -> PageImageIndexer | None:
        if self.c.page_embedder is None or self.c.page_index is None:
            return None
        from finrag.ingest.page_images import PageImageIndexer

        r = self.settings.retrieval
        return PageImageIndexer(
            self.c.page_embedder, self.c.page_index, scale=r.page_image_scale, batch_pages=r.page_image_batch
        )

    @cached_property
    def engine(self) -> AnswerEngine:
        from finrag.answer.wiring import build_engine

        # Router + the registered pipelines; the offline extractive answerer is the last resort.
        return self._once("engine", lambda: build_engine(self.settings))

    @cached_property
    def locator(self) -> CitationLocator:
        from finrag.ingest.boxes import CitationLocator

        def source_of(tenant: str, doc_id: str) -> str | None:
            rec = self.c.registry.get(tenant, doc_id)
            return rec.source_path if rec is not None else None

        def chunks_of(tenant: str, ids: Sequence[str]) -> dict[str, str]:
            return {c.id: c.text for c in self.c.store.get_chunks(tenant, list(dict.fromkeys(ids)))}

        return self._once("locator", lambda: CitationLocator(source_of, chunks_of))

    @cached_property
    def retriever(self) -> Retriever:
        from finrag.retrieve.multiquery import llm_complete_fn
        from finrag.retrieve.retriever import Retriever

        s = self.settings
        return self._once(
            "retriever",
            lambda: Retriever(
                self.c.store,
                self.c.embedder,
                self.c.sparse,
                self.c.registry,
                s.retrieval,
                self.c.reranker,
                graph_dir=s.data_dir / "graph",
                llm_complete=(
                    llm_complete_fn(s.llm) if s.retrieval.multi_query_llm or s.retrieval.graph_llm_summaries else None
                ),
            ),
        )

    def warm_up_steps(self) -> list[tuple[str, Callable[[], None]]]:
        """What `warm_up` opens, in its order: the registry, then the vector store, then the model. The
        store goes first: opening a large shard peaks above what it keeps resident, and that peak should
        not stack on a model already loaded. (bench/scale.py times and samples each step.)"""
        return [
            ("registry", self.c.registry.warm_up),
            ("store", self.c.store.warm_up),
            ("model", self.c.embedder.warm_up),
        ]

    def warm_up(self) -> None:
        """Open everything a question needs before the first one (`warm_up_steps`)."""
        for _, open_part in self.warm_up_steps():
            open_part()

    def close(self) -> None:
        if "engine" in self.__dict__:  # built only if a question was asked
            self.engine.close()
        self.c.store.close()
        if self.c.page_index is not None:
            self.c.page_index.close()

    def check_index(self) -> None:
        """Refuse to mix vectors of different models in one index (checked once per process)."""
        if self._index_checked:
            return
        from finrag.index.manifest import IndexManifest, check_or_record

        emb = self.c.embedder
        # The emptiness test opens the store: only asked when the manifest differs (an unchanged re-ingest
        # then never opens it).
        check_or_record(
            self.settings.data_dir,
            IndexManifest.for_embedder(emb.name, emb.dim),
            index_empty=lambda: self.c.store.count() == 0,
        )
        self._index_checked = True

    # ingest -------------------------------------------------------------------------------------
    def ingest(
        self,
        paths: Sequence[Path],
        tenant: str | None = None,
        overrides: FilingOverrides | None = None,
        on_event: Callable[[IngestEvent], None] | None = None,
        names: Mapping[str, str] | None = None,
    ) -> IngestReport:
        """`names`: document names by path, for files stored under another name (API uploads)."""
        self.check_index()
        return self.pipeline.run(paths, tenant or self.settings.tenant, overrides, on_event, names)

    # documents ----------------------------------------------------------------------------------
    def documents(self, tenant: str | None = None) -> list[DocumentRecord]:
        return self.c.registry.list(tenant=tenant or self.settings.tenant)

    def document(self, doc_id: str, tenant: str | None = None) -> DocumentRecord | None:
        tenant = tenant or self.settings.tenant
        rec = self.c.registry.get(tenant, doc_id)
        if rec is None:  # people type names more often than ids
            rec = next((d for d in self.c.registry.list(tenant=tenant) if d.name == doc_id), None)
        return rec

    def delete_document(self, doc_id: str, tenant: str | None = None) -> bool:
        tenant = tenant or self.settings.tenant
        rec = self.document(doc_id, tenant)
        return self.pipeline.delete(tenant, rec.doc_id) if rec else False

    # questions ----------------------------------------------------------------------------------
    def validate_question(self, question: str) -> str:
        question = " ".join(question.split())
        if not question:
            raise QuestionError("the question is empty")
        if len(question) > self.settings.max_question_chars:
            raise QuestionError(
                f"the question is {len(question):,} characters long; the limit is "
                f"{self.settings.max_question_chars:,} (FINRAG_MAX_QUESTION_CHARS)"
            )
        return question

    def retrieve(
        self, question: str, tenant: str | None = None, top_k: int | None = None, filters: Scope | None = None
    ) -> RetrievalResult:
        return self._retrieve(self.validate_question(question), tenant or self.settings.tenant, top_k, filters)

    def _retrieve(self, question: str, tenant: str, top_k: int | None, filters: Scope | None) -> RetrievalResult:
        """`retrieve` for a question already validated (`ask` validates it once for both steps)."""
        self.check_index()
        result = self.retriever.run(question, tenant, top_k, filters)
        # Only READY documents answer: chunks of one still indexing (or failed half-way) are left out,
        # whatever the store holds for them at this moment.
        ready = self.c.registry.ready_ids(tenant, {h.chunk.doc_id for h in result.hits})
        dropped = [h for h in result.hits if h.chunk.doc_id not in ready]
        if dropped:
            result.hits = [h for h in result.hits if h.chunk.doc_id in ready]
            result.trace["not_ready_dropped"] = sorted({h.chunk.doc_id for h in dropped})
        return result

    def ask(
        self,
        question: str,
        tenant: str | None = None,
        top_k: int | None = None,
        filters: Scope | None = None,
        mode: str | None = None,
        budget: RequestBudget | None = None,
    ) -> Answer:
        """Retrieve, then answer through the router (`mode`: "auto" or a registered pipeline name).
        `budget`: what this request may spend (the API gateway's per-tenant ceiling); None = no limit."""
        from finrag.answer.context import service_context
        from finrag.answer.guard import GuardLog, guard_context, guard_retrieval

        t0 = time.perf_counter()
        question = self.validate_question(question)
        tenant = tenant or self.settings.tenant
        result = self._retrieve(question, tenant, top_k, filters)
        t1 = time.perf_counter()
        # The one boundary between sources and every pipeline: instruction-like sentences are withheld
        # from the hits and from whatever the pipelines' tools read or picture later.
        guarded = GuardLog()
        ctx = guard_context(service_context(self, tenant), guarded)
        graph = self.retriever.global_answer(question, tenant, result.scope) if mode in (None, "auto") else None
        if graph is not None:  # opt-in (FINRAG_RETRIEVAL_GRAPH_ANSWERS): from the graph's community summaries
            answer = Answer(
                question=question,
                text=graph.text,
                citations=graph.citations,
                pipeline="graph",
                scope=result.scope,
                supported=bool(graph.citations),
                trace={"graph_answer": graph.trace()},
                notes=["answered from the graph's community summaries (each claim cites its filing page)"],
            )
        else:
            answer = self.engine.answer(question, guard_retrieval(result, guarded), mode, ctx, budget=budget)
        t2 = time.perf_counter()
        if guarded:
            answer.trace["guard"] = guarded.as_dict()
            answer.notes.append(
                f"injection guard: instruction-like text withheld from {len(guarded.passages)} source passage(s)"
            )
        if not result.hits and self.c.registry.count(tenant=tenant, status=DocStatus.READY) == 0:
            answer.text = "The index is empty: ingest filings first (finrag ingest PATH)."
            answer.citations = []
            answer.notes.append("empty index")
        # Where each quote is on its page (boxes for the highlight), read from the cited pages' PDFs.
        answer.citations = self.locator.locate(tenant, answer.citations, answer.text)
        t3 = time.perf_counter()
        answer.timings_ms = {
            **{k: round(v, 2) for k, v in result.timings_ms.items()},
            **answer.timings_ms,
            "retrieve": round((t1 - t0) * 1000, 2),
            "answer": round((t2 - t1) * 1000, 2),
            "boxes": round((t3 - t2) * 1000, 2),
            "total": round((t3 - t0) * 1000, 2),
        }
        answer.trace = {"queries": result.queries, **result.trace, **answer.trace}
        if result.scope.note:
            answer.notes.insert(0, f"scope: {result.scope.note}")
        return answer
