"""The VectorStore contract: one suite of behaviour every implementation must pass, subclassed per
implementation (the Haystack document-store mixin pattern), plus congruence checks that the edge store and
the server store (qdrant-client's local mode here; a real server when FINRAG_TEST_QDRANT_URL is set) return
the same hits in the same order for the same data (qdrant-client's congruence-test pattern)."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from finrag.index.qdrant_edge import QdrantEdgeStore
from finrag.index.qdrant_server import QdrantServerStore
from finrag.index.sparse import Bm25Encoder
from finrag.protocols import VectorStore
from finrag.records import Chunk, ChunkKind, Hit, Scope

DIM = 8
TEXTS = [
    "Purchases of property, plant and equipment (1,577) (1,373)",
    "Net income attributable to the company 5,777 5,921",
    "Risk factors include foreign currency exchange rates",
    "Cash dividends paid to shareholders (3,193)",
]
QDRANT_URL = os.environ.get("FINRAG_TEST_QDRANT_URL", "")


def _vec(i: int) -> np.ndarray:
    v = np.zeros(DIM, dtype=np.float32)
    v[i % DIM] = 1.0
    v[(i + 1) % DIM] = 0.3
    return v / np.linalg.norm(v)


def _uid(name: str) -> str:
    # Qdrant point ids must be UUIDs or integers; stable ones keep failures readable across runs.
    return str(uuid.uuid5(uuid.NAMESPACE_URL, name))


def _chunks(tenant: str, doc_id: str, fy: int = 2022) -> list[Chunk]:
    """One parent (page) and one child (table block) per text; children first, as ingest sends them."""
    # Every payload field the store keeps (fiscal_quarter included), so chunks round-trip unchanged.
    meta = {
        "doc_name": f"{doc_id}-name",
        "company": "Acme",
        "doc_type": "10-K",
        "fiscal_year": fy,
        "fiscal_quarter": None,
        "section_key": "",
        "sections": [],
    }
    parents, children = [], []
    for page, text in enumerate(TEXTS):
        pid = _uid(f"{tenant}-{doc_id}-p{page}")
        parents.append(Chunk(pid, doc_id, tenant, ChunkKind.PAGE, text, page, page, metadata=meta))
        cid = _uid(f"{tenant}-{doc_id}-c{page}")
        children.append(Chunk(cid, doc_id, tenant, ChunkKind.TABLE, text, page, page, pid, metadata=meta))
    return children + parents


def _index(store: VectorStore, tenant: str, doc_id: str, fy: int = 2022) -> list[Chunk]:
    bm25 = Bm25Encoder()
    chunks = _chunks(tenant, doc_id, fy)
    dense = np.stack([_vec(TEXTS.index(c.text)) for c in chunks if c.kind != ChunkKind.PAGE])
    store.upsert(chunks, dense, [bm25.embed_document(c.text) for c in chunks])
    store.flush()
    return chunks


def _search(store: VectorStore, tenant: str, text: str, i: int, scope: Scope | None = None) -> list[Hit]:
    return store.hybrid_search(tenant, _vec(i), Bm25Encoder().embed_query(text), scope or Scope(), 5, 20)


def _score_groups(hits: list[Hit]) -> list[tuple[float, frozenset[str]]]:
    """RRF gives equal scores to e.g. rank 3 of dense and rank 3 of sparse; their order is arbitrary."""
    groups: dict[float, set[str]] = {}
    for h in hits:
        groups.setdefault(round(h.score, 6), set()).add(h.chunk.id)  # edge scores are float32
    return [(score, frozenset(ids)) for score, ids in sorted(groups.items(), reverse=True)]


class VectorStoreContract:
    """Subclasses provide a `store` fixture: a fresh, warmed-up, empty store with dense size DIM."""

    def test_satisfies_the_protocol(self, store: VectorStore) -> None:
        assert isinstance(store, VectorStore)
        store.warm_up()  # idempotent
        assert store.count() == 0

    def test_optimize_keeps_results(self, store: VectorStore) -> None:
        """The index build (edge: run now; server: wait for its background optimiser) changes no hit."""
        _index(store, "t1", "d1")
        _index(store, "t2", "d2", fy=2021)
        queries = [("purchases of property plant", 0), ("dividends paid", 5), ("net income", 1)]
        before = [_score_groups(_search(store, t, text, i)) for t in ("t1", "t2") for text, i in queries]
        assert isinstance(store.optimize(), bool)
        assert store.optimize() is False  # nothing left to build
        assert [_score_groups(_search(store, t, text, i)) for t in ("t1", "t2") for text, i in queries] == before
        assert (store.count("t1"), store.count("t2")) == (8, 8)

    def test_hybrid_finds_by_meaning_and_words(self, store: VectorStore) -> None:
        _index(store, "t1", "d1")
        hits = _search(store, "t1", "purchases of property plant", 0)
        assert hits[0].chunk.text == TEXTS[0]
        assert hits[0].chunk.doc_id == "d1"
        assert hits[0].chunk.metadata["fiscal_year"] == 2022
        # Words alone (a dense vector pointing elsewhere) still find dividends through BM25.
        hits = _search(store, "t1", "dividends paid", 5)
        assert TEXTS[3] in [h.chunk.text for h in hits[:2]]

    def test_payload_round_trips(self, store: VectorStore) -> None:
        chunks = {c.id: c for c in _index(store, "t1", "d1")}
        got = store.get_chunks("t1", list(chunks))
        assert {c.id: c for c in got} == chunks  # every field, metadata and parent link included
        ids = list(chunks)[::-1]
        assert [c.id for c in store.get_chunks("t1", [*ids, _uid("missing")])] == ids  # order of the ids asked
        assert store.get_chunks("t1", []) == []

    def test_dense_route_alone_returns_children(self, store: VectorStore) -> None:
        # Guards the children filter: a filter that matched nothing once silently disabled the dense route.
        _index(store, "t1", "d1")
        hits = store.hybrid_search("t1", _vec(1), None, Scope(), 5, 20)
        assert hits and hits[0].chunk.text == TEXTS[1]
        assert all(h.chunk.kind != ChunkKind.PAGE for h in hits)

    def test_sparse_route_alone_reaches_pages_too(self, store: VectorStore) -> None:
        _index(store, "t1", "d1")
        hits = store.hybrid_search("t1", None, Bm25Encoder().embed_query("dividends shareholders"), Scope(), 5, 20)
        assert {h.chunk.kind for h in hits[:2]} == {ChunkKind.PAGE, ChunkKind.TABLE}
        assert all(h.chunk.text == TEXTS[3] for h in hits[:2])
        assert store.hybrid_search("t1", None, None, Scope(), 5, 20) == []

    def test_tenant_filter_inside_the_query(self, store: VectorStore) -> None:
        _index(store, "t1", "d1")
        _index(store, "t2", "d2")
        hits = _search(store, "t2", "net income", 1)
        assert hits and all(h.chunk.tenant == "t2" for h in hits)
        assert _search(store, "nobody", "net income", 1) == []
        ids = [h.chunk.id for h in _search(store, "t1", "net income", 1)]
        assert store.get_chunks("t2", ids) == []  # another tenant's ids do not leak
        assert store.page_chunks("t2", "d1", [0]) == []
        assert store.count("t1") == store.count("t2") == 8 and store.count() == 16
        store.delete_document("t2", "d1")  # another tenant's document of that name: nothing to delete
        assert store.count("t1", "d1") == 8

    def test_scope_filters_and_delete(self, store: VectorStore) -> None:
        _index(store, "t1", "d1", fy=2021)
        _index(store, "t1", "d2", fy=2022)
        hits = _search(store, "t1", "net income", 1, Scope(fiscal_years=[2021]))
        assert hits and {h.chunk.doc_id for h in hits} == {"d1"}
        hits = _search(store, "t1", "net income", 1, Scope(doc_ids=["d2"]))
        assert {h.chunk.doc_id for h in hits} == {"d2"}
        assert _search(store, "t1", "net income", 1, Scope(doc_types=["10-Q"])) == []
        assert store.count("t1", "d1") == 8
        store.delete_document("t1", "d1")
        store.flush()
        assert store.count("t1", "d1") == 0
        assert store.count("t1", "d2") == 8

    def test_page_chunks_returns_parents(self, store: VectorStore) -> None:
        _index(store, "t1", "d1")
        pages = store.page_chunks("t1", "d1", [2, 0, 2])
        assert [p.page_start for p in pages] == [0, 2]
        assert all(p.kind == ChunkKind.PAGE for p in pages)
        assert store.page_chunks("t1", "d1", []) == []
        assert store.page_chunks("t1", "d1", [99]) == []

    def test_upsert_replaces_a_point(self, store: VectorStore) -> None:
        chunks = _index(store, "t1", "d1")
        edited = dataclasses.replace(chunks[0], text="Cash dividends restated")
        bm25 = Bm25Encoder()
        store.upsert([edited], np.stack([_vec(3)]), [bm25.embed_document(edited.text)])
        store.flush()
        assert store.count("t1", "d1") == 8
        assert store.get_chunks("t1", [edited.id])[0].text == "Cash dividends restated"

    def test_set_page_payload_labels_parent_and_children(self, store: VectorStore) -> None:
        """Sections set on an existing index (no re-embedding) reach both a page and its children."""
        _index(store, "t1", "d1")
        _index(store, "t2", "d1")
        sections = {"section_key": "risk_factors", "sections": ["risk_factors", "business"]}
        store.set_page_payload("t1", "d1", {2: sections})
        hits = _search(store, "t1", "risk factors foreign currency", 2)
        labelled = [h for h in hits if h.chunk.page_start == 2]
        assert labelled and all(h.chunk.metadata["section_key"] == "risk_factors" for h in labelled)
        assert labelled[0].chunk.metadata["sections"] == ["risk_factors", "business"]
        others = [h for h in hits if h.chunk.page_start != 2]
        assert others and all(h.chunk.metadata["section_key"] == "" for h in others)
        (page,) = store.page_chunks("t1", "d1", [2])
        assert page.metadata["section_key"] == "risk_factors"
        # Another tenant's copy of the same document is untouched.
        (other,) = store.page_chunks("t2", "d1", [2])
        assert other.metadata["section_key"] == ""

    def test_set_document_payload_rescopes_one_document(self, store: VectorStore) -> None:
        """A corrected form / fiscal year / company reaches every point of the document (no re-embedding):
        scope filters find it under the new values only; other documents and tenants are untouched."""
        _index(store, "t1", "d1", fy=2022)
        _index(store, "t1", "d2", fy=2022)
        _index(store, "t2", "d1", fy=2022)
        store.set_document_payload("t1", "d1", {"fiscal_year": 2019, "doc_type": "10-Q", "company": "Zeta Corp"})
        assert store.count("t1", "d1") == 8  # nothing added or lost
        moved = _search(store, "t1", "net income", 1, Scope(fiscal_years=[2019], doc_types=["10-Q"]))
        assert moved and {h.chunk.doc_id for h in moved} == {"d1"}
        assert all(h.chunk.metadata["company"] == "Zeta Corp" for h in moved)
        stayed = _search(store, "t1", "net income", 1, Scope(fiscal_years=[2022]))
        assert stayed and {h.chunk.doc_id for h in stayed} == {"d2"}
        (page,) = store.page_chunks("t1", "d1", [2])
        assert page.metadata["fiscal_year"] == 2019 and page.metadata["doc_type"] == "10-Q"
        (other,) = store.page_chunks("t2", "d1", [2])
        assert other.metadata["fiscal_year"] == 2022 and other.metadata["company"] == "Acme"

    def test_search_many_matches_one_at_a_time(self, store: VectorStore) -> None:
        _index(store, "t1", "d1", fy=2021)
        _index(store, "t1", "d2", fy=2022)
        bm25 = Bm25Encoder()
        # Limits above the candidates: the copies of one text in d1 and d2 tie, and a cut inside a tie is arbitrary.
        queries: list[tuple[Any, Any, int]] = [
            (_vec(0), bm25.embed_query("purchases of property"), 50),
            (None, bm25.embed_query("dividends"), 50),
            (_vec(2), None, 50),
            (None, None, 5),  # neither vector: an empty list in its place
        ]
        for scope, sizes in ((Scope(), [10, 4, 8, 0]), (Scope(fiscal_years=[2022]), [5, 2, 4, 0])):
            many = store.hybrid_search_many("t1", scope, queries, 20, 60)
            one = [store.hybrid_search("t1", d, s, scope, n, 20, 60) for d, s, n in queries]
            assert [_score_groups(hits) for hits in many] == [_score_groups(hits) for hits in one]
            assert [len(hits) for hits in many] == sizes
        assert store.hybrid_search_many("t1", Scope(), [], 20) == []
        assert store.hybrid_search_many("t2", Scope(), queries[:1], 20) == [[]]


def _edge(path: Path) -> QdrantEdgeStore:
    return QdrantEdgeStore(path, dim=DIM)


class TestQdrantEdgeStore(VectorStoreContract):
    @pytest.fixture()
    def store(self, tmp_path: Path) -> Iterator[QdrantEdgeStore]:
        s = _edge(tmp_path / "edge")
        s.warm_up()
        yield s
        s.close()

    def test_persists_across_processes(self, tmp_path: Path) -> None:
        path = tmp_path / "persist"
        s = _edge(path)
        _index(s, "t1", "d1")
        s.close()
        code = textwrap.dedent(
            f"""
            from pathlib import Path
            from finrag.index.qdrant_edge import QdrantEdgeStore
            s = QdrantEdgeStore(Path({str(path)!r}), dim={DIM})
            print(s.count("t1"))
            """
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        assert out.stdout.strip() == "8"


class TestQdrantServerStoreLocal(VectorStoreContract):
    """qdrant-client's local mode on disk: the same client API as a Qdrant server."""

    @pytest.fixture()
    def store(self, tmp_path: Path) -> Iterator[QdrantServerStore]:
        s = QdrantServerStore(path=str(tmp_path / "local"), dim=DIM)
        s.warm_up()
        yield s
        s.close()


