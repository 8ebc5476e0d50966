"""The graph route: question terms -> metric / segment nodes (+ the companies in scope) -> evidence pages
across filings, ranked by a simple graph score. Opt-in (settings.retrieval.graph): its page hits are
fused with the hybrid retriever's by reciprocal rank (`fuse_graph`)."""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx

from finrag.finance.facts import question_years
from finrag.finance.glossary import GlossaryRewriter
from finrag.finance.words import label_stem as stem
from finrag.finance.words import label_terms as terms
from finrag.graph.build import GraphBuilder, SummariseFn, graph_path, load_graph, metric_idf, registry_stamp
from finrag.protocols import Registry, VectorStore
from finrag.records import DocStatus, Hit, Scope

# --- when the route applies --------------------------------------------------------------------------
_CROSS_RE = re.compile(
    r"\b(?:compar(?!abl)\w*|versus|vs\b\.?|differ\w*|across|both|each of|among|relative to|"
    r"which (?:\w+ ){0,2}(?:segments?|divisions?|regions?|business(?:es)?|units?|geograph\w*)\b)",
    re.I,
)


def is_cross_filing(question: str) -> bool:
    """Comparisons and 'which segment/region' questions: their evidence is spread over filings or
    over several parts of one, which a passage ranker tends to collapse onto one page."""
    return bool(_CROSS_RE.search(question))


# --- fusion ------------------------------------------------------------------------------------------------
def fuse_graph(result_hits: Sequence[Hit], graph_hits: Sequence[Hit], k: int = 60, weight: float = 1.0) -> list[Hit]:
    """Reciprocal rank fusion by page (the retriever returns children or merged pages, the graph route
    whole pages: the same page must count once). `k` is the RRF constant; `weight` scales the graph's
    vote. The retriever's chunk is kept for a page both lists hold."""
    scores: dict[tuple[str, int], float] = defaultdict(float)
    first: dict[tuple[str, int], Hit] = {}
    for w, hits in ((1.0, result_hits), (weight, graph_hits)):
        seen: set[tuple[str, int]] = set()
        for hit in hits:
            key = (hit.chunk.doc_id, hit.chunk.page_start)
            if key in seen:
                continue
            scores[key] += w / (k + len(seen) + 1)
            seen.add(key)
            first.setdefault(key, hit)
    ranked = sorted(scores.items(), key=lambda x: -x[1])  # stable: ties keep the retriever's order
    return [Hit(chunk=first[key].chunk, score=s, source=first[key].source) for key, s in ranked]


# --- matching ------------------------------------------------------------------------------------------------
# Words a line item can go without ("total revenue" answers "revenue"), and words of the question
# that are never a line item.
_OPTIONAL = {
    stem(w)
    for w in (
        "total", "net", "and", "of", "the", "in", "for", "from", "to", "by", "on", "a", "an", "other", "less", "at",
        "or", "with", "attributable", "consolidated",
    )
}  # fmt: skip
_QUESTION_STOP = {
    stem(w)
    for w in (
        "what", "which", "how", "did", "does", "do", "is", "was", "were", "are", "be", "been", "much", "many", "has",
        "have", "had", "it", "its", "their", "company", "companies", "based", "a", "an", "the", "of", "in", "for",
        "fy", "fiscal", "year", "years", "compare", "compared", "comparison", "between", "and", "to", "from",
        "versus", "vs", "differ", "difference", "both", "each", "across", "among", "relative", "than", "that",
        "this", "there", "as", "by", "on", "with", "or", "if", "we", "you", "your", "please", "answer", "question",
        "use", "using", "round", "decimal", "places", "usd", "millions", "billions", "percent", "units", "terms",
        "ratio", "defined", "define", "calculate", "change", "give", "state", "explain", "why", "not", "useful",
        "metric", "relevant", "reasonable", "approximation", "value", "figure", "amount", "number", "report",
        "reported", "statement", "information", "details", "provided", "outlined",
    )
}  # fmt: skip
_SEGMENT_ASKED_RE = re.compile(
    r"\bsegments?\b|\bdivisions?\b|\bbusiness (?:units?|lines?)\b|\bregions?\b|\bgeograph", re.I
)
_MAX_LABEL_TERMS = 8


