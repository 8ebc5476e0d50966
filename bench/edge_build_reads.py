"""Questions during an index build: search latency on the embedded store while `optimize()` runs.

    flock /work/heavy.lock python bench/edge_build_reads.py ~/.cache/finrag/fb-final4/qdrant /tmp/ebr
    ... --in-process     # the build as it was before: `EdgeShard.optimize()` in this process

It copies the shard folder given (never opens it: one owner per store) to WORK/qdrant, opens the copy
as the server does (int8, vectors on disk) with `indexing_threshold_kb` (default 1: every segment gets an
HNSW graph, so the build is a full one whatever the shard's size), and measures hybrid searches
(a random unit dense vector + BM25 of five finance words, the tenant of the shard's first point, no
scope, limit 10, prefetch 100) from one thread:

* before: `--seconds` of back-to-back searches on the unbuilt shard;
* during: `optimize()` in a second thread, searches in this one until it returns (back to back, or
  `--pause-ms` apart; none with `--no-reads`): how many finished, p50 / p95 / max, and how long the
  swap held the reads up (`swap_s`). Since qdrant-edge holds the GIL for the whole build, the
  in-process build lets none through; the default (child process on a copy) keeps them going;
* after: `--seconds` of searches on the built shard.

The copy is removed at the end. Figures are wall-clock on this machine; say "under load" when other
jobs run.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import statistics
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import qdrant_edge as q

from finrag.index.qdrant_edge import QdrantEdgeStore
from finrag.index.sparse import Bm25Encoder
from finrag.records import Scope

WORDS = "revenue debt goodwill impairment dividends capital expenditures segment income taxes lease cash".split()


def _summary(latencies: list[float]) -> dict[str, Any]:
    if not latencies:
        return {"searches": 0}
    ms = sorted(1000 * x for x in latencies)
    p95 = ms[min(len(ms) - 1, int(0.95 * len(ms)))]
    return {"searches": len(ms), "p50_ms": round(statistics.median(ms), 1), "p95_ms": round(p95, 1),
            "max_ms": round(ms[-1], 1)}  # fmt: skip


class _SwapTimes(logging.Handler):
    """The store logs how long its swap held the reads up."""

    def __init__(self, out: list[float]) -> None:
        super().__init__()
        self.out = out

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage() == "index build swapped in":
            self.out.append(float(record.__dict__["seconds"]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("shard", type=Path, help="a shard folder to copy (e.g. ~/.cache/finrag/fb-final4/qdrant)")
    ap.add_argument("work", type=Path, help="an empty or missing work folder")
    ap.add_argument("--threshold-kb", type=int, default=1)
    ap.add_argument("--seconds", type=float, default=10.0, help="of searches before and after the build")
    ap.add_argument("--in-process", action="store_true", help="build in this process (the old behaviour)")
    ap.add_argument("--pause-ms", type=float, default=0.0, help="between searches during the build (0: back to back)")
    ap.add_argument("--no-reads", action="store_true", help="no searches during the build: its time alone")
    args = ap.parse_args()

    args.work.mkdir(parents=True, exist_ok=True)
    path = args.work / "qdrant"
    if path.exists():
        raise SystemExit(f"{path} exists: give an empty work folder")
    t = time.perf_counter()
    shutil.copytree(args.shard.expanduser(), path)
    copy_s = time.perf_counter() - t
    store = QdrantEdgeStore(path, quantization="int8", vectors_on_disk=True, indexing_threshold_kb=args.threshold_kb)
    try:
        store.warm_up()
        records, _ = store.shard.scroll(q.ScrollRequest(limit=1, with_payload=True))
        tenant = str((records[0].payload or {})["tenant"])
        rng = np.random.default_rng(0)
        bm25 = Bm25Encoder()

        def search() -> float:
            dense = rng.standard_normal(store.dim).astype(np.float32)
            sparse = bm25.embed_query(" ".join(rng.choice(WORDS, 5)))
            t = time.perf_counter()
            store.hybrid_search(tenant, dense / np.linalg.norm(dense), sparse, Scope(), 10, 100)
            return time.perf_counter() - t

        def timed(seconds: float) -> list[float]:
            end = time.perf_counter() + seconds
            out = []
            while time.perf_counter() < end:
                out.append(search())
            return out

        row: dict[str, Any] = {"points": store.count(), "mode": "in-process" if args.in_process else "child process",
                               "copy_s": round(copy_s, 1), "before": _summary(timed(args.seconds))}  # fmt: skip
        done = threading.Event()
        result: dict[str, Any] = {}

        def build() -> None:
            t = time.perf_counter()
            if args.in_process:
                with store._lock:  # what optimize() did before: the build in this process, under the lock
                    result["changed"] = bool(store.shard.optimize())
            else:
                result["changed"] = store.optimize()
            result["build_s"] = round(time.perf_counter() - t, 1)
            done.set()

        swaps: list[float] = []
        catch = _SwapTimes(swaps)
        logging.getLogger("finrag.index.qdrant_edge").addHandler(catch)
        logging.getLogger("finrag.index.qdrant_edge").setLevel(logging.INFO)
        builder = threading.Thread(target=build)
        builder.start()
        during = []
        while not done.is_set():
            if args.no_reads:
                done.wait()
                break
            during.append(search())
            if args.pause_ms:
                time.sleep(args.pause_ms / 1000)
        builder.join()
        row.update(result)
        row["swap_s"] = round(swaps[0], 2) if swaps else None
        row["pause_ms"] = args.pause_ms
        row["during"] = _summary(during)
        row["after"] = _summary(timed(args.seconds))
        row["info"] = store.info()
        print(json.dumps(row))
    finally:
        store.close()
        shutil.rmtree(path, ignore_errors=True)


if __name__ == "__main__":
    main()