@pytest.mark.integration
class TestQdrantServerStoreRemote(VectorStoreContract):
    """A real Qdrant server (FINRAG_TEST_QDRANT_URL=http://host:6333); none runs on this machine by default."""

    @pytest.fixture()
    def store(self) -> Iterator[QdrantServerStore]:
        if not QDRANT_URL:
            pytest.skip("set FINRAG_TEST_QDRANT_URL=http://host:6333 to run the suite against a real Qdrant server")
        s = QdrantServerStore(QDRANT_URL, collection=f"finrag_test_{uuid.uuid4().hex[:10]}", dim=DIM)
        s.warm_up()
        yield s
        s.client.delete_collection(s.collection)
        s.close()


# congruence ---------------------------------------------------------------------------------------------------
FILING_LINES = [
    "Purchases of property, plant and equipment (1,577) (1,373)",
    "Net income attributable to the company 5,777 5,921",
    "Risk factors include foreign currency exchange rates and interest rates",
    "Cash dividends paid to shareholders (3,193) (3,091)",
    "Total revenue increased 8 percent to 32,765 driven by industrial demand",
    "Research and development expense 1,994 1,878 as a percent of sales",
    "Long-term debt due after one year 13,093 and commercial paper",
    "Free cash flow conversion and capital expenditures outlook for next year",
]


