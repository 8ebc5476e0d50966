"""GraphRAG route on the generated sample filings: graph contents, persistence, incremental rebuild,
cross-filing retrieval and tenant isolation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("networkx")

from finrag.eval.metrics import load_questions
from finrag.graph.build import (
    GraphBuilder,
    extract_page,
    graph_path,
    load_graph,
    normalise_label,
    split_row,
)
from finrag.graph.route import GraphRetriever, fuse_graph, is_cross_filing
from finrag.records import Chunk, ChunkKind, DocStatus, Hit, Scope

TENANT = "default"


class _CountingStore:
    """The real store, counting page reads (to see what an incremental rebuild re-reads)."""

    def __init__(self, store) -> None:
        self.store = store
        self.page_reads: list[str] = []

    def __getattr__(self, name: str):
        return getattr(self.store, name)

    def page_chunks(self, tenant, doc_id, pages):
        self.page_reads.append(doc_id)
        return self.store.page_chunks(tenant, doc_id, pages)


class _HidingRegistry:
    """The real registry with some documents hidden, as if they were deleted."""

    def __init__(self, registry, hidden: set[str]) -> None:
        self.registry = registry
        self.hidden = hidden

    def __getattr__(self, name: str):
        return getattr(self.registry, name)

    def list(self, tenant=None, status=None):
        return [d for d in self.registry.list(tenant=tenant, status=status) if d.doc_id not in self.hidden]


@pytest.fixture(scope="module")
def graph_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("graph")


@pytest.fixture(scope="module")
def route(sample_service, graph_dir: Path) -> GraphRetriever:
    r = GraphRetriever(sample_service.c.store, sample_service.c.registry, graph_dir)
    r.warm_up()
    return r


def _nodes(route: GraphRetriever, kind: str) -> dict[str, dict]:
    tg = route.tenant_graph(TENANT)
    assert tg is not None
    return {n: d for n, d in tg.graph.nodes(data=True) if d.get("kind") == kind}


def _resolve(sample_service, question: str) -> Scope:
    return sample_service.retriever.resolver(TENANT).resolve(question)


def _company(sample_service, startswith: str) -> str:
    return next(d.filing.company for d in sample_service.documents() if d.filing.company.startswith(startswith))


# --- extraction (no index needed) ------------------------------------------------------------------------
def test_rows_and_labels_are_read_generically() -> None:
    assert split_row("Purchases of property, plant and equipment (PP&E) (1,749) (1,603)") == (
        "Purchases of property, plant and equipment (PP&E)",
        2,
    )
    assert split_row("Net sales $ 34,229 $ 35,355") == ("Net sales", 2)
    assert split_row("The segment contributed 46.0% of fiscal 2023 revenue.") is None
    assert split_row("SECURITIES EXCHANGE ACT OF 1934") is None  # a year is not a figure
    assert normalise_label("Purchases of property, plant and equipment (PP&E)") == (
        "purchases of property plant and equipment"
    )
    assert normalise_label("Less: Net income (loss) attributable to noncontrolling interest") == (
        "net income attributable to noncontrolling interest"
    )


def test_segments_come_from_segment_tables_and_text() -> None:
    text = "\n".join(
        [
            "Note 7. Segment Information",
            "Revenue:",
            "Widgets $ 120 $ 100",
            "Gadgets 80 70",
            "Corporate and other 5 4",
            "Total revenue $ 205 $ 174",
            "Note 8. Debt",
            "Term loan $ 50 $ 60",
            "Our Services segment grew in the year.",
        ]
    )
    page = Chunk("c1", "d1", TENANT, ChunkKind.PAGE, text, 3, 3, section="Item 8. Financial Statements")
    facts = extract_page(page)
    assert set(facts.segments) == {"widgets", "gadgets", "services"}
    assert facts.segment_via["widgets"] == {"table"} and facts.segment_via["services"] == {"text"}
    assert "total revenue" in facts.metrics and "term loan" in facts.metrics
    assert "widgets" not in facts.metrics and "corporate and other" not in facts.segments


def test_cross_filing_heuristic() -> None:
    assert is_cross_filing("Compare the operating margins of A and B in FY2023")
    assert is_cross_filing("How did the two companies' capex differ?")
    assert is_cross_filing("Which segment had the highest operating income?")
    assert is_cross_filing("Revenue of A versus B")
    assert is_cross_filing("What was revenue in each of the last two years?")
    assert not is_cross_filing("What was the company's FY2023 capital expenditure?")
    assert not is_cross_filing("What were comparable sales in FY2023?")


def test_fuse_graph_counts_a_page_once_and_keeps_the_retrievers_chunk() -> None:
    def hit(doc: str, page: int, cid: str, kind: ChunkKind = ChunkKind.PASSAGE) -> Hit:
        return Hit(Chunk(cid, doc, TENANT, kind, "", page, page), 1.0, "x")

    base = [hit("a", 1, "a1c0"), hit("a", 2, "a2c0"), hit("b", 9, "b9c0")]
    graph = [hit("b", 9, "b9", ChunkKind.PAGE), hit("c", 4, "c4", ChunkKind.PAGE)]
    fused = fuse_graph(base, graph, k=60)
    keys = [(h.chunk.doc_id, h.chunk.page_start) for h in fused]
    assert len(keys) == len(set(keys)) == 4
    assert keys[0] == ("b", 9) and fused[0].chunk.id == "b9c0"  # both lists voted for it
    assert ("c", 4) in keys
    assert fuse_graph(base, [], k=60)[0].chunk.id == "a1c0"


# --- the graph over the sample filings -------------------------------------------------------------------
@pytest.mark.slow
def test_graph_has_companies_segments_metrics_periods(sample_service, route: GraphRetriever) -> None:
    companies = {d["label"] for d in _nodes(route, "company").values()}
    for prefix in ("Northwind", "Bluefin", "Cedar Ridge"):
        assert _company(sample_service, prefix) in companies
    segments = {(d["label"], d["company"]) for d in _nodes(route, "segment").values()}
    labels = {label for label, _ in segments}
    assert {"Industrial Automation", "Logistics Systems", "Software and Services"} <= labels
    assert {"Upstream", "Midstream", "Renewables", "Seafood", "Frozen Meals"} <= labels
    # Segments belong to their company.
    nw = next(n for n, d in _nodes(route, "company").items() if d["label"].startswith("Northwind"))
    assert {label for label, c in segments if c == nw} >= {"Industrial Automation", "Logistics Systems"}
    assert not {label for label, c in segments if c == nw} & {"Upstream", "Seafood"}
    metrics = set(_nodes(route, "metric"))
    assert {"metric:net income", "metric:operating income", "metric:purchases of property plant and equipment"} <= (
        metrics
    )
    assert {"period:FY2022", "period:FY2023"} <= set(_nodes(route, "period"))
    filings = _nodes(route, "filing")
    ready = {d.doc_id for d in sample_service.documents() if d.status == DocStatus.READY}
    assert {d["doc_id"] for d in filings.values()} == ready
    tg = route.tenant_graph(TENANT)
    assert tg is not None
    g = tg.graph
    # Evidence pages carry the parent chunk id, and statement rows are linked to their neighbours.
    page = next(n for n in g.neighbors("metric:net income") if g.nodes[n]["kind"] == "page")
    assert g.nodes[page]["chunk_id"]
    assert any(g.nodes[n]["kind"] == "metric" for n in g.neighbors("metric:net income"))
    communities = g.graph["communities"]
    assert communities and all(c["summary"] and c["size"] >= 3 for c in communities)
    assert all("community" in d for _, d in g.nodes(data=True))


@pytest.mark.slow
def test_graph_json_reloads_and_rebuilds_incrementally(sample_service, route: GraphRetriever, graph_dir) -> None:
    path = graph_path(graph_dir, TENANT)
    json.loads(path.read_text(encoding="utf-8"))  # plain JSON, no pickle
    tg = route.tenant_graph(TENANT)
    assert tg is not None
    loaded = load_graph(path)
    assert loaded is not None
    assert set(loaded.nodes) == set(tg.graph.nodes)
    assert loaded.number_of_edges() == tg.graph.number_of_edges()
    assert loaded.graph["stamp"] == tg.graph.graph["stamp"]

    # Nothing changed: nothing is re-read.
    store = _CountingStore(sample_service.c.store)
    GraphBuilder(store, sample_service.c.registry, graph_dir).build(TENANT)
    assert store.page_reads == []

    # One filing gone, then back: only that filing is read again, and the graph is the same as before.
    doc = next(d for d in sample_service.documents() if d.name.startswith("BLUEFIN"))
    hiding = _HidingRegistry(sample_service.c.registry, {doc.doc_id})
    without = GraphBuilder(store, hiding, graph_dir).build(TENANT, graph=load_graph(path))
    assert f"doc:{doc.doc_id}" not in without
    assert not any(d.get("doc_id") == doc.doc_id for _, d in without.nodes(data=True))
    assert store.page_reads == []
    again = GraphBuilder(store, sample_service.c.registry, graph_dir).build(TENANT, graph=without)
    assert set(store.page_reads) == {doc.doc_id}
    assert set(again.nodes) == set(tg.graph.nodes)
    assert again.number_of_edges() == tg.graph.number_of_edges()
    assert again.graph["stamp"] == tg.graph.graph["stamp"]


@pytest.mark.slow
def test_comparison_returns_pages_of_both_companies(sample_service, route: GraphRetriever) -> None:
    a, b = _company(sample_service, "Northwind"), _company(sample_service, "Bluefin")
    question = f"Compare the operating income of {a} and {b} in FY2023"
    assert is_cross_filing(question)
    scope = _resolve(sample_service, question)
    hits = route.search(question, TENANT, scope, limit=6)
    assert hits and all(h.source == "graph" and h.chunk.kind == ChunkKind.PAGE for h in hits)
    companies = [h.chunk.metadata["company"] for h in hits]
    assert {a, b} <= set(companies[:2])  # one side each before a second page of either
    for h in hits[:2]:
        assert "Operating income" in h.chunk.text and h.chunk.metadata["fiscal_year"] == 2023


@pytest.mark.slow
def test_which_segment_question_returns_the_segment_table(sample_service, sample_dir, route) -> None:
    golden = next(q for q in load_questions(sample_dir / "golden.jsonl") if q.question.startswith("Which segment"))
    scope = _resolve(sample_service, golden.question)
    hits = route.search(golden.question, TENANT, scope, limit=5)
    assert hits
    top = hits[0].chunk
    assert (top.metadata["doc_name"], top.page_start) in set(golden.evidence)


@pytest.mark.slow
def test_fused_route_keeps_the_retrievers_hits(sample_service, route: GraphRetriever) -> None:
    a, b = _company(sample_service, "Cedar Ridge"), _company(sample_service, "Northwind")
    question = f"How did the capital expenditures of {a} and {b} differ in FY2023?"
    result = sample_service.retrieve(question, top_k=5)
    graph_hits = route.search(question, TENANT, result.scope, limit=5)
    fused = fuse_graph(result.hits, graph_hits, k=60)
    base_pages = {(h.chunk.doc_id, h.chunk.page_start) for h in result.hits}
    fused_pages = [(h.chunk.doc_id, h.chunk.page_start) for h in fused]
    assert base_pages <= set(fused_pages) and len(fused_pages) == len(set(fused_pages))
    assert {h.chunk.metadata["company"] for h in graph_hits} == {a, b}


@pytest.mark.slow
def test_tenants_never_share_a_graph(service_factory, sample_dir: Path, tmp_path: Path) -> None:
    svc = service_factory()
    mine = sample_dir / "NORTHWINDROBOTICS_2023_10K.pdf"
    theirs = sample_dir / "BLUEFINFOODS_2023_10K.pdf"
    assert not svc.ingest([mine], tenant="a").failed
    assert not svc.ingest([theirs], tenant="b").failed
    their_docs = {d.doc_id for d in svc.documents("b")}
    route = GraphRetriever(svc.c.store, svc.c.registry, tmp_path / "graph")
    tg = route.tenant_graph("a")
    assert tg is not None
    g = tg.graph
    assert g.graph["tenant"] == "a" and set(g.graph["docs"]) == {d.doc_id for d in svc.documents("a")}
    assert not any(d.get("doc_id") in their_docs for _, d in g.nodes(data=True))
    assert not any(d.get("label", "").startswith("Bluefin") for _, d in g.nodes(data=True))
    assert not any("Seafood" in str(d.get("label", "")) for _, d in g.nodes(data=True))
    # Asking tenant a about tenant b's company finds only tenant a's pages (if any).
    hits = route.search("Compare the net income of Bluefin Foods and Northwind Robotics", "a", Scope(), limit=10)
    assert all(h.chunk.tenant == "a" and h.chunk.doc_id not in their_docs for h in hits)
    assert graph_path(tmp_path / "graph", "a") != graph_path(tmp_path / "graph", "b")
    assert graph_path(tmp_path / "graph", "../b").parent == tmp_path / "graph"
