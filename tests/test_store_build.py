"""The embedded store's index build, on real qdrant-edge shards: the settings that choose it, the ingest
run that triggers it past `edge_index_min_points`, `finrag index optimize`, and that int8 quantisation
with the originals on disk keeps the search results and survives a reopen."""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import pytest
import qdrant_edge as q
from typer.testing import CliRunner

from finrag.index.qdrant_edge import SPARSE, QdrantEdgeStore, scope_filter
from finrag.index.sparse import Bm25Encoder
from finrag.records import Chunk, ChunkKind, Scope
from finrag.settings import SettingsError, load_settings
from tests.conftest import make_settings

CEDAR_8K = "CEDARRIDGEENERGY_2023_8K_dated-2023-11-14.pdf"
DIM = 384  # MiniLM's, so the ingest test's chunks and the preloaded ones share the store
WORDS = "revenue debt goodwill impairment dividends capital expenditures segment income taxes lease cash".split()


def _load(store: QdrantEdgeStore, n: int, seed: int = 0) -> np.ndarray:
    """n child chunks of one filing, BM25 of a few finance words each, vectors in groups of ten around
    random centres (as passages on one topic): a query near a centre has ten clear nearest neighbours,
    not the near-ties of plain random vectors that any approximate search may order differently."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((n // 10 + 1, DIM)).astype(np.float32)
    vectors = centres[np.arange(n) // 10] + 0.4 * rng.standard_normal((n, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    sparse = Bm25Encoder()
    chunks = [
        Chunk(
            id=str(uuid.UUID(int=seed * 10**9 + i)),
            doc_id=f"pre{seed}",
            tenant="t",
            kind=ChunkKind.PASSAGE,
            text=" ".join(rng.choice(WORDS, 6)) + f" note {i}",
            page_start=i // 10,
            page_end=i // 10,
            metadata={"doc_name": f"pre{seed}", "company": "Acme", "doc_type": "10-K", "fiscal_year": 2020 + i % 4},
        )
        for i in range(n)
    ]
    store.upsert(chunks, vectors, [sparse.embed_document(c.text) for c in chunks])
    store.flush()
    return vectors


def _results(store: QdrantEdgeStore, queries: np.ndarray) -> list[tuple[str, set[str]]]:
    """Dense searches over the tenant: the first hit and the set of the top ten."""
    out = []
    for query in queries:
        ids = [h.chunk.id for h in store.hybrid_search("t", query, None, Scope(), 10, 50)]
        out.append((ids[0], set(ids)))
    return out


def _queries(vectors: np.ndarray) -> np.ndarray:
    # Near the first member of 12 groups: its group is the answer, itself first.
    rng = np.random.default_rng(7)
    q = vectors[:120:10] + 0.05 * rng.standard_normal((12, DIM)).astype(np.float32)
    return q / np.linalg.norm(q, axis=1, keepdims=True)


def test_int8_build_keeps_results_and_survives_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "qdrant"
    store = QdrantEdgeStore(path, dim=DIM, quantization="int8", vectors_on_disk=True, indexing_threshold_kb=64)
    vectors = _load(store, 3000)
    queries = _queries(vectors)
    plain = _results(store, queries)
    assert store.info()["hnsw_segments"] == 0  # as ingest leaves it: a full scan
    assert store.optimize() is True
    info = store.info()
    assert info["points"] == 3000
    assert info["hnsw_segments"] >= 1 and info["int8_segments"] == info["hnsw_segments"]
    assert _results(store, queries) == plain  # int8 candidates rescored with the float originals
    store.close()
    reopened = QdrantEdgeStore(path, dim=DIM, quantization="int8", vectors_on_disk=True, indexing_threshold_kb=64)
    assert reopened.info()["hnsw_segments"] == info["hnsw_segments"]
    assert _results(reopened, queries) == plain
    reopened.close()


def _bm25(store: QdrantEdgeStore) -> tuple[list[float], set[str]]:
    """A BM25-only search over the tenant (the inverted index): the 50 best scores, and the ids scored
    above the 50th (the words repeat, so the last score's ties may be cut anywhere)."""
    terms = Bm25Encoder().embed_query("goodwill impairment dividends")
    query = q.Query.Nearest(q.SparseVector(indices=list(terms.indices), values=list(terms.values)), using=SPARSE)
    points = store.shard.query(q.QueryRequest(limit=50, query=query, filter=scope_filter("t", Scope())))
    scores = [round(p.score, 4) for p in points]
    return scores, {str(p.id) for p, score in zip(points, scores, strict=True) if score > scores[-1]}


def test_index_memory_maps_the_graph_and_bm25_index_of_built_segments(tmp_path: Path) -> None:
    path = tmp_path / "qdrant"
    options = {"dim": DIM, "quantization": "int8", "vectors_on_disk": True, "indexing_threshold_kb": 64}
    store = QdrantEdgeStore(path, **options)
    vectors = _load(store, 3000)
    queries = _queries(vectors)
    assert store.optimize() is True
    pinned = store.info()
    assert pinned["hnsw_segments"] >= 1
    assert (pinned["mapped_graph_segments"], pinned["mapped_bm25_segments"]) == (0, 0)  # on the heap
    dense, bm25 = _results(store, queries), _bm25(store)
    store.close()

    cold = QdrantEdgeStore(path, index_memory="cold", **options)
    assert cold.info()["mapped_graph_segments"] == 0  # opening alone re-places nothing: the next build does
    assert cold.optimize() is True
    info = cold.info()
    assert info["points"] == 3000 and info["hnsw_segments"] == pinned["hnsw_segments"]
    assert info["mapped_graph_segments"] == info["hnsw_segments"]
    assert info["mapped_bm25_segments"] == info["hnsw_segments"]
    assert (_results(cold, queries), _bm25(cold)) == (dense, bm25)
    cold.close()

    back = QdrantEdgeStore(path, **options)  # and back on the heap
    assert back.optimize() is True
    assert (back.info()["mapped_graph_segments"], back.info()["mapped_bm25_segments"]) == (0, 0)
    assert (_results(back, queries), _bm25(back)) == (dense, bm25)
    back.close()


def _built_files(path: Path) -> dict[str, tuple[int, str]]:
    """Every file of the shard's built segments (an HNSW graph): its inode and a digest of its bytes."""
    import hashlib

    from finrag.index.edge_build import built_segments

    return {
        str(f.relative_to(path)): (f.stat().st_ino, hashlib.sha256(f.read_bytes()).hexdigest())
        for segment in built_segments(path)
        for f in segment.rglob("*")
        if f.is_file()
    }


def test_builds_keep_segments_apart_at_the_bound_and_link_built_ones(tmp_path: Path) -> None:
    # Two loads of 3,000 points, built after each. With a bound of 4,000 points the second build indexes
    # the new points alone; under Qdrant's own bound (256 MB of vectors per CPU) it merges both into one
    # segment and rebuilds it whole.
    options = {"dim": DIM, "quantization": "int8", "vectors_on_disk": True, "indexing_threshold_kb": 64}
    bounded = QdrantEdgeStore(tmp_path / "bounded", segment_max_points=4000, **options)
    merged = QdrantEdgeStore(tmp_path / "merged", **options)
    queries = []
    for seed in (0, 1):
        for store in (bounded, merged):
            vectors = _load(store, 3000, seed=seed)
            assert store.optimize() is True
        queries.append(_queries(vectors))
        if seed == 0:
            first = _built_files(bounded.path)
    assert len(first) > 5  # one built segment: graph, vectors, int8 copies, payload, id tracker...
    info = bounded.info()
    assert (info["points"], info["hnsw_segments"]) == (6000, 2)
    assert (merged.info()["points"], merged.info()["hnsw_segments"]) == (6000, 1)
    # The first segment came through the second build with the same bytes, as the same files (inodes:
    # linked into the build's copy, not copied), so the build never wrote into what the serving shard
    # had open. Qdrant rewrites segment.json by a rename on load (a new inode, the same bytes).
    after = _built_files(bounded.path)
    assert {name: after[name][1] for name in first} == {name: digest for name, (_, digest) in first.items()}
    relinked = {name for name in first if after[name][0] != first[name][0]}
    assert {Path(name).name for name in relinked} <= {"segment.json"}
    both = np.concatenate(queries)
    assert _results(bounded, both) == _results(merged, both)
    bounded.close()
    merged.close()


def test_a_long_ingest_run_builds_as_it_goes(tmp_path: Path, sample_dir: Path, service_factory) -> None:  # type: ignore[no-untyped-def]
    svc = service_factory(tmp_path / "svc", edge_index_min_points=1, edge_segment_max_points=100)
    store = QdrantEdgeStore(svc.settings.vector_dir, dim=DIM, quantization="int8", vectors_on_disk=True,
                            indexing_threshold_kb=64, segment_max_points=100)  # fmt: skip
    svc.c.store = store  # the service's store, with Qdrant's segment threshold lowered to this size
    assert svc.pipeline.segment_points == 100  # the setting reaches the ingest pipeline
    report = svc.ingest(sorted(sample_dir.glob("*.pdf")), tenant="t")
    assert report.count("ingested") >= 3 and report.chunks > 300
    # A build each time the run passed a multiple of 100 points (a filing can pass more than one), and
    # one at the end for what came after the last.
    assert 2 <= report.index_builds <= report.count("ingested") + 1
    assert report.index_build_s is not None and report.index_build_s > 0
    info = store.info()
    assert info["points"] == report.chunks == report.index_points
    assert info["hnsw_segments"] >= 2  # kept apart: each build indexed only what came since the last
    again = svc.ingest(sorted(sample_dir.glob("*.pdf")), tenant="t")  # nothing written: no build
    assert again.index_builds == 0 and again.index_build_s is None


def test_settings_choose_the_store_options(tmp_path: Path) -> None:
    from finrag.service import build_components

    s = make_settings(tmp_path)
    assert (s.edge_quantization, s.edge_vectors_on_disk, s.edge_index_min_points) == ("int8", True, 100_000)
    assert (s.edge_index_memory, s.edge_segment_max_points) == ("cold", 1_000_000)
    assert build_components(s).store.segment_max_points == 1_000_000  # type: ignore[attr-defined]
    chosen = make_settings(
        tmp_path,
        edge_quantization="none",
        edge_vectors_on_disk=False,
        edge_index_memory="cached",
        edge_segment_max_points=0,
    )
    store = build_components(chosen).store
    assert isinstance(store, QdrantEdgeStore)
    assert (store.quantization, store.vectors_on_disk, store.index_memory) == ("none", False, "cached")
    assert store.segment_max_points is None  # 0: Qdrant's own bound


@pytest.mark.parametrize(
    ("env", "value"),
    [
        ("FINRAG_EDGE_QUANTIZATION", "fp16"),
        ("FINRAG_EDGE_INDEX_MIN_POINTS", "-1"),
        ("FINRAG_EDGE_INDEX_MEMORY", "swap"),
        ("FINRAG_EDGE_SEGMENT_MAX_POINTS", "-5"),
    ],
)
def test_bad_store_settings_name_the_variable(monkeypatch: pytest.MonkeyPatch, env: str, value: str) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(SettingsError, match=env):
        load_settings()


def test_ingest_builds_the_index_past_the_threshold(tmp_path: Path, sample_dir: Path, service_factory) -> None:  # type: ignore[no-untyped-def]
    def pipeline_on(name: str, min_points: int):  # type: ignore[no-untyped-def]
        svc = service_factory(tmp_path / name, edge_index_min_points=min_points)
        store = QdrantEdgeStore(svc.settings.vector_dir, dim=DIM, quantization="int8", vectors_on_disk=True,
                                indexing_threshold_kb=64)  # fmt: skip
        svc.c.store = store  # the service's store, with Qdrant's segment threshold lowered to this size
        assert svc.pipeline.index_min_points == min_points  # the setting reaches the ingest pipeline
        _load(store, 3000)
        return svc, store

    svc, store = pipeline_on("below", 10_000)
    report = svc.ingest([sample_dir / CEDAR_8K], tenant="t")
    assert report.count("ingested") == 1 and report.index_build_s is None
    assert store.info()["hnsw_segments"] == 0

    svc, store = pipeline_on("above", 3000)
    report = svc.ingest([sample_dir / CEDAR_8K], tenant="t")
    assert report.count("ingested") == 1
    assert report.index_build_s is not None and report.index_points == store.count() > 3000
    assert store.info()["hnsw_segments"] >= 1
    again = svc.ingest([sample_dir / CEDAR_8K], tenant="t")  # nothing written: no build
    assert again.count("skipped") == 1 and again.index_build_s is None


def test_cli_index_optimize(tmp_path: Path) -> None:
    from finrag.cli import app

    data = tmp_path / "data"
    store = QdrantEdgeStore(data / "qdrant", dim=DIM)
    _load(store, 500)
    store.close()
    result = CliRunner().invoke(app, ["index", "optimize", "--data-dir", str(data)])
    assert result.exit_code == 0, result.output
    assert "500 points" in result.output
    assert "index built" in result.output


def test_self_retrieval_bench_finds_stored_vectors(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    path = tmp_path / "qdrant"
    store = QdrantEdgeStore(
        path, dim=DIM, quantization="int8", vectors_on_disk=True, indexing_threshold_kb=64, index_memory="cold"
    )
    _load(store, 3000)
    assert store.optimize() is True and store.info()["mapped_graph_segments"] >= 1
    store.close()  # the bench takes the owner lock

    def run(*extra: str) -> dict:  # type: ignore[type-arg]
        script = Path(__file__).resolve().parents[1] / "bench" / "self_retrieval.py"
        proc = subprocess.run(
            [sys.executable, str(script), str(path), "--queries", "40", *extra], capture_output=True, text=True
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        return json.loads(proc.stdout.strip().splitlines()[-1])

    exact, hnsw = run("--exact"), run()
    # An exact search always finds the stored vector (or one as close): the count itself is right.
    assert (exact["search"], exact["found_first"]) == ("exact", 40)
    # HNSW's share depends on the graph, not on this code (30 of 40 on this small clustered set).
    assert hnsw["search"] == "hnsw" and 0 < hnsw["found_first"] <= 40