def _distinct_chunks(tenant: str, doc_id: str, fy: int, rng: np.random.Generator) -> tuple[list[Chunk], np.ndarray]:
    """No two points tie on either route, so both stores must produce the very same order."""
    meta = {"doc_name": doc_id, "company": "Acme", "doc_type": "10-K", "fiscal_year": fy}
    parents, children, dense = [], [], []
    for page, text in enumerate(FILING_LINES):
        parent = Chunk(str(uuid.uuid4()), doc_id, tenant, ChunkKind.PAGE, f"{text} (page {page + 1} of {doc_id})",
                       page, page, metadata=meta)  # fmt: skip
        child = Chunk(str(uuid.uuid4()), doc_id, tenant, ChunkKind.PASSAGE, f"{text} {doc_id}", page, page,
                      parent.id, metadata=meta)  # fmt: skip
        parents.append(parent)
        children.append(child)
        v = rng.normal(size=DIM).astype(np.float32)
        dense.append(v / np.linalg.norm(v))
    return children + parents, np.stack(dense)


@pytest.fixture()
def both(tmp_path: Path) -> Iterator[tuple[QdrantEdgeStore, QdrantServerStore]]:
    edge = _edge(tmp_path / "edge")
    if QDRANT_URL:
        server = QdrantServerStore(QDRANT_URL, collection=f"finrag_test_{uuid.uuid4().hex[:10]}", dim=DIM)
    else:
        server = QdrantServerStore(location=":memory:", dim=DIM)
    server.warm_up()
    yield edge, server
    if QDRANT_URL:
        server.client.delete_collection(server.collection)
    edge.close()
    server.close()


