"""Global / cross-filing questions answered from the graph's community summaries, with citations.

"Which of these companies reports a Renewables segment?" and "Compare the segments of A and B" are not
answered by one page: the evidence is one segment table per filing. The community summaries written at
build time (`graph.build.detect_communities`) hold the relations "company reports segment" with the
sentence or table row that states each one and its page; this module reads the relations the question
asks about and writes the answer from them, each claim cited [DOC p.N]. Opt-in
(FINRAG_RETRIEVAL_GRAPH_ANSWERS): measured on the sample's cross-filing questions in docs/retrieval.md.

Questions it cannot answer from the summaries (no segment or company of the graph named, not a global
question) return None: the caller answers them the usual way."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from finrag.finance.text import page_label
from finrag.finance.words import label_terms
from finrag.graph.route import GraphRetriever, TenantGraph
from finrag.records import Citation, Scope

_WHICH_COMPANY = re.compile(r"\bwhich\b(?:\s+\w+){0,3}?\s+compan(?:y|ies)\b|\bwhich\s+one\b", re.I)
_SEGMENTS = re.compile(r"\bsegments?\b|\bdivisions?\b|\bbusiness\s+(?:units?|lines?)\b", re.I)
_ACROSS = re.compile(r"\bcompar\w*|\bdiffer\w*|\bversus\b|\bvs\.?\b|\beach\b|\bacross\b|\bboth\b|\bbetween\b", re.I)
# Words of a segment's name that do not identify it.
_FILLER = {"and", "of", "the", "&"}


def is_global(question: str) -> bool:
    """Which company (of several) …, or comparing / listing several companies' segments."""
    if _WHICH_COMPANY.search(question) and _SEGMENTS.search(question):
        return True
    return bool(_SEGMENTS.search(question) and _ACROSS.search(question))


@dataclass(slots=True)
class GraphAnswer:
    text: str
    citations: list[Citation]
    communities: list[int] = field(default_factory=list)  # summaries the answer was read from
    relations: list[dict[str, Any]] = field(default_factory=list)

    def trace(self) -> dict[str, Any]:
        return {
            "communities": self.communities,
            "relations": [f"{r['source']} {r['rel']} {r['target']}" for r in self.relations],
        }


def _terms(text: str) -> set[str]:
    return {t for t in label_terms(text) if t not in _FILLER}


def _named(question_terms: set[str], name: str) -> bool:
    want = _terms(name)
    return bool(want) and want <= question_terms


def _citations(relation: dict[str, Any]) -> list[Citation]:
    return [
        Citation(
            doc_id=e["doc_id"],
            doc_name=e["doc_name"],
            page=int(e["page"]),
            chunk_id=e["chunk_id"],
            quote=e.get("quote", ""),
            score=1.0,
        )
        for e in relation.get("evidence", [])
    ]


def _cite(relation: dict[str, Any]) -> str:
    return "".join(f"[{page_label(e['doc_name'], int(e['page']))}]" for e in relation.get("evidence", [])[:1])


class GlobalAnswerer:
    """Answers global questions from one tenant's community summaries (the graph the route builds)."""

    def __init__(self, route: GraphRetriever) -> None:
        self.route = route

    def answer(self, question: str, tenant: str, scope: Scope | None = None) -> GraphAnswer | None:
        if not is_global(question):
            return None
        tg = self.route.tenant_graph(tenant)
        if tg is None:
            return None
        reports: list[tuple[int, dict[str, Any]]] = [
            (int(s["id"]), r)
            for s in tg.graph.graph.get("communities", [])
            for r in s.get("relations", [])
            if r.get("rel") == "reports segment"
        ]
        if not reports:
            return None
        q = _terms(question)
        companies = self._companies(tg, question, scope or Scope())
        asked_segments = {r["target"] for _, r in reports if _named(q, r["target"])}
        if asked_segments and _WHICH_COMPANY.search(question):
            chosen = [(c, r) for c, r in reports if r["target"] in asked_segments]
            if companies and any(r["company"] in companies for _, r in chosen):
                chosen = [(c, r) for c, r in chosen if r["company"] in companies]
            return self._which(chosen, asked_segments)
        if companies:
            chosen = [(c, r) for c, r in reports if r["company"] in companies]
            return self._segments_of(chosen, companies, tg.graph) if chosen else None
        return None

    # ------------------------------------------------------------------------------------------------
    @staticmethod
    def _companies(tg: TenantGraph, question: str, scope: Scope) -> list[str]:
        """Company nodes the question names (by the words of their names), else those of the scope's
        filings when the scope names filings."""
        g = tg.graph
        q = set(label_terms(question))
        named = [c for c, words in tg.company_terms.items() if words and _name_in(q, g, c)]
        if named:
            return sorted(named)
        from_scope = {g.nodes[f"doc:{d}"]["company"] for d in scope.doc_ids if f"doc:{d}" in g and scope.applied}
        return sorted(from_scope)

    @staticmethod
    def _which(chosen: list[tuple[int, dict[str, Any]]], asked: set[str]) -> GraphAnswer:
        lines = []
        citations: list[Citation] = []
        for segment in sorted(asked):
            owners = [r for _, r in chosen if r["target"] == segment]
            for r in owners:
                lines.append(f"{r['source']} reports the {segment} segment {_cite(r)}.")
                citations += _citations(r)[:1]
        return GraphAnswer(
            text=" ".join(lines),
            citations=citations,
            communities=sorted({c for c, _ in chosen}),
            relations=[r for _, r in chosen],
        )

    @staticmethod
    def _segments_of(chosen: list[tuple[int, dict[str, Any]]], companies: list[str], g: nx.Graph) -> GraphAnswer:
        lines = []
        citations: list[Citation] = []
        for company in companies:
            mine = sorted((r for _, r in chosen if r["company"] == company), key=lambda r: r["target"])
            if not mine:
                continue
            name = mine[0]["source"]
            parts = [f"{r['target']} {_cite(r)}" for r in mine]
            lines.append(f"{name} reports {len(mine)} segments: {', '.join(parts)}.")
            for r in mine:
                citations += _citations(r)[:1]
        return GraphAnswer(
            text="\n".join(lines),
            citations=citations,
            communities=sorted({c for c, _ in chosen}),
            relations=[r for _, r in chosen],
        )


def _name_in(question_terms: set[str], g: nx.Graph, company: str) -> bool:
    """The question names the company: all distinctive words of one of its names (legal suffixes aside),
    or its ticker."""
    data = g.nodes[company]
    for name in [data.get("label", ""), *data.get("names", [])]:
        words = {t for t in label_terms(str(name)) if t not in _LEGAL}
        if words and words <= question_terms:
            return True
    return False


_LEGAL = {label_terms(w)[0] for w in ("inc", "corporation", "corp", "co", "company", "ltd", "plc", "llc", "group")}
