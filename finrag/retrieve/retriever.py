"""Retrieval: scope -> rewrite -> hybrid (dense + BM25, RRF inside Qdrant) -> pages -> rerank -> merge."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from finrag.finance.facts import read_question
from finrag.finance.glossary import GlossaryRewriter
from finrag.protocols import Embedder, Registry, Reranker, SparseEncoder, VectorStore
from finrag.records import Chunk, ChunkKind, DocStatus, Hit, Scope
from finrag.retrieve.multiquery import CompleteFn, Decomposition, MultiQueryRewriter
from finrag.retrieve.priors import apply_priors, load_intents
from finrag.retrieve.scope import ScopeResolver
from finrag.retrieve.statements import statements_asked
from finrag.settings import RetrievalSettings


@dataclass(slots=True)
class RetrievalResult:
    hits: list[Hit]
    scope: Scope
    queries: list[str]
    timings_ms: dict[str, float] = field(default_factory=dict)
    trace: dict[str, Any] = field(default_factory=dict)


def rrf(result_lists: Sequence[Sequence[Hit]], k: int = 60) -> list[Hit]:
    """Reciprocal rank fusion across queries (each list is already fused dense+sparse by Qdrant)."""
    scores: dict[str, float] = defaultdict(float)
    first: dict[str, Hit] = {}
    for hits in result_lists:
        for rank, hit in enumerate(hits):
            scores[hit.chunk.id] += 1.0 / (k + rank + 1)
            first.setdefault(hit.chunk.id, hit)
    return [
        Hit(chunk=first[cid].chunk, score=s, source="rrf") for cid, s in sorted(scores.items(), key=lambda x: -x[1])
    ]


def page_key(chunk: Chunk) -> tuple[str, int]:
    return chunk.doc_id, chunk.page_start


class Retriever:
    def __init__(
        self,
        store: VectorStore,
        embedder: Embedder,
        sparse: SparseEncoder,
        registry: Registry,
        settings: RetrievalSettings,
        reranker: Reranker,
        graph_dir: Path | None = None,
        llm_complete: CompleteFn | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.sparse = sparse
        self.registry = registry
        self.settings = settings
        self.rewriter = GlossaryRewriter(settings.glossary)
        self.intents = load_intents()
        self.reranker = reranker
        self._resolvers: dict[str, tuple[str, ScopeResolver]] = {}
        self._chunk_cache: dict[str, tuple[str, OrderedDict[str, Chunk]]] = {}
        self._chunk_lock = threading.Lock()
        self.graph_dir = graph_dir
        self._graph_route: Any = None
        self.multi_query = MultiQueryRewriter(
            min_parts=settings.multi_query_min_parts,
            max_queries=settings.multi_query_max,
            complete=llm_complete if settings.multi_query_llm else None,
        )
        self._summarise = llm_complete if settings.graph_llm_summaries else None

    def resolver(self, tenant: str, version: str | None = None) -> ScopeResolver:
        # The registry's fingerprint (one SQL aggregate) decides; the documents are listed and the
        # resolver rebuilt only when they changed, not on every question. `version`: the fingerprint
        # when the caller has just read it (one read per retrieval serves all its steps).
        if version is None:
            version = self._version(tenant)
        cached = self._resolvers.get(tenant)
        if cached is None or cached[0] != version:
            docs = self.registry.list(tenant=tenant, status=DocStatus.READY)
            cached = (version, ScopeResolver(docs, periods=self.settings.periods))
            self._resolvers[tenant] = cached
        return cached[1]

    def run(
        self, question: str, tenant: str, top_k: int | None = None, filters: Scope | None = None
    ) -> RetrievalResult:
        s = self.settings
        top_k = top_k or s.top_k
        timings: dict[str, float] = {}
        clock = _Clock(timings)
        version = self._version(tenant)  # the READY filings as this retrieval sees them, read once

        with clock("scope"):
            if filters is not None and (
                filters.doc_ids or filters.fiscal_years or filters.doc_types or filters.companies
            ):
                scope = self._explicit_scope(filters, tenant, version)
            elif s.scope:
                scope = self.resolver(tenant, version).resolve(question)
            else:
                scope = Scope(note="scope inference disabled")
        with clock("rewrite"):
            rewritten = self.rewriter.rewrite(question)
            queries = rewritten.queries if s.glossary_dense else [question]
        decomposition = Decomposition()
        if s.multi_query:
            with clock("multi_query"):
                # Filings of the scope, by year / company: only when the scope names filings.
                in_scope = set(scope.doc_ids)
                docs = [e.doc for e in self.resolver(tenant, version).entries if e.doc.doc_id in in_scope]
                decomposition = self.multi_query.decompose(read_question(question), scope, docs)
        subqueries = decomposition.subqueries
        with clock("embed_query"):
            vectors = self.embedder.embed_documents([*queries, *(q.text for q in subqueries)])
            dense, sub_dense = vectors[: len(queries)], vectors[len(queries) :]
            sparse = self.sparse.embed_query(rewritten.sparse_text if s.glossary_sparse else question)
            sub_sparse = [self.sparse.embed_query(q.text) for q in subqueries]
        candidates = max(s.rerank_candidates, top_k * 4)

        use_dense = s.routes in ("hybrid", "dense")
        use_sparse = s.routes in ("hybrid", "sparse")

        def search(sc: Scope) -> list[Hit]:
            batch: list[tuple[Any, Any, int]] = [
                (dense[i] if use_dense else None, sparse if use_sparse and i == 0 else None, candidates)
                for i in range(len(queries) if use_dense else 1)
            ]
            if s.statement_route and use_sparse:
                # Metric questions: also look for the statement pages themselves by their line items.
                for st in statements_asked(question):
                    vocab = self.sparse.embed_query(f"{st.vocabulary} {' '.join(rewritten.expansions)}")
                    batch.append((None, vocab, s.statement_candidates))
            # Sub-queries: those over the whole scope join the batch; those naming filings (one year's,
            # one company's) search them alone, within the scope.
            narrowed: list[tuple[Scope, tuple[Any, Any, int]]] = []
            for i, q in enumerate(subqueries):
                query = (sub_dense[i] if use_dense else None, sub_sparse[i] if use_sparse else None, candidates)
                docs = [d for d in q.doc_ids if not sc.doc_ids or d in sc.doc_ids]
                if q.doc_ids and docs:
                    narrowed.append((sc.model_copy(update={"doc_ids": docs}), query))
                elif not q.doc_ids:
                    batch.append(query)
            lists = self.store.hybrid_search_many(tenant, sc, batch, s.prefetch_limit, s.rrf_k)
            for sub_scope, query in narrowed:
                lists += self.store.hybrid_search_many(tenant, sub_scope, [query], s.prefetch_limit, s.rrf_k)
            return rrf(lists, s.rrf_k) if len(lists) > 1 else lists[0]

        with clock("search"):
            hits = search(scope)
            scope, hits = self._widen_if_empty(scope, hits, top_k, search, question, tenant, version)

        with clock("group"):
            pages = self._group_pages(hits)
        candidates_top = [_page_trace(h) for h in pages[:20]]  # before the reranker, for the debug trace
        page_texts: dict[str, str] = {}
        if pages:
            with clock("rerank"):
                page_texts = self._page_texts(tenant, pages, version)
                years = scope.fiscal_years or ScopeResolver.years_in(question)
                pages = self.reranker.rerank(  # type: ignore[call-arg]
                    question,
                    pages,
                    len(pages),
                    page_texts=page_texts,
                    expansions=rewritten.expansions,
                    years=years,
                )
        # Where filings answer this kind of question (Item 1, MD&A, the 10-Q ...): re-rank, never filter.
        priors = self.intents.priors(question, sections=s.section_priors, forms=s.form_priors)
        if priors and pages:
            with clock("priors"):
                pages = apply_priors(
                    pages,
                    priors,
                    self.intents.section_weight,
                    self.intents.form_weight,
                    scale=self.intents.no_company if scope.company_missing else 1.0,
                )
        pages = diversify(pages, min(top_k, s.diversity_window), s.min_documents)
        if s.graph and self.graph_dir is not None:
            # Opt-in (measured: it did not help on FinanceBench dev); needs the `graph` extra.
            from finrag.graph.route import fuse_graph, is_cross_filing

            if is_cross_filing(question):
                with clock("graph"):
                    graph_hits = self.graph_route.search(question, tenant, scope, max(top_k, 10))
                pages = fuse_graph(pages, graph_hits, s.rrf_k)
        with clock("merge"):
            final = self._merge(tenant, pages[: top_k + s.neighbour_pages * top_k], hits, top_k, version)
        return RetrievalResult(
            hits=final,
            scope=scope,
            queries=[*queries, rewritten.sparse_text] if rewritten.expansions else queries,
            timings_ms=timings,
            trace={
                "candidates": len(hits),
                "pages": len(pages),
                "expansions": rewritten.expansions,
                "intents": list(priors.intents),
                **(
                    {"multi_query": {"source": decomposition.source, "subqueries": [q.trace() for q in subqueries]}}
                    if subqueries
                    else {}
                ),
                "candidates_top": candidates_top,
                "reranked_top": [_page_trace(h) for h in pages[:20]],
            },
        )

    @property
    def graph_route(self) -> Any:
        """The GraphRetriever over `graph_dir` (needs the `graph` extra), built on first use."""
        if self._graph_route is None:
            from finrag.graph.route import GraphRetriever

            assert self.graph_dir is not None
            self._graph_route = GraphRetriever(self.store, self.registry, self.graph_dir, summarise=self._summarise)
        return self._graph_route

    def global_answer(self, question: str, tenant: str, scope: Scope) -> Any:
        """A `GraphAnswer` from the graph's community summaries for a global question ("which of these
        companies …", "compare the segments of …"), None otherwise or when the graph answer is off."""
        if not self.settings.graph_answers or self.graph_dir is None:
            return None
        from finrag.graph.global_answer import GlobalAnswerer, is_global

        if not is_global(question):
            return None
        return GlobalAnswerer(self.graph_route).answer(question, tenant, scope)

    # ---------------------------------------------------------------------------------------------
    def _explicit_scope(self, filters: Scope, tenant: str, version: str | None = None) -> Scope:
        scope = filters.model_copy(deep=True)
        if scope.companies and not scope.doc_ids:
            resolver = self.resolver(tenant, version)
            docs = resolver.companies_in(" ".join(scope.companies))
            scope.doc_ids = [d.doc_id for d in docs]
        scope.applied = True
        scope.note = scope.note or "filters given by the caller"
        return scope

    def _widen_if_empty(
        self,
        scope: Scope,
        hits: list[Hit],
        top_k: int,
        search: Callable[[Scope], list[Hit]],
        question: str,
        tenant: str,
        version: str | None = None,
    ) -> tuple[Scope, list[Hit]]:
        """Never return nothing because an inferred filter was too tight: relax it step by step."""
        if len(hits) >= top_k or not scope.applied:
            return scope, hits
        steps: list[Scope] = []
        if scope.fiscal_years or scope.doc_types:
            company_docs = self.resolver(tenant, version).companies_in(question)
            steps.append(
                Scope(
                    companies=scope.companies,
                    doc_ids=[d.doc_id for d in company_docs],
                    note=scope.note + "; too few passages in that period: widened to all of the company's filings",
                    applied=True,
                )
            )
        steps.append(
            Scope(
                note=scope.note + "; widened to all filings (too few passages in scope)",
                company_missing=scope.company_missing,
            )
        )
        for wider in steps:
            more = search(wider)
            seen = {h.chunk.id for h in hits}
            hits = hits + [h for h in more if h.chunk.id not in seen]
            scope = wider
            if len(hits) >= top_k:
                break
        return scope, hits

    @staticmethod
    def _group_pages(hits: list[Hit]) -> list[Hit]:
        """One candidate per page (its best chunk), scored by the best chunk plus a little for each
        further chunk of the same page that was retrieved."""
        groups: dict[tuple[str, int], list[Hit]] = defaultdict(list)
        for h in hits:
            groups[page_key(h.chunk)].append(h)
        pages = []
        for members in groups.values():
            best = max(members, key=lambda h: h.score)
            bonus = 0.25 * sum(sorted((m.score for m in members), reverse=True)[1:3])
            pages.append(Hit(chunk=best.chunk, score=best.score + bonus, source=best.source))
        pages.sort(key=lambda h: -h.score)
        return pages

    def _page_texts(self, tenant: str, pages: list[Hit], version: str | None = None) -> dict[str, str]:
        ids = [h.chunk.parent_id or h.chunk.id for h in pages]
        return {c.id: c.text for c in self._get_chunks(tenant, ids, version)}

    CACHED_CHUNKS = 4096

    def _version(self, tenant: str) -> str:
        return self.registry.fingerprint(tenant=tenant, status=DocStatus.READY)

    def _get_chunks(self, tenant: str, ids: Sequence[str], version: str | None = None) -> list[Chunk]:
        """`store.get_chunks` through an LRU of chunks by id: the calculator's searches within one question
        (and the next questions on the same filings) rank and merge the same parent pages again. Dropped
        whole when the tenant's READY documents change (the registry's fingerprint), so a re-ingested
        or deleted filing's chunks are never served from it."""
        if not ids:
            return []
        if version is None:
            version = self._version(tenant)
        with self._chunk_lock:  # the API server's threads share the retriever
            cached = self._chunk_cache.get(tenant)
            if cached is None or cached[0] != version:
                cached = (version, OrderedDict())
                self._chunk_cache[tenant] = cached
            lru = cached[1]
            found = {i: lru[i] for i in dict.fromkeys(ids) if i in lru}
        missing = [i for i in dict.fromkeys(ids) if i not in found]
        for c in self.store.get_chunks(tenant, missing) if missing else []:
            found[c.id] = c
        with self._chunk_lock:
            for i, c in found.items():
                lru[i] = c
                lru.move_to_end(i)
            while len(lru) > self.CACHED_CHUNKS:
                lru.popitem(last=False)
        return [found[i] for i in ids if i in found]

    def _merge(
        self, tenant: str, pages: list[Hit], hits: list[Hit], top_k: int, version: str | None = None
    ) -> list[Hit]:
        """Auto-merge: a page with several retrieved children is returned whole (its parent);
        neighbour pages (tables often continue over a page break) follow their page when enabled."""
        s = self.settings
        children_per_page: dict[tuple[str, int], int] = defaultdict(int)
        for h in hits:
            if h.chunk.kind != ChunkKind.PAGE:
                children_per_page[page_key(h.chunk)] += 1
        out: list[Hit] = []
        parents_needed = [
            h.chunk.parent_id
            for h in pages[:top_k]
            if s.automerge and h.chunk.parent_id and children_per_page[page_key(h.chunk)] >= s.automerge_min_children
        ]
        parents = {c.id: c for c in self._get_chunks(tenant, [p for p in parents_needed if p], version)}
        seen: set[tuple[str, int]] = set()
        for h in pages[:top_k]:
            key = page_key(h.chunk)
            if key in seen:
                continue
            seen.add(key)
            parent = parents.get(h.chunk.parent_id or "")
            out.append(Hit(chunk=parent, score=h.score, source="merged") if parent else h)
        if s.neighbour_pages:
            extra: list[Hit] = []
            for h in out:
                doc, page = page_key(h.chunk)
                wanted = [p for d in range(1, s.neighbour_pages + 1) for p in (page + d, page - d) if p >= 0]
                for c in self.store.page_chunks(tenant, doc, wanted):
                    if page_key(c) not in seen:
                        seen.add(page_key(c))
                        extra.append(Hit(chunk=c, score=h.score * 0.5, source="neighbour"))
            out = out + extra
        return out