def test_edge_and_server_stores_agree(both: tuple[QdrantEdgeStore, QdrantServerStore]) -> None:
    """Same data in both stores: hybrid (RRF), each route alone, batches, parents, chunks and counts agree."""
    edge, server = both
    bm25 = Bm25Encoder()
    rng = np.random.default_rng(7)
    for tenant, doc_id, fy in (("t1", "alpha", 2021), ("t1", "beta", 2022), ("t2", "gamma", 2022)):
        ordered, dense = _distinct_chunks(tenant, doc_id, fy, rng)
        sparse = [bm25.embed_document(c.text) for c in ordered]
        for s in (edge, server):
            s.upsert(ordered, dense, sparse)
    edge.flush()
    queries = ["purchases of property plant", "net income", "dividends paid", "currency risk", "revenue growth"]
    for text in queries:
        q_dense = rng.normal(size=DIM).astype(np.float32)
        q_dense /= np.linalg.norm(q_dense)
        q_sparse = bm25.embed_query(text)
        for scope in (Scope(), Scope(fiscal_years=[2022]), Scope(doc_ids=["alpha"])):
            # limit above the candidates of both prefetches: no truncation inside a group of equal scores.
            e = edge.hybrid_search("t1", q_dense, q_sparse, scope, 100, 20)
            q = server.hybrid_search("t1", q_dense, q_sparse, scope, 100, 20)
            assert _score_groups(q) == _score_groups(e), (text, scope)
            assert {h.chunk.id: h.chunk for h in q} == {h.chunk.id: h.chunk for h in e}
        # Each route alone has no ties: the very same order.
        routes = [(q_dense, None, 6), (None, q_sparse, 6)]
        e_routes = edge.hybrid_search_many("t1", Scope(), routes, 20)
        q_routes = server.hybrid_search_many("t1", Scope(), routes, 20)
        for route, e_hits, q_hits in zip(("dense", "sparse"), e_routes, q_routes, strict=True):
            assert e_hits, route
            assert [h.chunk.id for h in q_hits] == [h.chunk.id for h in e_hits], (text, route)
    assert server.count() == edge.count() == 48
    assert server.count("t2") == edge.count("t2") == 16
    assert server.count("t1", "alpha") == edge.count("t1", "alpha") == 16
    assert server.page_chunks("t1", "beta", [1, 3]) == edge.page_chunks("t1", "beta", [1, 3])
    some = [h.chunk.id for h in edge.hybrid_search("t1", None, bm25.embed_query("debt"), Scope(), 10, 20)]
    assert server.get_chunks("t1", some) == edge.get_chunks("t1", some)
    for s in (edge, server):
        s.delete_document("t1", "alpha")
    assert server.count() == edge.count() == 32
