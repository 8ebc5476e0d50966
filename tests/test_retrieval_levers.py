"""Retrieval levers pinned on the generated sample filings (never on FinanceBench answers)."""

from __future__ import annotations

import pytest

from finrag.records import ChunkKind
from finrag.retrieve.rerank import build_reranker
from finrag.retrieve.retriever import Retriever, diversify
from finrag.retrieve.statements import STATEMENTS, is_statement_page, statements_asked
from finrag.settings import RetrievalSettings

pytestmark = pytest.mark.slow


def _retriever(svc, **changes) -> Retriever:
    rs = RetrievalSettings(**{**svc.settings.retrieval.model_dump(), **changes})
    c = svc.c
    return Retriever(c.store, c.embedder, c.sparse, c.registry, rs, build_reranker(rs.rerank, rs.cross_encoder_model))


def _company(svc, startswith: str) -> str:
    return next(d.filing.company for d in svc.documents() if d.filing.company.startswith(startswith))


def test_metric_questions_reach_the_statement_pages(sample_service) -> None:
    company = _company(sample_service, "Northwind")
    question = f"What was {company}'s FY2023 inventory turnover ratio?"
    assert {s.name for s in statements_asked(question)} == {"balance_sheet", "income"}
    hits = _retriever(sample_service).run(question, "default", top_k=5).hits
    texts = [h.chunk.text for h in hits]
    pages = sample_service.c.store.get_chunks("default", [h.chunk.parent_id or h.chunk.id for h in hits])
    titled = [p for p in pages if any(is_statement_page(p.text, st) for st in STATEMENTS)]
    assert titled, texts
    assert all(h.chunk.metadata["fiscal_year"] == 2023 for h in hits)


def test_glossary_turns_capex_into_the_cash_flow_line(sample_service) -> None:
    company = _company(sample_service, "Bluefin")
    result = _retriever(sample_service).run(f"What was {company}'s capex in FY2023?", "default", top_k=5)
    assert any("purchases of property, plant and equipment" in e for e in result.trace["expansions"])
    top_pages = sample_service.c.store.get_chunks("default", [h.chunk.parent_id or h.chunk.id for h in result.hits])
    assert any("Purchases of property, plant and equipment" in p.text for p in top_pages[:3])


def test_auto_merge_returns_parents_only_when_enabled(sample_service) -> None:
    question = "How much net cash did the company provide from operating activities?"
    merged = _retriever(sample_service, automerge=True, automerge_min_children=1).run(question, "default", top_k=5)
    assert merged.hits and all(h.chunk.kind == ChunkKind.PAGE for h in merged.hits if h.source == "merged")
    assert any(h.source == "merged" for h in merged.hits)
    plain = _retriever(sample_service, automerge=False).run(question, "default", top_k=5)
    assert not any(h.source == "merged" for h in plain.hits)


def test_neighbour_pages_follow_their_page(sample_service) -> None:
    result = _retriever(sample_service, neighbour_pages=1).run("cash flows from operating activities", "default", 3)
    keys = [(h.chunk.doc_id, h.chunk.page_start) for h in result.hits]
    assert len(keys) == len(set(keys)) and len(keys) > 3
    assert any(h.source == "neighbour" for h in result.hits)


def test_year_filter_falls_back_when_it_empties_results(sample_service) -> None:
    company = _company(sample_service, "Cedar")
    result = _retriever(sample_service).run(f"What did {company} report for 1999?", "default", top_k=5)
    assert result.hits and "no filing for 1999" in result.scope.note


def test_diversify_hedges_across_filings() -> None:
    from finrag.records import Chunk, Hit

    def hit(doc: str, page: int) -> Hit:
        return Hit(Chunk(f"{doc}{page}", doc, "t", ChunkKind.PASSAGE, "x", page, page), 1.0)

    pages = [hit("a", 1), hit("a", 2), hit("a", 3), hit("b", 9), hit("a", 4)]
    out = diversify(pages, 3, 2)
    assert [(h.chunk.doc_id, h.chunk.page_start) for h in out[:3]] == [("a", 1), ("a", 2), ("b", 9)]
    assert len(out) == len(pages)
    assert diversify(pages, 3, 1) == pages