@dataclass(slots=True)
class _Entity:
    node: str
    required: frozenset[str]  # terms a question must hold (all, or 3 in 4 for long labels)
    all_terms: frozenset[str]


@dataclass(slots=True)
class TenantGraph:
    """A loaded graph with the lookups a question needs, rebuilt whenever the graph's stamp changes."""

    graph: nx.Graph
    metrics: dict[str, _Entity] = field(default_factory=dict)
    postings: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    segments: dict[str, list[_Entity]] = field(default_factory=lambda: defaultdict(list))  # company -> entities
    idf: dict[str, float] = field(default_factory=dict)
    # Company name terms say which filing, not which line item ("net income attributable to X").
    company_terms: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    docs_of: dict[str, frozenset[str]] = field(default_factory=dict)  # entity -> filings with evidence pages

    @classmethod
    def index(cls, g: nx.Graph) -> TenantGraph:
        tg = cls(g)
        for node, data in g.nodes(data=True):
            if data.get("kind") == "company":
                for name in [data.get("label", ""), *data.get("names", [])]:
                    tg.company_terms[node].update(t for t in terms(str(name)) if t not in _OPTIONAL)
        for node, data in g.nodes(data=True):
            kind = data.get("kind")
            if kind == "metric":
                label_terms = terms(node.removeprefix("metric:"))
                required = frozenset(t for t in label_terms if t not in _OPTIONAL)
                if not required or len(required) > _MAX_LABEL_TERMS:
                    continue
                tg.idf[node] = metric_idf(g, node)
                tg.docs_of[node] = _docs_of(g, node)
                if len(required) == 1 and _page_count(g, node) < 2:
                    continue  # a one-word label seen once is more likely a stray line than a line item
                tg.metrics[node] = _Entity(node, required, frozenset(label_terms))
                for t in required:
                    tg.postings[t].add(node)
            elif kind == "segment" and _confirmed(g, node):
                label_terms = terms(str(data.get("label", "")))
                required = frozenset(t for t in label_terms if t not in _OPTIONAL)
                company = str(data.get("company", ""))
                if required and not required <= tg.company_terms[company]:  # the company's own name is no segment
                    tg.segments[company].append(_Entity(node, required, frozenset(label_terms)))
        return tg


def _docs_of(g: nx.Graph, node: str) -> frozenset[str]:
    return frozenset(g.nodes[n]["doc_id"] for n in g.neighbors(node) if g.nodes[n].get("kind") == "page")


def _page_count(g: nx.Graph, node: str) -> int:
    return sum(1 for n in g.neighbors(node) if g.nodes[n].get("kind") == "page")


def _confirmed(g: nx.Graph, node: str) -> bool:
    """A segment seen once in one table row may be noise; twice, or in both text and a table, is not."""
    mentions = 0.0
    via: set[str] = set()
    for n in g.neighbors(node):
        if g.nodes[n].get("kind") == "page":
            edge = g.edges[node, n]
            mentions += float(edge.get("weight", 1.0))
            via.update(edge.get("via", []))
    return mentions >= 2 or len(via) >= 2


def _page_prior(data: dict[str, Any]) -> float:
    """Statements hold the figures a comparison needs; dense tables next; a note merely repeating a label least."""
    if data.get("statement"):
        return 1.6
    return 1.0 + min(int(data.get("rows", 0)), 30) / 60


