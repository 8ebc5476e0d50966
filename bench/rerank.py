"""Cross-encoder reranking throughput: (question, page) pairs per second and per-request latency
percentiles, for any sentence-transformers CrossEncoder — in process, or through a running
`finrag rerank-server` (--url), which is how the API calls it.

    python bench/rerank.py --model BAAI/bge-reranker-v2-m3 --device cuda            # where the weights exist
    python bench/rerank.py --model /path/to/model --requests 20 --docs 60 --json out.json
    python bench/rerank.py --url http://gpu-box:8080 --requests 50                  # the service, over HTTP

Each request is one question with --docs page texts, as the retriever sends them (rerank_candidates
pages). Pages come from the sample filings (generated and parsed here) unless --pdf-dir is given;
questions are built from the pages' own headings, so every request has relevant and irrelevant pages.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def page_texts(pdf_dir: Path | None, limit: int = 400) -> list[str]:
    from finrag.ingest.parse import PdfiumParser
    from finrag.ingest.pipeline import discover

    if pdf_dir is None:
        from finrag.sample.generate import generate_samples

        pdf_dir = Path(tempfile.mkdtemp(prefix="finrag-rerank-bench-"))
        generate_samples(pdf_dir)
    texts: list[str] = []
    for path in discover([pdf_dir]):
        texts += [p.text for p in PdfiumParser().parse(path) if len(p.text) > 200]
        if len(texts) >= limit:
            break
    return texts[:limit]


def requests_from(texts: list[str], n: int, docs: int, seed: int = 0) -> list[tuple[str, list[str]]]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        page = rng.choice(texts)
        heading = next((ln.strip() for ln in page.split("\n") if 12 <= len(ln.strip()) <= 90), page[:60])
        out.append((heading, rng.sample(texts, min(docs, len(texts)))))
    return out


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="", help="CrossEncoder hub id or path (in process)")
    ap.add_argument("--url", default="", help="a running finrag rerank-server instead of --model")
    ap.add_argument("--device", default="auto", help="in process: auto, cpu, cuda")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--max-length", type=int, default=512)
    ap.add_argument("--requests", type=int, default=20)
    ap.add_argument("--docs", type=int, default=60, help="pages per request (FINRAG_RETRIEVAL_RERANK_CANDIDATES)")
    ap.add_argument("--max-chars", type=int, default=4000, help="page text sent per document (as RemoteReranker)")
    ap.add_argument("--pdf-dir", type=Path, default=None)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    if bool(args.model) == bool(args.url):
        ap.error("give exactly one of --model or --url")

    texts = [t[: args.max_chars] for t in page_texts(args.pdf_dir)]
    reqs = requests_from(texts, args.requests, args.docs)
    if args.url:
        import httpx

        client = httpx.Client(timeout=120)
        endpoint = args.url.rstrip("/") + "/rerank"
        health = client.get(args.url.rstrip("/") + "/healthz").json()
        model, device = str(health.get("model", "")), str(health.get("device", ""))

        def score(q: str, docs: list[str]) -> None:
            r = client.post(endpoint, json={"query": q, "documents": docs})
            r.raise_for_status()
    else:
        from finrag.rerank_server.app import CrossEncoderScorer

        scorer = CrossEncoderScorer(args.model, args.device, max_length=args.max_length, batch_size=args.batch_size)
        scorer.load()
        model, device = args.model, scorer.device

        def score(q: str, docs: list[str]) -> None:
            scorer.score(q, docs)

    score(*reqs[0])  # warm-up (kernels, caches), not counted
    latencies = []
    t0 = time.perf_counter()
    for q, docs in reqs:
        t = time.perf_counter()
        score(q, docs)
        latencies.append(time.perf_counter() - t)
    wall = time.perf_counter() - t0
    pairs = sum(len(d) for _, d in reqs)
    figures = {
        "model": model,
        "device": device,
        "via": "http" if args.url else "in-process",
        "requests": len(reqs),
        "docs_per_request": args.docs,
        "pairs": pairs,
        "pairs_per_s": round(pairs / wall, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p95_ms": round(percentile(latencies, 95) * 1000, 1),
        "max_ms": round(max(latencies) * 1000, 1),
        "batch_size": args.batch_size,
        "max_length": args.max_length,
    }
    print(json.dumps(figures, indent=1))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