def diversify(pages: list[Hit], top_k: int, min_documents: int) -> list[Hit]:
    """Hedge across filings: when the candidates come from several filings (a 10-K and the earnings
    release of the same year, say), the top k holds pages of at least `min_documents` of them; the
    best page of each next filing replaces the lowest-ranked page of an over-represented one."""
    head = pages[:top_k]
    docs = {h.chunk.doc_id for h in head}
    if min_documents <= 1 or len(docs) >= min_documents or top_k < 3:
        return pages
    extra: list[Hit] = []
    for h in pages[top_k:]:
        if h.chunk.doc_id not in docs:
            docs.add(h.chunk.doc_id)
            extra.append(h)
            if len(docs) >= min_documents:
                break
    if not extra:
        return pages
    kept = head[: top_k - len(extra)]
    chosen = {id(h) for h in kept + extra}
    return kept + extra + [h for h in pages if id(h) not in chosen]


def _page_trace(h: Hit) -> dict[str, Any]:
    c = h.chunk
    doc = c.metadata.get("doc_name") or c.doc_id
    return {"doc": doc, "page": c.page_start + 1, "score": round(h.score, 4), "source": h.source}


class _Clock:
    def __init__(self, timings: dict[str, float]) -> None:
        self.timings = timings

    def __call__(self, name: str) -> _Clock:
        self._name = name
        return self

    def __enter__(self) -> None:
        self._t = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.timings[self._name] = self.timings.get(self._name, 0.0) + (time.perf_counter() - self._t) * 1000