class GraphRetriever:
    """Retrieval route over the tenant's entity graph (built on first use, updated when the registry changes)."""

    def __init__(
        self,
        store: VectorStore,
        registry: Registry,
        graph_dir: Path,
        auto_build: bool = True,
        max_entities: int = 8,
        summarise: SummariseFn | None = None,
    ) -> None:
        self.store = store
        self.registry = registry
        self.graph_dir = Path(graph_dir)
        self.builder = GraphBuilder(store, registry, self.graph_dir, summarise=summarise)
        self.auto_build = auto_build
        self.max_entities = max_entities
        self.rewriter = GlossaryRewriter(enabled=True)
        self._graphs: dict[str, tuple[str, TenantGraph]] = {}
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        """Open the stores and load (building where missing or stale) every tenant's graph."""
        self.store.warm_up()
        self.registry.warm_up()
        for tenant in sorted({d.tenant for d in self.registry.list(status=DocStatus.READY)}):
            self.tenant_graph(tenant)

    def tenant_graph(self, tenant: str) -> TenantGraph | None:
        docs = self.registry.list(tenant=tenant, status=DocStatus.READY)
        stamp = registry_stamp(docs)
        cached = self._graphs.get(tenant)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        with self._lock:
            cached = self._graphs.get(tenant)
            if cached is not None and cached[0] == stamp:
                return cached[1]
            g = cached[1].graph if cached else load_graph(graph_path(self.graph_dir, tenant))
            if g is None or g.graph.get("stamp") != stamp:
                if not self.auto_build:
                    return cached[1] if cached else (TenantGraph.index(g) if g is not None else None)
                g = self.builder.build(tenant, graph=g)
            tg = TenantGraph.index(g)
            self._graphs[tenant] = (stamp, tg)
            return tg

    # ------------------------------------------------------------------------------------------------
    def search(self, question: str, tenant: str, scope: Scope, limit: int) -> list[Hit]:
        """Page hits (parent chunks) for the question, within the scope's filings, best first."""
        tg = self.tenant_graph(tenant)
        if tg is None or limit <= 0:
            return []
        _, ranked = self._rank(tg, question, scope, limit)
        return self._hits(tg.graph, tenant, ranked)

    def explain(self, question: str, tenant: str, scope: Scope, limit: int = 10) -> dict[str, object]:
        """What the route matched and why (entities with weights, pages with scores): for traces and tuning."""
        tg = self.tenant_graph(tenant)
        if tg is None:
            return {"entities": {}, "pages": []}
        entities, ranked = self._rank(tg, question, scope, limit)
        g = tg.graph
        return {
            "entities": {str(g.nodes[n].get("label", n)): round(w, 3) for n, w in entities.items()},
            "pages": [(g.nodes[p]["doc_id"], int(g.nodes[p]["page"]), round(sc, 3)) for p, sc in ranked],
        }

    def _rank(
        self, tg: TenantGraph, question: str, scope: Scope, limit: int
    ) -> tuple[dict[str, float], list[tuple[str, float]]]:
        g = tg.graph
        allowed = self._allowed_docs(g, scope)
        entities = self._match(tg, question, allowed, named=bool(scope.doc_ids)) if allowed else {}
        if not entities:
            return entities, []
        years = set(question_years(question))
        communities = {g.nodes[e].get("community") for e in entities}
        scores: dict[str, float] = defaultdict(float)
        for node, w in entities.items():
            for page in g.neighbors(node):
                data = g.nodes[page]
                if data.get("kind") == "page" and data["doc_id"] in allowed:
                    scores[page] += w * _page_prior(data)
        for page in scores:
            data = g.nodes[page]
            if years and not scope.fiscal_years and g.nodes[f"doc:{data['doc_id']}"].get("fiscal_year") in years:
                scores[page] *= 1.2
            if data.get("community") in communities:
                scores[page] *= 1.1  # the page sits with the matched entities' community
        return entities, self._spread(g, sorted(scores.items(), key=lambda x: (-x[1], x[0])), limit)

    # ------------------------------------------------------------------------------------------------
    @staticmethod
    def _allowed_docs(g: nx.Graph, scope: Scope) -> set[str]:
        out = set()
        wanted = set(scope.doc_ids)
        for _, data in g.nodes(data=True):
            if data.get("kind") != "filing":
                continue
            if wanted and data["doc_id"] not in wanted:
                continue
            if scope.fiscal_years and data.get("fiscal_year") not in scope.fiscal_years:
                continue
            if scope.doc_types and data.get("doc_type") not in scope.doc_types:
                continue
            out.add(data["doc_id"])
        return out

    def _match(self, tg: TenantGraph, question: str, allowed: set[str], named: bool) -> dict[str, float]:
        """Entity node -> weight: line items named in the question (or in its glossary expansion), then
        the in-scope companies' segments (named, or all of them when the question asks about segments)."""
        g = tg.graph
        companies = {g.nodes[f"doc:{d}"]["company"] for d in allowed if f"doc:{d}" in g}
        # The companies the question names (the scope) are not line items: drop their names' terms.
        names = set().union(*(tg.company_terms[c] for c in companies)) if named and companies else set()
        q_terms = {t for t in terms(question) if t not in _QUESTION_STOP and t not in names}
        expansion = set()
        for exp in self.rewriter.rewrite(question).expansions:
            expansion.update(t for t in terms(exp) if t not in _QUESTION_STOP)
        everything = q_terms | expansion

        found: dict[str, tuple[float, frozenset[str]]] = {}
        candidates = set().union(*(tg.postings.get(t, set()) for t in everything)) if everything else set()
        for node in candidates:
            if not tg.docs_of[node] & allowed:
                continue  # a line item of other filings only
            ent = tg.metrics[node]
            need = 1.0 if len(ent.required) <= 3 else 0.75
            if len(ent.required & q_terms) / len(ent.required) >= need:
                origin = 1.0
            elif len(ent.required & everything) / len(ent.required) >= need:
                origin = 0.5  # only through the glossary ("capex" -> purchases of property ...)
            else:
                continue
            matched = ent.all_terms & everything
            found[node] = (origin * tg.idf[node] * (1 + 0.25 * (len(matched) - 1)), frozenset(matched))
        # "operating income" asked: "income" and "net income" are subsumed by the longer match.
        kept = {n: w for n, (w, m) in found.items() if not any(m < other for o, (_, other) in found.items() if o != n)}
        best = dict(sorted(kept.items(), key=lambda x: -x[1])[: self.max_entities])

        segment_asked = bool(_SEGMENT_ASKED_RE.search(question))
        top = max(best.values(), default=1.0)
        for company in companies:
            for ent in tg.segments.get(company, []):
                if ent.required <= q_terms:
                    best[ent.node] = max(best.get(ent.node, 0.0), 2.0 * top)  # the segment itself is named
                elif segment_asked:
                    # Each segment votes, so the table listing all of them (the segment note) comes first.
                    best[ent.node] = max(best.get(ent.node, 0.0), top)
        return best

    @staticmethod
    def _spread(g: nx.Graph, ranked: list[tuple[str, float]], limit: int) -> list[tuple[str, float]]:
        """Round-robin over companies (best first), each company's pages in score order, so a comparison
        gets evidence for every side before the second page of any one."""
        by_company: dict[str, list[tuple[str, float]]] = defaultdict(list)
        for page, score in ranked:
            company = g.nodes[f"doc:{g.nodes[page]['doc_id']}"]["company"]
            by_company[company].append((page, score))
        queues = sorted(by_company.values(), key=lambda q: -q[0][1])
        out: list[tuple[str, float]] = []
        depth = 0
        while len(out) < limit and any(depth < len(q) for q in queues):
            for q in queues:
                if depth < len(q) and len(out) < limit:
                    out.append(q[depth])
            depth += 1
        return out

    def _hits(self, g: nx.Graph, tenant: str, ranked: list[tuple[str, float]]) -> list[Hit]:
        pages_by_doc: dict[str, list[int]] = defaultdict(list)
        for page, _ in ranked:
            pages_by_doc[g.nodes[page]["doc_id"]].append(int(g.nodes[page]["page"]))
        chunks = {}
        for doc_id, pages in pages_by_doc.items():
            for chunk in self.store.page_chunks(tenant, doc_id, pages):
                chunks[(chunk.doc_id, chunk.page_start)] = chunk
        hits = []
        for page, score in ranked:
            chunk = chunks.get((g.nodes[page]["doc_id"], int(g.nodes[page]["page"])))
            if chunk is not None and chunk.tenant == tenant:
                hits.append(Hit(chunk=chunk, score=score, source="graph"))
        return hits
