"""How cost grows with the corpus: one command, a table and a PNG plot.

    python bench/scale.py --sizes 10000,100000                 # pages; the full curve
    python bench/scale.py --sizes 2000 --real-embed            # the smallest size with the real MiniLM
    python bench/scale.py --store-points 1000000               # + the vector store alone at 1M chunks
    python bench/scale.py --sizes 300 --questions 10 --out /tmp/s   # a smoke run (the test does this)

For each size (pages) it generates a scale corpus (`finrag.sample.scale`: page text, 10-K / 10-Q
structure, many companies and years), then runs each phase in its own process so that peak RSS is that
phase's alone:

* ingest: the real ingest path after PDF extraction: page text -> tables (`find_tables`) -> cover-page
  describer -> chunker -> BM25 sparse vectors -> Qdrant edge upsert + flush -> SQL registry, through
  `IngestPipeline`'s own indexing step. Dense vectors are RANDOM NORMAL vectors (labelled
  "random vectors") unless --real-embed: real MiniLM runs ~30 pages/s on this 2-core machine, so it
  would only measure the model. Pages/s, per-stage seconds, index build (segment optimisation) time,
  disk per page, peak RSS;
* serve: a fresh process opens the index as the server does (real MiniLM for the question, default
  retrieval levers) and answers questions about the corpus' companies and years: retrieval p50 / p95,
  scope-resolution p50 / p95 (the registry grows with filings), peak RSS;
* re-ingest: the same files again, all unchanged (hash + registry lookup each): seconds;
* delete: a few filings deleted (store + registry): seconds per filing.

--store-points N loads N chunks (random vectors, real BM25 of generated chunk text, the same payload
fields) into a bare QdrantEdgeStore and measures the search alone, for sizes where the whole ingest
would not fit the time on this machine.

Every figure printed is measured in this run; nothing is extrapolated.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
TENANT = "default"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class RandomVectors:
    """Embedder role for benchmarks only: random normal unit vectors instead of MiniLM, so that ingest
    figures at 100k pages measure everything but the model. Every figure made with it says so."""

    name = "random-normal (benchmark)"

    def __init__(self, dim: int = 384, seed: int = 0) -> None:
        self.dim = dim
        self.rng = np.random.default_rng(seed)

    def warm_up(self) -> None:
        return None

    def embed_documents(self, texts: list[str]) -> np.ndarray:
        v = self.rng.standard_normal((len(texts), self.dim), dtype=np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]


# ---------------------------------------------------------------------------------------------------------
# Phases (each runs in its own process: `python bench/scale.py --phase NAME ...`)
# ---------------------------------------------------------------------------------------------------------


def _service(data_dir: Path) -> Any:
    from finrag.service import QAService
    from finrag.settings import Settings

    return QAService(Settings(data_dir=data_dir))


def read_filing(path: Path) -> list[Any]:
    """What the PDF parser would return for a generated filing: pages with their tables."""
    from finrag.ingest.parse import find_tables
    from finrag.records import Page

    return [Page(i, t, find_tables(t)) for i, t in enumerate(path.read_text(encoding="utf-8").split("\f"))]


def phase_ingest(corpus: Path, data_dir: Path, real_embed: bool) -> dict[str, Any]:
    from finrag.ingest.chunk import FilingChunker
    from finrag.ingest.describe import CoverPageDescriber
    from finrag.ingest.pipeline import IngestPipeline, IngestReport, ParsedFiling, file_hash

    service = _service(data_dir)
    service.check_index()  # records the real model in the manifest: the serve phase embeds questions with it
    c = service.c
    embedder = c.embedder if real_embed else RandomVectors(c.embedder.dim)
    embedder.warm_up()
    s = service.settings
    pipeline = IngestPipeline(c.registry, c.store, embedder, c.sparse, child_max_tokens=s.child_max_tokens)
    chunker = FilingChunker(max_tokens=s.child_max_tokens, with_prefix=s.metadata_prefix)
    describer = CoverPageDescriber()
    files = sorted(corpus.glob("*.txt"))
    report = IngestReport()
    t0 = time.perf_counter()
    for path in files:
        digest = file_hash(path)
        t = time.perf_counter()
        pages = read_filing(path)
        filing = describer.describe(pages[:5], path.name)
        t1 = time.perf_counter()
        chunks = chunker.chunk(digest[:16], TENANT, path.stem, filing, pages)
        parsed = ParsedFiling(str(path), filing, len(pages), chunks, t1 - t, time.perf_counter() - t1)
        event = pipeline._index(path, TENANT, digest[:16], digest, parsed, report)
        assert event.status == "ingested", event
    ingest_s = time.perf_counter() - t0
    t = time.perf_counter()
    optimized = c.store.optimize() if hasattr(c.store, "optimize") else None
    build_s = time.perf_counter() - t
    points = c.store.count()
    service.close()
    return {
        "pages": report.pages,
        "filings": len(files),
        "chunks": report.chunks,
        "points": points,
        "ingest_s": ingest_s,
        "pages_per_s": report.pages / ingest_s,
        "stages_s": {k: round(v, 2) for k, v in report.seconds.items()},
        "index_build_s": build_s,
        "optimized": optimized,
        "disk_bytes": dir_bytes(data_dir),
        "disk_per_page_kb": dir_bytes(data_dir) / report.pages / 1024,
        "rss_mb": peak_rss_mb(),
        "vectors": "MiniLM" if real_embed else "random vectors",
    }


def questions_for(corpus: Path, n: int, seed: int = 0) -> list[str]:
    """Questions in our own words about the corpus' companies, years and quarters; one in five names no
    company (the search then runs over every filing)."""
    docs = [json.loads(line) for line in (corpus / "documents.jsonl").read_text().splitlines()]
    rng = random.Random(seed)
    templates = (
        "What was {company}'s total revenue in fiscal {year}?",
        "How much did {short} spend on capital expenditures in {year}?",
        "What was the net income of {ticker} for the quarter ended in Q{q} {year}?",
        "What was {short}'s long-term debt at the end of fiscal {year}?",
        "Which risk factors about suppliers did {company} describe in its {year} annual report?",
        "Which companies recorded a goodwill impairment in fiscal {year}?",
    )
    out = []
    for i in range(n):
        d = rng.choice(docs)
        short = d["company"].split(",")[0]
        for legal in (" Corporation", " Company", " Holdings", " Group"):
            short = short.removesuffix(legal)
        out.append(
            templates[i % len(templates)].format(
                company=d["company"], short=short, ticker=d["ticker"], year=d["doc_period"], q=d["quarter"] or 3
            )
        )
    return out


def phase_serve(corpus: Path, data_dir: Path, n_questions: int) -> dict[str, Any]:
    service = _service(data_dir)
    t = time.perf_counter()
    service.c.embedder.warm_up()
    service.c.store.warm_up()
    open_s = time.perf_counter() - t
    questions = questions_for(corpus, n_questions)
    service.retrieve(questions[0])  # first question: lazy parts built
    total, scope, search, resolve = [], [], [], []
    for q in questions:
        t = time.perf_counter()
        result = service.retrieve(q)
        total.append((time.perf_counter() - t) * 1000)
        scope.append(result.timings_ms.get("scope", 0.0))
        search.append(result.timings_ms.get("search", 0.0))
        t = time.perf_counter()
        service.retriever.resolver(TENANT).resolve(q)
        resolve.append((time.perf_counter() - t) * 1000)
    service.close()
    return {
        "questions": len(questions),
        "open_s": open_s,
        "retrieve_p50_ms": pct(total, 0.5),
        "retrieve_p95_ms": pct(total, 0.95),
        "search_p50_ms": pct(search, 0.5),
        "search_p95_ms": pct(search, 0.95),
        "scope_p50_ms": pct(scope, 0.5),
        "scope_p95_ms": pct(scope, 0.95),
        "resolve_p50_ms": pct(resolve, 0.5),
        "rss_mb": peak_rss_mb(),
    }


def phase_reingest(corpus: Path, data_dir: Path) -> dict[str, Any]:
    service = _service(data_dir)
    files = sorted(corpus.glob("*.txt"))
    t = time.perf_counter()
    report = service.pipeline.run(files, TENANT)
    took = time.perf_counter() - t
    skipped = report.count("skipped")
    service.close()
    assert skipped == len(files), f"{skipped} of {len(files)} skipped"
    return {"reingest_s": took, "files": len(files), "rss_mb": peak_rss_mb()}


def phase_delete(data_dir: Path, n: int) -> dict[str, Any]:
    service = _service(data_dir)
    docs = service.documents(TENANT)[:n]
    t = time.perf_counter()
    for d in docs:
        assert service.pipeline.delete(TENANT, d.doc_id)
    took = time.perf_counter() - t
    service.close()
    return {"deleted": len(docs), "delete_s_per_filing": took / max(1, len(docs))}


def phase_store(points: int, work: Path, n_queries: int) -> dict[str, Any]:
    """N chunks straight into a QdrantEdgeStore (random vectors, real BM25 of generated chunk text)."""
    from finrag.index.qdrant_edge import QdrantEdgeStore
    from finrag.index.sparse import Bm25Encoder
    from finrag.records import Chunk, ChunkKind, Scope
    from finrag.sample.scale import scale_corpus

    store = QdrantEdgeStore(work / "qdrant")
    sparse = Bm25Encoder()
    vectors = RandomVectors()
    rng = random.Random(0)
    docs: list[tuple[str, str, int]] = []
    t0 = time.perf_counter()
    n = 0
    batch: list[Chunk] = []

    def flush_batch() -> None:
        store.upsert(batch, vectors.embed_documents([c.text for c in batch]), [sparse.embed_document(c.text) for c in batch])
        batch.clear()

    for f in scale_corpus(10**9, seed=11):
        doc_id = f"{f.doc_name}"
        docs.append((doc_id, f.form, f.fiscal_year))
        for page_no, page in enumerate(f.pages):
            paras = [p for p in page.split("\n\n") if len(p) > 80]
            for j, text in enumerate(paras[:5]):
                batch.append(
                    Chunk(
                        id=f"{n:032x}"[:8] + "-0000-4000-8000-" + f"{n:012x}",
                        doc_id=doc_id,
                        tenant=TENANT,
                        kind=ChunkKind.TABLE if j == 0 and "$" in text else ChunkKind.PASSAGE,
                        text=text,
                        page_start=page_no,
                        page_end=page_no,
                        metadata={"doc_name": doc_id, "company": f.company, "doc_type": f.form,
                                  "fiscal_year": f.fiscal_year, "section_key": "item_7"},  # fmt: skip
                    )
                )
                n += 1
                if len(batch) >= 2048:
                    flush_batch()
            if n >= points:
                break
        if n >= points:
            break
    if batch:
        flush_batch()
    store.flush()
    load_s = time.perf_counter() - t0
    t = time.perf_counter()
    optimized = store.optimize()
    build_s = time.perf_counter() - t
    latencies: dict[str, list[float]] = {"all": [], "scoped": []}
    for i in range(n_queries):
        doc_id, form, year = rng.choice(docs)
        q = f"capital expenditures revenue {['risk', 'debt', 'tax', 'segment'][i % 4]} fiscal {year}"
        dense = vectors.embed_query(q)
        for label, scope in (("all", Scope()), ("scoped", Scope(doc_ids=[doc_id], fiscal_years=[year]))):
            t = time.perf_counter()
            store.hybrid_search(TENANT, dense, sparse.embed_query(q), scope, limit=40, prefetch_limit=200)
            latencies[label].append((time.perf_counter() - t) * 1000)
    count = store.count()
    store.close()
    return {
        "points": count,
        "load_s": load_s,
        "index_build_s": build_s,
        "optimized": optimized,
        "disk_bytes": dir_bytes(work / "qdrant"),
        **{f"search_{k}_p50_ms": pct(v, 0.5) for k, v in latencies.items()},
        **{f"search_{k}_p95_ms": pct(v, 0.95) for k, v in latencies.items()},
        "rss_mb": peak_rss_mb(),
    }


# ---------------------------------------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------------------------------------


def run_phase(*args: str) -> dict[str, Any]:
    """One phase in a fresh interpreter; its last stdout line is its JSON result."""
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    proc = subprocess.run([sys.executable, __file__, "--phase", *args], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"phase {args[0]} failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure_size(pages: int, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    from finrag.sample.generate import generate_scale

    corpus, data = work / f"corpus-{pages}", work / f"data-{pages}"
    shutil.rmtree(data, ignore_errors=True)
    t = time.perf_counter()
    if not (corpus / "documents.jsonl").exists():
        generate_scale(corpus, pages, seed=args.seed)
    gen_s = time.perf_counter() - t
    row: dict[str, Any] = {"size_pages": pages, "generate_s": gen_s}
    row["ingest"] = run_phase("ingest", str(corpus), str(data), "1" if args.real_embed else "0")
    row["serve"] = run_phase("serve", str(corpus), str(data), str(args.questions))
    row["reingest"] = run_phase("reingest", str(corpus), str(data))
    row["delete"] = run_phase("delete", str(data), str(args.deletes))
    if not args.keep:
        shutil.rmtree(data, ignore_errors=True)
    return row


def print_table(rows: list[dict[str, Any]], store_rows: list[dict[str, Any]]) -> None:
    head = ("pages", "filings", "chunks", "ingest p/s", "vectors", "build s", "disk KB/p", "RSS ingest",
            "RSS serve", "ret p50", "ret p95", "scope p50", "scope p95", "re-ingest s", "delete s")  # fmt: skip
    print(" | ".join(head))
    for r in rows:
        i, s = r["ingest"], r["serve"]
        print(
            " | ".join(
                str(x)
                for x in (
                    i["pages"], i["filings"], i["chunks"], f"{i['pages_per_s']:.0f}", i["vectors"],
                    f"{i['index_build_s']:.1f}", f"{i['disk_per_page_kb']:.1f}", f"{i['rss_mb']:.0f} MB",
                    f"{s['rss_mb']:.0f} MB", f"{s['retrieve_p50_ms']:.0f} ms", f"{s['retrieve_p95_ms']:.0f} ms",
                    f"{s['scope_p50_ms']:.1f} ms", f"{s['scope_p95_ms']:.1f} ms",
                    f"{r['reingest']['reingest_s']:.1f}", f"{r['delete']['delete_s_per_filing']:.2f}",
                )
            )
        )  # fmt: skip
    for r in store_rows:
        print(
            f"vector store alone: {r['points']:,} chunks (random vectors + real BM25): load {r['load_s']:.0f} s, "
            f"build {r['index_build_s']:.0f} s, disk {r['disk_bytes'] / 2**20:.0f} MiB, search all p50/p95 "
            f"{r['search_all_p50_ms']:.0f}/{r['search_all_p95_ms']:.0f} ms, scoped "
            f"{r['search_scoped_p50_ms']:.0f}/{r['search_scoped_p95_ms']:.0f} ms, RSS {r['rss_mb']:.0f} MB"
        )


def plot(rows: list[dict[str, Any]], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed (pip install -e '.[bench]'): no plot", file=sys.stderr)
        return False
    x = [r["ingest"]["pages"] for r in rows]
    fig, axes = plt.subplots(2, 2, figsize=(11, 8))
    series = (
        (axes[0][0], "ingest pages/s (random vectors)", [r["ingest"]["pages_per_s"] for r in rows]),
        (axes[0][1], "retrieval ms (p50, p95)", None),
        (axes[1][0], "peak RSS MB (ingest, serve)", None),
        (axes[1][1], "seconds (re-ingest unchanged, index build)", None),
    )
    axes[0][0].plot(x, series[0][2], "o-")
    axes[0][1].plot(x, [r["serve"]["retrieve_p50_ms"] for r in rows], "o-", label="p50")
    axes[0][1].plot(x, [r["serve"]["retrieve_p95_ms"] for r in rows], "s-", label="p95")
    axes[0][1].plot(x, [r["serve"]["scope_p95_ms"] for r in rows], "^-", label="scope p95")
    axes[1][0].plot(x, [r["ingest"]["rss_mb"] for r in rows], "o-", label="ingest")
    axes[1][0].plot(x, [r["serve"]["rss_mb"] for r in rows], "s-", label="serve")
    axes[1][1].plot(x, [r["reingest"]["reingest_s"] for r in rows], "o-", label="re-ingest unchanged")
    axes[1][1].plot(x, [r["ingest"]["index_build_s"] for r in rows], "s-", label="index build")
    for ax, title, _ in series:
        ax.set_title(title)
        ax.set_xscale("log")
        ax.set_xlabel("pages")
        if ax.get_legend_handles_labels()[0]:
            ax.legend()
    fig.suptitle("finrag scale curve (2-core VM; dense vectors random unless labelled)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    return True


def main() -> int:
    if len(sys.argv) > 2 and sys.argv[1] == "--phase":
        name, rest = sys.argv[2], sys.argv[3:]
        if name == "ingest":
            result = phase_ingest(Path(rest[0]), Path(rest[1]), rest[2] == "1")
        elif name == "serve":
            result = phase_serve(Path(rest[0]), Path(rest[1]), int(rest[2]))
        elif name == "reingest":
            result = phase_reingest(Path(rest[0]), Path(rest[1]))
        elif name == "delete":
            result = phase_delete(Path(rest[0]), int(rest[1]))
        elif name == "store":
            result = phase_store(int(rest[0]), Path(rest[1]), int(rest[2]))
        else:
            raise SystemExit(f"unknown phase {name}")
        print(json.dumps(result))
        return 0
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000", help="corpus sizes in pages, comma-separated")
    ap.add_argument("--store-points", default="", help="also load this many chunks into the vector store alone")
    ap.add_argument("--real-embed", action="store_true", help="embed with the real model (slow: small sizes only)")
    ap.add_argument("--questions", type=int, default=60)
    ap.add_argument("--deletes", type=int, default=5)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--work", type=Path, default=None, help="where corpora and indexes go (default: a temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the indexes")
    ap.add_argument("--out", type=Path, default=Path("bench/data/scale"), help="JSON and PNG go here")
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="finrag-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    args.out.mkdir(parents=True, exist_ok=True)
    rows = [measure_size(int(s), work, args) for s in args.sizes.split(",") if s]
    store_rows = [
        run_phase("store", p, str(work / f"store-{p}"), str(args.questions)) for p in args.store_points.split(",") if p
    ]
    print_table(rows, store_rows)
    result = {"sizes": rows, "store": store_rows, "cores": os.cpu_count(), "load": os.getloadavg()}
    (args.out / "scale.json").write_text(json.dumps(result, indent=2))
    if rows and plot(rows, args.out / "scale.png"):
        print(f"plot: {args.out / 'scale.png'}")
    if args.work is None and not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
