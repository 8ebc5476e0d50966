"""The edge store's scale options: optimise (HNSW + quantised segments) and int8 quantisation with the
originals on disk still find the right chunk, and an existing shard keeps its options when opened
without any."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from finrag.index.qdrant_edge import QdrantEdgeStore
from finrag.index.sparse import Bm25Encoder
from finrag.records import Chunk, ChunkKind, Scope


def _chunks(n: int) -> list[Chunk]:
    return [
        Chunk(
            id=f"00000000-0000-4000-8000-{i:012x}",
            doc_id=f"doc{i % 7}",
            tenant="t",
            kind=ChunkKind.PASSAGE,
            text=f"passage {i} about segment revenue number {i * 37 % 1000}",
            page_start=i % 50,
            page_end=i % 50,
            metadata={"doc_type": "10-K", "fiscal_year": 2020 + i % 4},
        )
        for i in range(n)
    ]


@pytest.mark.parametrize("quantization", ["none", "int8"])
def test_optimised_store_finds_the_nearest_chunk(tmp_path: Path, quantization: str) -> None:
    chunks = _chunks(12_000)  # above the indexing threshold: the optimiser builds an indexed segment
    rng = np.random.default_rng(1)
    dense = rng.standard_normal((len(chunks), 384), dtype=np.float32)
    dense /= np.linalg.norm(dense, axis=1, keepdims=True)
    bm25 = Bm25Encoder()
    store = QdrantEdgeStore(tmp_path / "q", quantization=quantization, vectors_on_disk=quantization == "int8")
    store.upsert(chunks, dense, [bm25.embed_document(c.text) for c in chunks])
    store.flush()
    assert store.optimize() is True
    for i in (5, 4321, 11_999):
        hits = store.hybrid_search("t", dense[i], None, Scope(), limit=3, prefetch_limit=50)
        assert hits[0].chunk.id == chunks[i].id
        scoped = store.hybrid_search("t", dense[i], None, Scope(doc_ids=[f"doc{i % 7}"]), limit=3, prefetch_limit=50)
        assert scoped[0].chunk.id == chunks[i].id and all(h.chunk.doc_id == f"doc{i % 7}" for h in scoped)
    store.close()
    saved = json.loads((tmp_path / "q" / "edge_config.json").read_text())
    assert ("quantization_config" in json.dumps(saved["vectors"])) == (quantization == "int8")
    reopened = QdrantEdgeStore(tmp_path / "q")  # no options: the shard keeps its own
    assert reopened.count() == len(chunks)
    reopened.close()
    assert json.loads((tmp_path / "q" / "edge_config.json").read_text())["vectors"] == saved["vectors"]


def test_unknown_quantization_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="int8"):
        QdrantEdgeStore(tmp_path / "q", quantization="int4")
