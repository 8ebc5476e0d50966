"""Search quality of a built index that holds random vectors: does the dense search find a stored vector
again from a query near it?

    python bench/self_retrieval.py DATA_DIR/qdrant --queries 300
    python bench/self_retrieval.py DATA_DIR/qdrant --queries 30 --exact      # the check of the check

The scale corpus (`bench/scale.py`) stores random normal vectors, so a "nearest neighbour" among them
means little: in 384 dimensions every other point is about as far. A stored vector plus noise (0.5 of its
norm; cosine ~0.89 to it, against ~0.25 for the best of a million random others) has one clear answer.
It is searched as the product searches children (tenant filter, children only, int8 candidates rescored
with the float originals) and counts as found when the first hit scores as high as the stored vector
does (duplicate texts share a vector, so ids are not compared). Compare copies of one index (e.g. its
graph and BM25 index on the heap or memory-mapped: `FINRAG_EDGE_INDEX_MEMORY`); `--exact` must find all.

It opens the shard as the store does, owner lock first: a folder a server is using is refused.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import qdrant_edge as q

from finrag.index.qdrant_edge import CHILDREN, DENSE, QdrantEdgeStore


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("shard", type=Path, help="a shard folder (DATA_DIR/qdrant)")
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--noise", type=float, default=0.5, help="norm of the noise added to each stored vector")
    ap.add_argument("--exact", action="store_true", help="exact search instead of HNSW")
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args()

    # Default options are untuned: the shard opens with its own config, whatever it was built with.
    store = QdrantEdgeStore(args.shard.expanduser())
    try:
        shard = store.shard
        records, _ = shard.scroll(q.ScrollRequest(limit=1, with_payload=True))
        tenant = str((records[0].payload or {})["tenant"])
        flt = q.Filter(must=[q.FieldCondition(key="tenant", match=q.MatchValue(tenant)), CHILDREN])
        rng = np.random.default_rng(args.seed)
        pool, _ = shard.scroll(q.ScrollRequest(limit=max(20_000, args.queries), filter=flt, with_vector=True))
        params = q.SearchParams(exact=args.exact)
        found, ms = 0, []
        for i in rng.choice(len(pool), args.queries, replace=False):
            stored = np.asarray(pool[i].vector[DENSE], dtype=np.float32)
            stored /= np.linalg.norm(stored)
            noise = rng.standard_normal(stored.size).astype(np.float32)
            query = stored + args.noise * noise / np.linalg.norm(noise)
            query /= np.linalg.norm(query)
            t = time.perf_counter()
            hits = shard.query(
                q.QueryRequest(limit=10, query=q.Query.Nearest(query.tolist(), using=DENSE), filter=flt, params=params)
            )
            ms.append((time.perf_counter() - t) * 1000)
            found += bool(hits) and hits[0].score >= float(query @ stored) - 1e-3
    finally:
        store.close()
    print(json.dumps({
        "shard": str(args.shard), "search": "exact" if args.exact else "hnsw", "queries": args.queries,
        "found_first": found, "search_p50_ms": round(float(np.percentile(ms, 50)), 1),
        "search_p95_ms": round(float(np.percentile(ms, 95)), 1),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
