"""QdrantServerStore: the shared VectorStore suite against a real Qdrant server (FINRAG_TEST_QDRANT_URL), and
local-mode checks that it behaves like the edge store (same payloads, same routes, same fusion)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from finrag.index.qdrant_edge import QdrantEdgeStore
from finrag.index.qdrant_server import UPSERT_BATCH, QdrantServerStore
from finrag.index.sparse import Bm25Encoder
from finrag.records import Chunk, ChunkKind, Scope
from tests import test_store as suite
from tests.test_store import DIM, TEXTS, _index, _vec

QDRANT_URL = os.environ.get("FINRAG_TEST_QDRANT_URL", "")


@pytest.fixture()
def store() -> Iterator[QdrantServerStore]:
    """A fresh collection on the server named by FINRAG_TEST_QDRANT_URL, dropped afterwards."""
    if not QDRANT_URL:
        pytest.skip("set FINRAG_TEST_QDRANT_URL=http://host:6333 to run the suite against a real Qdrant server")
    s = QdrantServerStore(QDRANT_URL, collection=f"finrag_test_{uuid.uuid4().hex[:10]}", dim=DIM)
    s.warm_up()
    yield s
    s.client.delete_collection(s.collection)
    s.close()


# The shared suite against the real server (the edge store and local mode run it in test_store.py).
@pytest.mark.integration
def test_server_hybrid_finds_by_meaning_and_words(store: QdrantServerStore) -> None:
    suite.test_hybrid_finds_by_meaning_and_words(store)


@pytest.mark.integration
def test_server_tenant_filter_inside_the_query(store: QdrantServerStore) -> None:
    suite.test_tenant_filter_inside_the_query(store)


@pytest.mark.integration
def test_server_scope_filters_and_delete(store: QdrantServerStore) -> None:
    suite.test_scope_filters_and_delete(store)


@pytest.mark.integration
def test_server_page_chunks_returns_parents(store: QdrantServerStore) -> None:
    suite.test_page_chunks_returns_parents(store)


@pytest.mark.integration
def test_server_collection_has_indexes_and_settings() -> None:
    if not QDRANT_URL:
        pytest.skip("set FINRAG_TEST_QDRANT_URL=http://host:6333 to run against a real Qdrant server")
    s = QdrantServerStore(QDRANT_URL, collection=f"finrag_test_{uuid.uuid4().hex[:10]}", dim=DIM, on_disk=True)
    try:
        s.warm_up()
        info = s.client.get_collection(s.collection)
        assert {"tenant", "doc_id", "kind", "fiscal_year", "page_start", "is_child"} <= set(info.payload_schema)
        assert info.config.params.vectors["dense"].on_disk is True
        assert info.config.params.sparse_vectors["bm25"].modifier.value == "idf"
        QdrantServerStore(QDRANT_URL, collection=s.collection, dim=DIM).warm_up()  # a second replica reuses it
    finally:
        s.client.delete_collection(s.collection)
        s.close()


# local mode ---------------------------------------------------------------------------------------------------
@pytest.fixture()
def local() -> Iterator[QdrantServerStore]:
    s = QdrantServerStore(location=":memory:", dim=DIM)
    s.warm_up()
    yield s
    s.close()


def test_local_collection_layout(local: QdrantServerStore) -> None:
    cfg = local.client.get_collection("finrag").config.params
    assert cfg.vectors["dense"].size == DIM and cfg.vectors["dense"].distance.value == "Cosine"
    assert cfg.sparse_vectors["bm25"].modifier.value == "idf"
    local.warm_up()  # idempotent


def test_constructor_forms(tmp_path: Path) -> None:
    assert QdrantServerStore(":memory:").local
    assert QdrantServerStore(path=str(tmp_path / "q")).local
    assert not QdrantServerStore("http://qdrant:6333").local
    with pytest.raises(ValueError):
        QdrantServerStore()


def test_local_path_persists_across_reopen(tmp_path: Path) -> None:
    s = QdrantServerStore(path=str(tmp_path / "q"), dim=DIM)
    _index(s, "t1", "d1")
    s.close()
    again = QdrantServerStore(path=str(tmp_path / "q"), dim=DIM)
    assert again.count("t1") == 8
    again.close()


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


def _distinct_chunks(tenant: str, doc_id: str, fy: int, rng: np.random.Generator):  # type: ignore[no-untyped-def]
    """No two points tie on either route, so both stores must produce the very same order."""
    meta = {"doc_name": doc_id, "company": "Acme", "doc_type": "10-K", "fiscal_year": fy}
    chunks, dense = [], []
    for page, text in enumerate(FILING_LINES):
        parent = Chunk(str(uuid.uuid4()), doc_id, tenant, ChunkKind.PAGE, f"{text} (page {page + 1} of {doc_id})",
                       page, page, metadata=meta)  # fmt: skip
        child = Chunk(str(uuid.uuid4()), doc_id, tenant, ChunkKind.PASSAGE, f"{text} {doc_id}", page, page,
                      parent.id, metadata=meta)  # fmt: skip
        chunks += [child, parent]
        v = rng.normal(size=DIM).astype(np.float32)
        dense.append(v / np.linalg.norm(v))
    children = [c for c in chunks if c.kind != ChunkKind.PAGE]
    ordered = children + [c for c in chunks if c.kind == ChunkKind.PAGE]
    return ordered, np.stack(dense)


def _score_groups(hits) -> list[tuple[float, frozenset[str]]]:  # type: ignore[no-untyped-def]
    """RRF gives equal scores to e.g. rank 3 of dense and rank 3 of sparse; their order is arbitrary."""
    groups: dict[float, set[str]] = {}
    for h in hits:
        groups.setdefault(round(h.score, 6), set())  # edge scores are float32.add(h.chunk.id)
    return [(score, frozenset(ids)) for score, ids in sorted(groups.items(), reverse=True)]


def test_same_answers_as_the_edge_store(local: QdrantServerStore, tmp_path: Path) -> None:
    """Same data in both stores: hybrid (RRF), each route, parents and counts agree exactly."""
    edge = QdrantEdgeStore(tmp_path / "edge", dim=DIM)
    bm25 = Bm25Encoder()
    rng = np.random.default_rng(7)
    for tenant, doc_id, fy in (("t1", "alpha", 2021), ("t1", "beta", 2022), ("t2", "gamma", 2022)):
        ordered, dense = _distinct_chunks(tenant, doc_id, fy, rng)
        sparse = [bm25.embed_document(c.text) for c in ordered]
        for s in (edge, local):
            s.upsert(ordered, dense, sparse)
    edge.flush()
    queries = ["purchases of property plant", "net income", "dividends paid", "currency risk", "revenue growth"]
    for text in queries:
        q_dense = rng.normal(size=DIM).astype(np.float32)
        args = ("t1", q_dense / np.linalg.norm(q_dense), bm25.embed_query(text))
        for scope in (Scope(), Scope(fiscal_years=[2022]), Scope(doc_ids=["alpha"])):
            # limit above the candidates of both prefetches: no truncation inside a group of equal scores.
            e = edge.hybrid_search(*args, scope, 100, 20)
            q = local.hybrid_search(*args, scope, 100, 20)
            assert _score_groups(q) == _score_groups(e), (text, scope)
            assert {h.chunk.id: h.chunk for h in q} == {h.chunk.id: h.chunk for h in e}
    assert local.count() == edge.count() == 48
    assert local.count("t2") == 16
    assert local.page_chunks("t1", "beta", [1, 3]) == edge.page_chunks("t1", "beta", [1, 3])
    edge.close()


def test_upsert_in_batches_and_sparse_only_points(local: QdrantServerStore) -> None:
    bm25 = Bm25Encoder()
    n = UPSERT_BATCH * 2 + 7
    chunks = [
        Chunk(str(uuid.uuid4()), "big", "t1", ChunkKind.PAGE, f"page {i} {TEXTS[i % 4]}", i, i, metadata={})
        for i in range(n)
    ]
    local.upsert(chunks, None, [bm25.embed_document(c.text) for c in chunks])  # pages: no dense vector
    assert local.count("t1", "big") == n
    hits = local.hybrid_search("t1", None, bm25.embed_query("dividends"), Scope(), 5, 50)
    assert hits and all("dividends" in h.chunk.text.lower() for h in hits)
    assert local.hybrid_search("t1", None, None, Scope(), 5, 50) == []


def test_build_components_uses_the_server_store_end_to_end(tmp_path: Path, sample_dir: Path) -> None:
    """FINRAG_QDRANT_URL set -> QdrantServerStore; a real ingest + question through it (local mode)."""
    from finrag.service import QAService, build_components
    from tests.conftest import make_settings
    from tests.servers import HashEmbedder

    settings = make_settings(tmp_path / "data", qdrant_url=":memory:")
    components = build_components(settings)
    assert isinstance(components.store, QdrantServerStore)
    components.embedder = HashEmbedder()
    svc = QAService(settings, components)
    report = svc.ingest([sample_dir])
    assert not report.failed and report.count("ingested") == len(list(sample_dir.glob("*.pdf")))
    answer = svc.ask("What was Northwind Robotics' capital expenditure in fiscal 2023?")
    assert answer.citations
    assert svc.c.store.count(settings.tenant) == report.chunks
    svc.close()


def test_vectors_are_float32_lists(local: QdrantServerStore) -> None:
    """float64 inputs (numpy defaults) are accepted and stored like float32 ones."""
    bm25 = Bm25Encoder()
    c = Chunk(str(uuid.uuid4()), "d", "t1", ChunkKind.PASSAGE, TEXTS[0], 0, 0, metadata={})
    local.upsert([c], np.asarray([_vec(0)], dtype=np.float64), [bm25.embed_document(c.text)])
    hits = local.hybrid_search("t1", _vec(0).astype(np.float64), None, Scope(), 1, 5)
    assert hits[0].chunk.id == c.id


def test_cluster_settings_reach_the_server_store(tmp_path: Path) -> None:
    """FINRAG_QDRANT_* settings (collection, API key, shards, replicas) and the embedder's vector size
    are what the server store creates its collection with."""
    from finrag.index.qdrant_edge import QdrantEdgeStore
    from finrag.service import build_components
    from tests.conftest import make_settings

    settings = make_settings(
        tmp_path / "data",
        qdrant_url=":memory:",
        qdrant_collection="filings_eu",
        qdrant_api_key="secret",
        qdrant_shard_number=6,
        qdrant_replication_factor=2,
        qdrant_write_consistency_factor=2,
        qdrant_on_disk=True,
    )
    store = build_components(settings).store
    assert isinstance(store, QdrantServerStore)
    assert (store.collection, store.api_key, store.dim) == ("filings_eu", "secret", 384)
    assert (store.shard_number, store.replication_factor, store.write_consistency_factor) == (6, 2, 2)
    assert store.on_disk is True
    # A remote embedder with another vector size: both stores are created for its size, not MiniLM's.
    remote = {"embedder": "openai", "embedding_model": "text-embedding-3-large", "embedding_dim": 1536}
    remote["embedding_base_url"] = "http://127.0.0.1:9/v1"
    assert build_components(make_settings(tmp_path / "r1", qdrant_url=":memory:", **remote)).store.dim == 1536
    edge = build_components(make_settings(tmp_path / "r2", **remote)).store
    assert isinstance(edge, QdrantEdgeStore) and edge.dim == 1536
