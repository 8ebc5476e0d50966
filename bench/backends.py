"""Query latency of the vector stores on the same synthetic index: the embedded edge store vs QdrantServerStore
in qdrant-client's local mode (in memory, and on disk), and a real server when --qdrant-url is given.

    .venv/bin/python bench/backends.py [--docs 40] [--pages 25] [--queries 200] [--qdrant-url http://...]

Prints p50 / p95 per store and the ratio to the edge store. Local mode is qdrant-client's pure-Python
implementation (meant for tests), so its figures say nothing about a Qdrant server; the server row does.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import numpy as np

from finrag.index.qdrant_edge import QdrantEdgeStore
from finrag.index.qdrant_server import QdrantServerStore
from finrag.index.sparse import Bm25Encoder
from finrag.records import Chunk, ChunkKind, Scope

WORDS = (
    "revenue income cash capital expenditure dividends debt equity assets liabilities margin operating segment "
    "goodwill impairment inventory receivables payables tax lease pension currency interest rate guidance "
    "acquisition restructuring depreciation amortization share repurchase buyback backlog customers supply chain "
    "risk factors litigation compliance research development employees outlook quarter fiscal year"
).split()
DIM = 384


def synthetic(docs: int, pages: int, children_per_page: int, seed: int = 0):  # type: ignore[no-untyped-def]
    """Filing-like chunks: per page one parent (BM25 only) and a few children (dense + BM25)."""
    rng = np.random.default_rng(seed)
    chunks: list[Chunk] = []
    for d in range(docs):
        doc_id = f"doc{d:03d}"
        tenant = "t1" if d % 4 else "t2"
        meta = {"doc_name": doc_id, "company": f"Co{d % 7}", "doc_type": "10-K", "fiscal_year": 2020 + d % 4}
        for p in range(pages):
            kids = []
            for _ in range(children_per_page):
                text = " ".join(rng.choice(WORDS, size=60))
                kids.append(Chunk(str(uuid.uuid4()), doc_id, tenant, ChunkKind.PASSAGE, text, p, p, metadata=meta))
            parent = Chunk(
                str(uuid.uuid4()), doc_id, tenant, ChunkKind.PAGE, " ".join(k.text for k in kids), p, p, metadata=meta
            )
            for k in kids:
                k.parent_id = parent.id
            chunks += [*kids, parent]
    children = [c for c in chunks if c.kind != ChunkKind.PAGE]
    ordered = children + [c for c in chunks if c.kind == ChunkKind.PAGE]
    dense = rng.normal(size=(len(children), DIM)).astype(np.float32)
    dense /= np.linalg.norm(dense, axis=1, keepdims=True)
    return ordered, dense


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def measure(store, queries, scope: Scope, repeat_warmup: int = 5) -> list[float]:  # type: ignore[no-untyped-def]
    for dense, sparse in queries[:repeat_warmup]:
        store.hybrid_search("t1", dense, sparse, scope, 10, 100)
    times = []
    for dense, sparse in queries:
        t0 = time.perf_counter()
        store.hybrid_search("t1", dense, sparse, scope, 10, 100)
        times.append((time.perf_counter() - t0) * 1000)
    return times


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=40)
    ap.add_argument("--pages", type=int, default=25)
    ap.add_argument("--children", type=int, default=3, help="children per page")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--qdrant-url", default="", help="also measure a real Qdrant server")
    args = ap.parse_args(argv)

    bm25 = Bm25Encoder()
    chunks, dense = synthetic(args.docs, args.pages, args.children)
    sparse = [bm25.embed_document(c.text) for c in chunks]
    rng = np.random.default_rng(1)
    queries = []
    for _ in range(args.queries):
        q = rng.normal(size=DIM).astype(np.float32)
        queries.append((q / np.linalg.norm(q), bm25.embed_query(" ".join(rng.choice(WORDS, size=6)))))
    print(f"index: {len(chunks):,} points ({len(dense):,} with dense vectors), {args.queries} hybrid queries, top 10")

    tmp = Path(tempfile.mkdtemp(prefix="finrag-bench-"))
    factories: list[tuple[str, Callable[[], object]]] = [
        ("qdrant-edge (embedded)", lambda: QdrantEdgeStore(tmp / "edge", dim=DIM)),
        ("server store, local :memory:", lambda: QdrantServerStore(":memory:", dim=DIM)),
        ("server store, local path", lambda: QdrantServerStore(path=str(tmp / "local"), dim=DIM)),
    ]
    if args.qdrant_url:
        name = f"bench_{uuid.uuid4().hex[:8]}"
        factories.append(("server store, Qdrant server", lambda: QdrantServerStore(args.qdrant_url, name, DIM)))

    rows = []
    for label, make in factories:
        store = make()
        store.warm_up()  # type: ignore[attr-defined]
        t0 = time.perf_counter()
        store.upsert(chunks, dense, sparse)  # type: ignore[attr-defined]
        store.flush()  # type: ignore[attr-defined]
        load_s = time.perf_counter() - t0
        for scope_name, scope in (("tenant", Scope()), ("tenant+year", Scope(fiscal_years=[2022]))):
            times = measure(store, queries, scope)
            rows.append(
                (label, scope_name, load_s, percentile(times, 50), percentile(times, 95), statistics.mean(times))
            )
        if label.endswith("Qdrant server"):
            store.client.delete_collection(store.collection)  # type: ignore[attr-defined]
        store.close()  # type: ignore[attr-defined]

    shutil.rmtree(tmp, ignore_errors=True)
    base = {scope: (p50, p95) for label, scope, _, p50, p95, _ in rows if label.startswith("qdrant-edge")}
    header = (
        f"{'store':32} {'filter':12} {'load s':>7} {'p50 ms':>8} {'p95 ms':>8} {'mean ms':>8} {'p50 x':>6} {'p95 x':>6}"
    )
    print(header)
    print("-" * len(header))
    for label, scope, load_s, p50, p95, mean in rows:
        b50, b95 = base[scope]
        print(
            f"{label:32} {scope:12} {load_s:7.2f} {p50:8.2f} {p95:8.2f} {mean:8.2f} {p50 / b50:6.1f} {p95 / b95:6.1f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
