"""The VectorStore suite: every implementation must pass it (the server store joins the list)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from finrag.index.qdrant_edge import QdrantEdgeStore
from finrag.index.sparse import Bm25Encoder
from finrag.records import Chunk, ChunkKind, Scope

DIM = 8
TEXTS = [
    "Purchases of property, plant and equipment (1,577) (1,373)",
    "Net income attributable to the company 5,777 5,921",
    "Risk factors include foreign currency exchange rates",
    "Cash dividends paid to shareholders (3,193)",
]


def _vec(i: int) -> np.ndarray:
    v = np.zeros(DIM, dtype=np.float32)
    v[i % DIM] = 1.0
    v[(i + 1) % DIM] = 0.3
    return v / np.linalg.norm(v)


def _chunks(tenant: str, doc_id: str, fy: int = 2022) -> list[Chunk]:
    out = []
    for page, text in enumerate(TEXTS):
        meta = {"doc_name": f"{doc_id}-name", "company": "Acme", "doc_type": "10-K", "fiscal_year": fy}
        parent = Chunk(f"{tenant}-{doc_id}-p{page}", doc_id, tenant, ChunkKind.PAGE, text, page, page, metadata=meta)
        child = Chunk(
            f"{tenant}-{doc_id}-c{page}", doc_id, tenant, ChunkKind.TABLE, text, page, page, parent.id, metadata=meta
        )
        out += [parent, child]
    # Point ids must be UUIDs or ints for Qdrant; derive stable UUIDs.
    import uuid

    for c in out:
        c.id = str(uuid.uuid5(uuid.NAMESPACE_URL, c.id))
        if c.parent_id:
            c.parent_id = str(uuid.uuid5(uuid.NAMESPACE_URL, c.parent_id))
    return out


def _index(store, tenant: str, doc_id: str, fy: int = 2022) -> None:
    bm25 = Bm25Encoder()
    chunks = _chunks(tenant, doc_id, fy)
    children = [c for c in chunks if c.kind != ChunkKind.PAGE]
    dense = np.stack([_vec(TEXTS.index(c.text)) for c in children])
    ordered = children + [c for c in chunks if c.kind == ChunkKind.PAGE]
    store.upsert(ordered, dense, [bm25.embed_document(c.text) for c in ordered])
    store.flush()


def edge_store(path: Path) -> QdrantEdgeStore:
    return QdrantEdgeStore(path, dim=DIM)


def server_store_local(path: Path):
    # qdrant-client's local mode: the same client API as a Qdrant server (real servers: test_backends_qdrant.py).
    from finrag.index.qdrant_server import QdrantServerStore

    return QdrantServerStore(path=str(path), dim=DIM)


STORES = [pytest.param(edge_store, id="qdrant-edge"), pytest.param(server_store_local, id="qdrant-server-local")]


@pytest.fixture(params=STORES)
def store(request, tmp_path: Path):
    s = request.param(tmp_path / "store")
    s.warm_up()
    yield s
    s.close()


def _search(store, tenant: str, text: str, i: int, scope: Scope | None = None):
    bm25 = Bm25Encoder()
    return store.hybrid_search(tenant, _vec(i), bm25.embed_query(text), scope or Scope(), 5, 20)


def test_hybrid_finds_by_meaning_and_words(store) -> None:
    _index(store, "t1", "d1")
    hits = _search(store, "t1", "purchases of property plant", 0)
    assert hits[0].chunk.text == TEXTS[0]
    assert hits[0].chunk.doc_id == "d1"
    assert hits[0].chunk.metadata["fiscal_year"] == 2022
    # Words alone (a dense vector pointing elsewhere) still find dividends through BM25.
    hits = _search(store, "t1", "dividends paid", 5)
    assert TEXTS[3] in [h.chunk.text for h in hits[:2]]


def test_tenant_filter_inside_the_query(store) -> None:
    _index(store, "t1", "d1")
    _index(store, "t2", "d2")
    hits = _search(store, "t2", "net income", 1)
    assert hits and all(h.chunk.tenant == "t2" for h in hits)
    assert _search(store, "nobody", "net income", 1) == []
    ids = [h.chunk.id for h in _search(store, "t1", "net income", 1)]
    assert store.get_chunks("t2", ids) == []  # another tenant's ids do not leak


def test_scope_filters_and_delete(store) -> None:
    _index(store, "t1", "d1", fy=2021)
    _index(store, "t1", "d2", fy=2022)
    hits = _search(store, "t1", "net income", 1, Scope(fiscal_years=[2021]))
    assert hits and {h.chunk.doc_id for h in hits} == {"d1"}
    hits = _search(store, "t1", "net income", 1, Scope(doc_ids=["d2"]))
    assert {h.chunk.doc_id for h in hits} == {"d2"}
    assert store.count("t1", "d1") == 8
    store.delete_document("t1", "d1")
    store.flush()
    assert store.count("t1", "d1") == 0
    assert store.count("t1", "d2") == 8


def test_page_chunks_returns_parents(store) -> None:
    _index(store, "t1", "d1")
    pages = store.page_chunks("t1", "d1", [2, 0])
    assert [p.page_start for p in pages] == [0, 2]
    assert all(p.kind == ChunkKind.PAGE for p in pages)
    assert store.page_chunks("t2", "d1", [0]) == []


def test_edge_store_persists_across_processes(tmp_path: Path) -> None:
    path = tmp_path / "persist"
    s = edge_store(path)
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


def test_dense_route_alone_returns_children(store) -> None:
    # Guards the children filter: a filter that matched nothing once silently disabled the dense route.
    _index(store, "t1", "d1")
    hits = store.hybrid_search("t1", _vec(1), None, Scope(), 5, 20)
    assert hits and hits[0].chunk.text == TEXTS[1]
    assert all(h.chunk.kind != ChunkKind.PAGE for h in hits)


def test_set_page_payload_labels_parent_and_children(store) -> None:
    """Sections set on an existing index (no re-embedding) reach both a page and its children."""
    _index(store, "t1", "d1")
    _index(store, "t2", "d1")
    store.set_page_payload("t1", "d1", {2: {"section_key": "risk_factors", "sections": ["risk_factors", "business"]}})
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
