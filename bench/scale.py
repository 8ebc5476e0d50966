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
* serve-long (run alone: `--phase serve-long CORPUS DATA N_WARM N`): one server process answers N
  questions cold, N_WARM others, the first N again and N new ones: latency of each part, RSS at the end;
* re-ingest: the same files again, all unchanged (hash + registry lookup each): seconds;
* delete: a few filings deleted (store + registry): seconds per filing.

--store-points N loads N chunks (random vectors, real BM25 of generated chunk text, the same payload
fields) into a bare QdrantEdgeStore and measures the search alone, for sizes where the whole ingest
would not fit the time on this machine.

Every figure printed is measured in this run; nothing is extrapolated.
"""

from __future__ import annotations

import argparse
import itertools
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


def child_peak_rss_mb() -> float:
    """The largest peak RSS of this process's finished children: the index build's child process."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def dir_bytes(path: Path) -> int:
    """Bytes on disk (allocated blocks, as `du`): Qdrant preallocates sparse files whose apparent size
    is far larger."""
    return sum(p.stat().st_blocks * 512 for p in path.rglob("*") if p.is_file())


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


def phase_ingest(corpus: Path, data_dir: Path, real_embed: bool, first: int = 0, last: int = 10**9) -> dict[str, Any]:
    """Ingest files [first, last) of the corpus (sorted by name) into data_dir."""
    from finrag.ingest.chunk import FilingChunker
    from finrag.ingest.describe import CoverPageDescriber
    from finrag.ingest.pipeline import IngestPipeline, IngestReport, ParsedFiling, file_hash

    service = _service(data_dir)
    service.check_index()  # records the real model in the manifest: the serve phase embeds questions with it
    c = service.c
    embedder = (c.ingest_embedder or c.embedder) if real_embed else RandomVectors(c.embedder.dim)
    embedder.warm_up()
    s = service.settings
    # The product's build rule inside the run: past `edge_segment_max_points` new points it builds
    # (timed apart from the ingest), so segments stay that size; the end-of-run build is the build phase.
    pipeline = IngestPipeline(
        c.registry,
        c.store,
        embedder,
        c.sparse,
        child_max_tokens=s.child_max_tokens,
        index_min_points=s.edge_index_min_points,
        segment_points=s.edge_segment_max_points,
    )
    chunker = FilingChunker(max_tokens=s.child_max_tokens, with_prefix=s.metadata_prefix)
    describer = CoverPageDescriber()
    files = sorted(corpus.glob("*.txt"))[first:last]
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
        event = pipeline._index(path, TENANT, digest[:16], digest, parsed, report, embedder)
        assert event.status == "ingested", event
        pipeline.build_segment_if_due(report)
        assert not report.index_build_error, report.index_build_error
    ingest_s = time.perf_counter() - t0 - (report.index_build_s or 0.0)
    service.close()
    return {
        "pages": report.pages,
        "filings": len(files),
        "chunks": report.chunks,
        "ingest_s": ingest_s,
        "pages_per_s": report.pages / ingest_s,
        "segment_builds": report.index_builds,
        "segment_build_s": report.index_build_s or 0.0,
        "build_child_rss_mb": child_peak_rss_mb(),
        "stages_s": {k: round(v, 2) for k, v in report.seconds.items()},
        "rss_mb": peak_rss_mb(),
        "vectors": "MiniLM" if real_embed else "random vectors",
    }


def phase_build(data_dir: Path, always: bool = False) -> dict[str, Any]:
    """The index build (HNSW + payload indexes of full segments, int8 copies), timed, under the product's
    rule: only when the store holds `edge_index_min_points` points (an ingest run's end does the same);
    `always`: whatever the size (`finrag index optimize`)."""
    service = _service(data_dir)
    store = service.c.store
    points = store.count()
    build_s = optimized = None
    if always or (service.settings.edge_index_min_points and points >= service.settings.edge_index_min_points):
        t = time.perf_counter()
        optimized = store.optimize()
        build_s = time.perf_counter() - t
    segments = store.info()["segments"]
    service.close()
    return {"index_build_s": build_s, "optimized": optimized, "points": points, "rss_mb": peak_rss_mb(),
            "child_rss_mb": child_peak_rss_mb(), "segments": segments,
            "min_points": service.settings.edge_index_min_points}  # fmt: skip


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


class RssSampler:
    """Peak resident memory per step, split anonymous (heap) / file-backed (mapped segment files: page
    cache the kernel can drop), sampled every few ms from /proc/PID/status by a child process: a thread
    would stall while qdrant-edge holds the GIL (opening a shard), and `ru_maxrss` only knows the whole
    process's peak, not the step's or its kind."""

    KEYS = ("VmRSS", "RssAnon", "RssFile")

    def __init__(self, every_s: float = 0.005) -> None:
        self.every_s = every_s
        self.steps: list[tuple[float, str]] = []  # (time.monotonic() at its start, step)
        self.peaks: dict[str, dict[str, float]] = {}

    def mark(self, step: str) -> None:
        """Samples from now on count towards `step`."""
        self.steps.append((time.monotonic(), step))

    def __enter__(self) -> RssSampler:
        code = (
            "import sys, time\n"
            "pid, every = sys.argv[1], float(sys.argv[2])\n"
            "keys = set(sys.argv[3:])\n"
            "while True:\n"
            "    try:\n"
            "        lines = open(f'/proc/{pid}/status').read().splitlines()\n"
            "    except OSError:\n"
            "        break\n"
            "    vals = [l.split()[1] for l in lines if l.split(':')[0] in keys]\n"
            "    print(time.monotonic(), *vals, flush=False)\n"
            "    time.sleep(every)\n"
        )
        self._log = tempfile.TemporaryFile(mode="w+")  # a pipe would fill and stall the sampler
        self._proc = subprocess.Popen(
            [sys.executable, "-c", code, str(os.getpid()), str(self.every_s), *self.KEYS], stdout=self._log, text=True
        )
        self.mark("start")
        return self

    def __exit__(self, *exc: object) -> None:
        self._proc.terminate()
        self._proc.wait()
        self._log.seek(0)
        lines = self._log.read().splitlines()
        self._log.close()
        for line in lines:
            parts = line.split()
            if len(parts) != 1 + len(self.KEYS):
                continue  # the last line may be cut by terminate()
            t = float(parts[0])
            step = next((name for start, name in reversed(self.steps) if start <= t), "start")
            peak = self.peaks.setdefault(step, {})
            # /proc/PID/status lists VmRSS, RssAnon, RssFile in that order, in kB
            for key, value in zip(self.KEYS, parts[1:], strict=True):
                peak[key] = max(peak.get(key, 0.0), int(value) / 1024)


def phase_serve(corpus: Path, data_dir: Path, n_questions: int) -> dict[str, Any]:
    service = _service(data_dir)
    open_steps: dict[str, float] = {}
    # The sampler watches the start only: polling /proc every 5 ms would cost the questions' timings CPU.
    with RssSampler() as rss:
        t0 = time.perf_counter()
        for step, open_part in service.warm_up_steps():  # as `finrag serve` starts (`QAService.warm_up`)
            rss.mark(step)
            t = time.perf_counter()
            open_part()
            open_steps[step] = time.perf_counter() - t
        open_s = time.perf_counter() - t0
    questions = questions_for(corpus, n_questions)
    service.retrieve(questions[0])  # first question: lazy parts built
    total, scope, search, resolve = [], [], [], []
    stages: dict[str, list[float]] = {}
    for q in questions:
        t = time.perf_counter()
        result = service.retrieve(q)
        total.append((time.perf_counter() - t) * 1000)
        scope.append(result.timings_ms.get("scope", 0.0))
        search.append(result.timings_ms.get("search", 0.0))
        for stage, ms in result.timings_ms.items():
            stages.setdefault(stage, []).append(ms)
        t = time.perf_counter()
        service.retriever.resolver(TENANT).resolve(q)
        resolve.append((time.perf_counter() - t) * 1000)
    service.close()
    return {
        "questions": len(questions),
        "open_s": open_s,
        "open_steps_s": open_steps,
        "rss_open_peak_by_step": rss.peaks,
        "stages_p50_p95_ms": {k: [pct(v, 0.5), pct(v, 0.95)] for k, v in stages.items()},
        "retrieve_p50_ms": pct(total, 0.5),
        "retrieve_p95_ms": pct(total, 0.95),
        "search_p50_ms": pct(search, 0.5),
        "search_p95_ms": pct(search, 0.95),
        "scope_p50_ms": pct(scope, 0.5),
        "scope_p95_ms": pct(scope, 0.95),
        "resolve_p50_ms": pct(resolve, 0.5),
        "rss_mb": peak_rss_mb(),
        "rss_end": rss_split_mb(),
    }


def phase_serve_long(corpus: Path, data_dir: Path, n_warm: int, n_questions: int) -> dict[str, Any]:
    """A server that has been up a while: one process answers n questions from a cold start, then n_warm
    others, then the first n again and n new ones. Latency of each part, and where the memory went."""
    service = _service(data_dir)
    service.warm_up()
    start = rss_split_mb()

    def timed(questions: list[str]) -> dict[str, float]:
        ms = []
        for q in questions:
            t = time.perf_counter()
            service.retrieve(q)
            ms.append((time.perf_counter() - t) * 1000)
        return {"questions": len(ms), "p50_ms": pct(ms, 0.5), "p95_ms": pct(ms, 0.95)}

    first = questions_for(corpus, n_questions, seed=0)
    parts = {"first": timed(first), "others": timed(questions_for(corpus, n_warm, seed=1))}
    parts["first_again"] = timed(first)
    parts["new"] = timed(questions_for(corpus, n_questions, seed=2))
    end = rss_split_mb()
    service.close()
    return {"parts": parts, "rss_after_open": start, "rss_end": end}


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
    # Opened first, as a server has it open: the first delete would otherwise carry the shard's open
    # (seconds at 1M chunks), which grows with the index and is not a delete's cost.
    t = time.perf_counter()
    service.c.store.warm_up()
    open_s = time.perf_counter() - t
    t = time.perf_counter()
    for d in docs:
        assert service.pipeline.delete(TENANT, d.doc_id)
    took = time.perf_counter() - t
    service.close()
    return {"deleted": len(docs), "delete_s_per_filing": took / max(1, len(docs)), "store_open_s": open_s}


def phase_store_load(work: Path, first: int, count: int, seed: int, build: bool = False) -> dict[str, Any]:
    """Chunks [first, first + count) straight into a QdrantEdgeStore: random vectors, real BM25 of
    generated chunk text (paragraphs of a scale corpus), the ingest path's payload fields. `build`: the
    store has the product's default options (int8, originals on disk) and the batch ends with the index
    build, as an ingest run past `edge_index_min_points` does (timed apart)."""
    from finrag.index.qdrant_edge import QdrantEdgeStore
    from finrag.index.sparse import Bm25Encoder
    from finrag.records import Chunk, ChunkKind
    from finrag.sample.scale import scale_corpus

    store = QdrantEdgeStore(work / "qdrant", **(_default_store_options() if build else {}))
    sparse, vectors = Bm25Encoder(), RandomVectors(seed=seed)
    t0 = time.perf_counter()
    n = first
    batch: list[Chunk] = []
    docs = (work / "docs.jsonl").open("a")
    for f in scale_corpus(10**9, seed=seed):
        docs.write(json.dumps([f.doc_name, f.form, f.fiscal_year]) + "\n")
        for page_no, page in enumerate(f.pages):
            for j, text in enumerate(p for p in page.split("\n\n") if len(p) > 80):
                meta = {"doc_name": f.doc_name, "company": f.company, "doc_type": f.form, "fiscal_year": f.fiscal_year}
                batch.append(Chunk(id=f"00000000-0000-4000-8000-{n:012x}", doc_id=f.doc_name, tenant=TENANT,
                                   kind=ChunkKind.TABLE if j == 0 and "$" in text else ChunkKind.PASSAGE, text=text,
                                   page_start=page_no, page_end=page_no, metadata=meta))  # fmt: skip
                n += 1
                if n >= first + count:
                    break
            if len(batch) >= 2048 or n >= first + count:
                store.upsert(batch, vectors.embed_documents([c.text for c in batch]),
                             [sparse.embed_document(c.text) for c in batch])  # fmt: skip
                batch.clear()
            if n >= first + count:
                break
        if n >= first + count:
            break
    store.flush()
    docs.close()
    took = time.perf_counter() - t0
    load_rss = peak_rss_mb()
    build_s = None
    if build:
        t = time.perf_counter()
        store.optimize()
        build_s = time.perf_counter() - t
    store.close()
    return {"loaded": n - first, "load_s": took, "chunks_per_s": (n - first) / took, "rss_mb": load_rss,
            "index_build_s": build_s, "build_rss_mb": peak_rss_mb()}  # fmt: skip


def _default_store_options() -> dict[str, Any]:
    """The embedded store's options as `Settings` defaults them (the product's levers)."""
    from finrag.settings import Settings

    s = Settings(data_dir=Path(tempfile.gettempdir()))
    return {
        "quantization": s.edge_quantization,
        "vectors_on_disk": s.edge_vectors_on_disk,
        "index_memory": s.edge_index_memory,
    }


def rss_split_mb() -> dict[str, float]:
    """Resident memory now, split: anonymous (heap: what the process needs) and file-backed (mmapped
    segment files the searches touched: page cache the kernel can drop and re-read)."""
    out: dict[str, float] = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
            out[key] = int(value.split()[0]) / 1024
    return out


def phase_store_serve(work: Path, n_queries: int) -> dict[str, Any]:
    """What a server holds: a fresh process opens the already built store (the default options) and only
    searches; peak RSS, its heap / mapped-file split, p50 / p95 over all filings and scoped to one."""
    from finrag.index.qdrant_edge import QdrantEdgeStore
    from finrag.index.sparse import Bm25Encoder
    from finrag.records import Scope

    store = QdrantEdgeStore(work / "qdrant", **_default_store_options())
    t = time.perf_counter()
    store.warm_up()
    open_s = time.perf_counter() - t
    open_rss = rss_split_mb()
    sparse, vectors = Bm25Encoder(), RandomVectors(seed=98)
    docs = [json.loads(line) for line in (work / "docs.jsonl").read_text().splitlines()]
    rng = random.Random(1)
    latencies: dict[str, list[float]] = {"all": [], "scoped": []}
    for i in range(n_queries + 5):
        doc_id, _form, year = rng.choice(docs)
        q = f"{['revenue', 'debt', 'income taxes', 'segment revenue', 'goodwill'][i % 5]} fiscal {year} capital"
        dense = vectors.embed_query(q)
        for label, scope in (("all", Scope()), ("scoped", Scope(doc_ids=[doc_id], fiscal_years=[year]))):
            t = time.perf_counter()
            store.hybrid_search(TENANT, dense, sparse.embed_query(q), scope, limit=40, prefetch_limit=200)
            if i >= 5:  # the first few warm the mapped files in
                latencies[label].append((time.perf_counter() - t) * 1000)
    info = store.info()
    end_rss = rss_split_mb()
    store.close()
    return {
        "points": info["points"],
        "segments": info["segments"],
        "hnsw_segments": info["hnsw_segments"],
        "int8_segments": info["int8_segments"],
        "open_s": open_s,
        **{f"search_{k}_p50_ms": pct(v, 0.5) for k, v in latencies.items()},
        **{f"search_{k}_p95_ms": pct(v, 0.95) for k, v in latencies.items()},
        "rss_mb": peak_rss_mb(),
        "rss_open": open_rss,
        "rss_end": end_rss,
        "disk_bytes": dir_bytes(work / "qdrant"),
    }


def phase_store_query(work: Path, n_queries: int, optimize: bool, int8: bool = False) -> dict[str, Any]:
    """Open the store as a server would, optionally run its optimisers (timed), then time hybrid searches
    over all filings and scoped to one filing (a question that names a company and a year)."""
    from finrag.index.qdrant_edge import QdrantEdgeStore
    from finrag.index.sparse import Bm25Encoder
    from finrag.records import Scope

    store = QdrantEdgeStore(work / "qdrant", quantization="int8" if int8 else "none", vectors_on_disk=int8)
    t = time.perf_counter()
    store.warm_up()
    open_s = time.perf_counter() - t
    build_s = None
    if optimize:
        t = time.perf_counter()
        store.optimize()
        build_s = time.perf_counter() - t
    sparse, vectors = Bm25Encoder(), RandomVectors(seed=99)
    docs = [json.loads(line) for line in (work / "docs.jsonl").read_text().splitlines()]
    rng = random.Random(0)
    latencies: dict[str, list[float]] = {"all": [], "scoped": []}
    for i in range(n_queries):
        doc_id, _form, year = rng.choice(docs)
        q = f"capital expenditures {['risk', 'debt', 'income taxes', 'segment revenue'][i % 4]} fiscal {year}"
        dense = vectors.embed_query(q)
        for label, scope in (("all", Scope()), ("scoped", Scope(doc_ids=[doc_id], fiscal_years=[year]))):
            t = time.perf_counter()
            store.hybrid_search(TENANT, dense, sparse.embed_query(q), scope, limit=40, prefetch_limit=200)
            latencies[label].append((time.perf_counter() - t) * 1000)
    count = store.count()
    store.close()
    return {
        "points": count,
        "open_s": open_s,
        "index_build_s": build_s,
        "disk_bytes": dir_bytes(work / "qdrant"),
        **{f"search_{k}_p50_ms": pct(v, 0.5) for k, v in latencies.items()},
        **{f"search_{k}_p95_ms": pct(v, 0.95) for k, v in latencies.items()},
        "rss_mb": peak_rss_mb(),
    }


def phase_scope(data_dir: Path, filings: int, n_questions: int) -> dict[str, Any]:
    """Scope resolution as the retriever does it per question (registry check, resolver, resolve) and the
    READY filter of a question's hits, against a registry of `filings` filings (no index needed)."""
    from sqlalchemy.orm import Session

    from finrag.db.models import DocumentRow
    from finrag.records import DocStatus, DocType, DocumentRecord, Filing
    from finrag.registry.sql import SqlRegistry
    from finrag.retrieve.retriever import Retriever
    from finrag.settings import RetrievalSettings

    try:
        from finrag.sample.scale import scale_companies
    except ImportError:  # --before with a checkout older than the generator: take it from this one
        import importlib.util

        spec = importlib.util.spec_from_file_location("scale_gen", ROOT / "finrag" / "sample" / "scale.py")
        module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        sys.modules["scale_gen"] = module
        spec.loader.exec_module(module)  # type: ignore[union-attr]
        scale_companies = module.scale_companies

    registry = SqlRegistry(f"sqlite:///{data_dir / 'registry.sqlite3'}")
    registry.warm_up()
    names: list[tuple[str, str, int]] = []
    rows = []
    now = "2026-12-01T00:00:00+00:00"
    for company in scale_companies(7):
        spec = company.spec
        for year in company.years:
            for quarter in (1, 2, 3, None):
                doc_id = f"{len(rows):016x}"
                form = DocType.TEN_K if quarter is None else DocType.TEN_Q
                filing = Filing(company=spec.name, aliases=[spec.short], ticker=spec.ticker, doc_type=form,
                                fiscal_year=year, fiscal_quarter=quarter)  # fmt: skip
                rec = DocumentRecord(doc_id=doc_id, tenant=TENANT, name=doc_id, source_path=f"/{doc_id}",
                                     content_hash=doc_id, status=DocStatus.READY, pages=165, filing=filing)  # fmt: skip
                f = {k: getattr(rec.filing, k) for k in rec.filing.__slots__}  # type: ignore[attr-defined]
                f["doc_type"] = str(form)
                rows.append(DocumentRow(tenant=TENANT, doc_id=doc_id, name=doc_id, source_path=rec.source_path,
                                        content_hash=doc_id, status="ready", pages=165, chunks=900, error="",
                                        filing=f, created_at=now, updated_at=now))  # fmt: skip
                names.append((spec.short, spec.ticker, year))
                if len(rows) >= filings:
                    break
            if len(rows) >= filings:
                break
        if len(rows) >= filings:
            break
    with Session(registry.engine) as session, session.begin():
        session.add_all(rows)
    retriever = Retriever(None, None, None, registry, RetrievalSettings(), None)  # type: ignore[arg-type]
    rng = random.Random(1)
    questions = []
    for i in range(n_questions):
        short, ticker, year = rng.choice(names)
        questions.append(
            (
                f"What was {short}'s revenue in fiscal {year}?",
                f"How much debt did {ticker} have at the end of {year}?",
                "Which companies reported an impairment in their 10-K?",
            )[i % 3]
        )
    t = time.perf_counter()
    retriever.resolver(TENANT)
    build_ms = (time.perf_counter() - t) * 1000
    scope_ms, ready_ms = [], []
    hit_docs = [f"{i:016x}" for i in range(8)]
    for q in questions:
        t = time.perf_counter()
        retriever.resolver(TENANT).resolve(q)
        scope_ms.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        if hasattr(registry, "ready_ids"):
            registry.ready_ids(TENANT, hit_docs)
        else:  # the code before the fix listed every READY document per question
            _ = {d.doc_id for d in registry.list(tenant=TENANT, status=DocStatus.READY)}
        ready_ms.append((time.perf_counter() - t) * 1000)
    return {
        "filings": len(rows),
        "resolver_build_ms": build_ms,
        "scope_p50_ms": pct(scope_ms, 0.5),
        "scope_p95_ms": pct(scope_ms, 0.95),
        "ready_filter_p50_ms": pct(ready_ms, 0.5),
        "rss_mb": peak_rss_mb(),
    }


def phase_reingest_only(corpus: Path, data_dir: Path) -> dict[str, Any]:
    """Re-ingest of an unchanged corpus without building its index first: the run hashes every file and
    finds it READY in the registry, so it never opens the vector store or the model (the registry
    rows are made from the files' hashes, as a finished ingest leaves them)."""
    from finrag.ingest.pipeline import file_hash
    from finrag.records import DocStatus, DocumentRecord

    service = _service(data_dir)
    files = sorted(corpus.glob("*.txt"))
    for path in files:
        digest = file_hash(path)
        service.c.registry.upsert(DocumentRecord(doc_id=digest[:16], tenant=TENANT, name=path.stem,
                                                 source_path=str(path.resolve()), content_hash=digest,
                                                 status=DocStatus.READY))  # fmt: skip
    t = time.perf_counter()
    report = service.pipeline.run(files, TENANT)
    took = time.perf_counter() - t
    assert report.count("skipped") == len(files)
    return {
        "files": len(files),
        "bytes": sum(p.stat().st_size for p in files),
        "reingest_s": took,
        "store_opened": service.c.store._shard is not None,  # type: ignore[attr-defined]
        "rss_mb": peak_rss_mb(),
    }


def measure_scope(filings: int, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    row: dict[str, Any] = {"filings": filings}
    for label, code in (("after", None), ("before", args.before)):
        if label == "before" and code is None:
            continue
        data = work / f"scope-{filings}-{label}"
        shutil.rmtree(data, ignore_errors=True)
        data.mkdir(parents=True)
        row[label] = run_phase("scope", str(data), str(filings), str(args.questions), code=code)
        shutil.rmtree(data, ignore_errors=True)
    return row


def measure_store(points: int, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    step = args.store_batch
    build = "1" if args.store_build_each else "0"
    loads = [
        run_phase("store-load", str(work), str(first), str(min(step, points - first)), str(1000 + first // step), build)
        for first in range(0, points, step)
    ]
    row: dict[str, Any] = {
        "load_s": sum(r["load_s"] for r in loads),
        "chunks_per_s": points / sum(r["load_s"] for r in loads),
        "load_rss_mb": max(r["rss_mb"] for r in loads),
    }
    if args.store_build_each:  # built batch by batch with the default options; then served as a server would
        row["build_each_s"] = [round(r["index_build_s"], 1) for r in loads]
        row["build_rss_mb"] = max(r["build_rss_mb"] for r in loads)
        row["serve"] = run_phase("store-serve", str(work), str(args.questions))
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        return row
    row["plain"] = run_phase("store-query", str(work), str(args.questions), "0")
    if args.store_optimize:
        row["optimized"] = run_phase("store-query", str(work), str(args.questions), "1")
    if args.store_int8:  # the same shard reopened with int8 quantisation, originals on disk, re-optimised
        row["int8"] = run_phase("store-query", str(work), str(args.questions), "1", "int8")
        row["serve"] = run_phase("store-serve", str(work), str(args.questions))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return row


# ---------------------------------------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------------------------------------


LOCK: list[str] = []  # ["flock", PATH] when --lock: each phase holds the shared heavy-job lock alone
CODE = [ROOT]  # the checkout whose finrag the phases import (--before re-runs serve with another one)


def run_phase(*args: str, code: Path | None = None) -> dict[str, Any]:
    """One phase in a fresh interpreter; its last stdout line is its JSON result."""
    env = {**os.environ, "PYTHONPATH": f"{code or CODE[0]}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    cmd = [*LOCK, sys.executable, __file__, "--phase", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"phase {args[0]} failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure_size(pages: int, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    from finrag.sample.generate import generate_scale

    corpus, data = work / f"corpus-{pages}", work / f"data-{pages}"
    shutil.rmtree(data, ignore_errors=True)
    row: dict[str, Any] = {"size_pages": pages, "generate_s": None, "generate_pages_per_s": None}
    if not (corpus / "documents.jsonl").exists():  # else generated earlier: not timed here
        t = time.perf_counter()
        generate_scale(corpus, pages, seed=args.seed)
        row["generate_s"] = time.perf_counter() - t
        row["generate_pages_per_s"] = pages / row["generate_s"]
    # Ingest in batches of about --batch-pages pages, each its own process (and lock hold): the pages/s
    # of the first and the last batch say whether ingest slows down as the index grows.
    docs = [json.loads(line) for line in (corpus / "documents.jsonl").read_text().splitlines()]
    sizes = [d["pages"] for d in sorted(docs, key=lambda d: d["doc_name"])]
    bounds, acc = [0], 0
    for i, n in enumerate(sizes, start=1):
        acc += n
        if acc >= args.batch_pages and i < len(sizes):
            bounds.append(i)
            acc = 0
    bounds.append(len(sizes))
    embed = "1" if args.real_embed else "0"
    batches = [
        run_phase("ingest", str(corpus), str(data), embed, str(a), str(b)) for a, b in itertools.pairwise(bounds)
    ]
    ingest_s = sum(b["ingest_s"] for b in batches)
    build_args = ["always"] if args.build_always else []
    build = run_phase("build", str(data), *build_args) if not args.no_build else {"index_build_s": None, "rss_mb": None}
    # Builds the ingest ran on the way (one each time it passed `edge_segment_max_points` new points),
    # then the end-of-run one: the whole build time is their sum.
    builds_s = [b["segment_build_s"] for b in batches if b["segment_builds"]]
    if build["index_build_s"] is not None:
        builds_s.append(build["index_build_s"])
    if args.no_build:  # searched as ingest left it: plain (unindexed) segments
        build["points"] = sum(b["chunks"] for b in batches)
    row["ingest"] = {
        "pages": sum(b["pages"] for b in batches),
        "filings": sum(b["filings"] for b in batches),
        "chunks": sum(b["chunks"] for b in batches),
        "points": build["points"],
        "ingest_s": ingest_s,
        "pages_per_s": sum(b["pages"] for b in batches) / ingest_s,
        "batch_pages_per_s": [round(b["pages_per_s"], 1) for b in batches],
        "stages_s": {k: round(sum(b["stages_s"][k] for b in batches), 2) for k in batches[0]["stages_s"]},
        "index_build_s": sum(builds_s) if builds_s else None,
        "index_builds_s": [round(b, 1) for b in builds_s],
        "segments": build.get("segments"),
        "rss_mb": max(b["rss_mb"] for b in batches),
        "build_rss_mb": build["rss_mb"],
        "build_child_rss_mb": max([b["build_child_rss_mb"] for b in batches] + [build.get("child_rss_mb") or 0]),
        "disk_bytes": dir_bytes(data),
        "vectors": batches[0]["vectors"],
    }
    row["ingest"]["disk_per_page_kb"] = row["ingest"]["disk_bytes"] / row["ingest"]["pages"] / 1024
    row["serve"] = run_phase("serve", str(corpus), str(data), str(args.questions))
    if args.before:
        row["serve_before"] = run_phase("serve", str(corpus), str(data), str(args.questions), code=args.before)
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
                    "not built" if i["index_build_s"] is None else f"{i['index_build_s']:.1f}",
                    f"{i['disk_per_page_kb']:.1f}", f"{i['rss_mb']:.0f} MB",
                    f"{s['rss_mb']:.0f} MB", f"{s['retrieve_p50_ms']:.0f} ms", f"{s['retrieve_p95_ms']:.0f} ms",
                    f"{s['scope_p50_ms']:.1f} ms", f"{s['scope_p95_ms']:.1f} ms",
                    f"{r['reingest']['reingest_s']:.1f}", f"{r['delete']['delete_s_per_filing']:.2f}",
                )
            )
        )  # fmt: skip
    for r in store_rows:
        if "serve" in r:
            v = r["serve"]
            print(
                f"vector store served (fresh process, default options, random vectors + real BM25): "
                f"{v['points']:,} chunks, {v['segments']} segments ({v.get('hnsw_segments', '?')} HNSW, "
                f"{v.get('int8_segments', '?')} int8), search over all p50/p95 "
                f"{v['search_all_p50_ms']:.0f}/{v['search_all_p95_ms']:.0f} ms, scoped "
                f"{v['search_scoped_p50_ms']:.0f}/{v['search_scoped_p95_ms']:.0f} ms, peak RSS {v['rss_mb']:.0f} MB "
                f"(at the end: heap {v['rss_end']['RssAnon']:.0f} MB + mapped files {v['rss_end']['RssFile']:.0f} MB), "
                f"disk {v['disk_bytes'] / 2**20:.0f} MiB"
            )
        if "build_each_s" in r:
            print(f"  loaded {r['chunks_per_s']:.0f} chunks/s (peak RSS {r['load_rss_mb']:.0f} MB), index builds "
                  f"after each batch {r['build_each_s']} s (peak RSS {r['build_rss_mb']:.0f} MB)")  # fmt: skip
        for label in ("plain", "optimized", "int8"):
            if label not in r:
                continue
            q = r[label]
            print(
                f"vector store alone, {label}: {q['points']:,} chunks (random vectors + real BM25): load "
                f"{r['load_s']:.0f} s ({r['chunks_per_s']:.0f} chunks/s), build {q['index_build_s'] or 0:.0f} s, "
                f"disk {q['disk_bytes'] / 2**20:.0f} MiB, search over all p50/p95 {q['search_all_p50_ms']:.0f}/"
                f"{q['search_all_p95_ms']:.0f} ms, scoped to one filing {q['search_scoped_p50_ms']:.0f}/"
                f"{q['search_scoped_p95_ms']:.0f} ms, RSS {q['rss_mb']:.0f} MB"
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
    axes[0][0].set_ylim(bottom=0)  # from zero: a few per cent of drift should look like it
    axes[0][1].plot(x, [r["serve"]["retrieve_p50_ms"] for r in rows], "o-", label="p50")
    axes[0][1].plot(x, [r["serve"]["retrieve_p95_ms"] for r in rows], "s-", label="p95")
    axes[0][1].plot(x, [r["serve"]["scope_p95_ms"] for r in rows], "^-", label="scope p95")
    axes[1][0].plot(x, [r["ingest"]["rss_mb"] for r in rows], "o-", label="ingest")
    axes[1][0].plot(x, [r["serve"]["rss_mb"] for r in rows], "s-", label="serve")
    axes[1][1].plot(x, [r["reingest"]["reingest_s"] for r in rows], "o-", label="re-ingest unchanged")
    axes[1][1].plot(x, [r["ingest"]["index_build_s"] or float("nan") for r in rows], "s-", label="index build")
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
            result = phase_ingest(Path(rest[0]), Path(rest[1]), rest[2] == "1", int(rest[3]), int(rest[4]))
        elif name == "build":
            result = phase_build(Path(rest[0]), rest[1:] == ["always"])
        elif name == "serve":
            result = phase_serve(Path(rest[0]), Path(rest[1]), int(rest[2]))
        elif name == "serve-long":
            result = phase_serve_long(Path(rest[0]), Path(rest[1]), int(rest[2]), int(rest[3]))
        elif name == "reingest":
            result = phase_reingest(Path(rest[0]), Path(rest[1]))
        elif name == "delete":
            result = phase_delete(Path(rest[0]), int(rest[1]))
        elif name == "reingest-only":
            result = phase_reingest_only(Path(rest[0]), Path(rest[1]))
        elif name == "scope":
            result = phase_scope(Path(rest[0]), int(rest[1]), int(rest[2]))
        elif name == "store-load":
            result = phase_store_load(Path(rest[0]), int(rest[1]), int(rest[2]), int(rest[3]), rest[4:] == ["1"])
        elif name == "store-serve":
            result = phase_store_serve(Path(rest[0]), int(rest[1]))
        elif name == "store-query":
            result = phase_store_query(Path(rest[0]), int(rest[1]), rest[2] == "1", rest[3:] == ["int8"])
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
    ap.add_argument("--scope-filings", default="", help="scope resolution alone at these registry sizes (filings)")
    ap.add_argument("--store-batch", type=int, default=250_000, help="chunks loaded per process (lock hold)")
    ap.add_argument("--store-optimize", action="store_true", help="also build the HNSW index of the store (slow)")
    ap.add_argument("--store-int8", action="store_true", help="then reopen it with int8 quantisation (optimises)")
    ap.add_argument(
        "--store-build-each",
        action="store_true",
        help="load with the default store options and build the index after each --store-batch (as ingest runs"
        " past the threshold do), then only the serving phase",
    )
    ap.add_argument("--no-build", action="store_true", help="skip the index build (HNSW): serve plain segments")
    ap.add_argument("--build-always", action="store_true", help="build the index at any size (default: the rule)")
    ap.add_argument("--batch-pages", type=int, default=20_000, help="ingest this many pages per process")
    ap.add_argument("--lock", default="", help="run each phase under `flock LOCK` (the shared heavy-job lock)")
    ap.add_argument("--before", type=Path, default=None, help="also run the serve phase with this checkout's code")
    ap.add_argument(
        "--merge", type=Path, nargs="*", default=[], help="only print and plot these runs' scale.json together"
    )
    args = ap.parse_args()
    if args.merge:  # runs made at different times (one size each), drawn as one curve
        merged = [row for path in args.merge for row in json.loads(path.read_text())["sizes"]]
        merged.sort(key=lambda r: r["ingest"]["pages"])
        print_table(merged, [])
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "scale.json").write_text(
            json.dumps({"sizes": merged, "merged_from": [str(p) for p in args.merge]}, indent=2)
        )
        if plot(merged, args.out / "scale.png"):
            print(f"plot: {args.out / 'scale.png'}")
        return 0
    if args.lock:
        LOCK[:] = ["flock", args.lock]
    work = args.work or Path(tempfile.mkdtemp(prefix="finrag-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    args.out.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    for size in (s for s in args.sizes.split(",") if s):
        rows.append(measure_size(int(size), work, args))
        # Written after each size too: a long run cut short keeps what finished.
        (args.out / "scale.partial.json").write_text(json.dumps({"sizes": rows, "load": os.getloadavg()}, indent=2))
    scope_rows = [measure_scope(int(n), work, args) for n in args.scope_filings.split(",") if n]
    for r in scope_rows:
        for label in ("before", "after"):
            if label in r:
                x = r[label]
                print(
                    f"scope resolution, {label}: {x['filings']:,} filings in the registry: per question p50/p95 "
                    f"{x['scope_p50_ms']:.2f}/{x['scope_p95_ms']:.2f} ms (resolver built in "
                    f"{x['resolver_build_ms']:.0f} ms), READY filter of the hits {x['ready_filter_p50_ms']:.2f} ms"
                )
    store_rows = [measure_store(int(p), work / f"store-{p}", args) for p in args.store_points.split(",") if p]
    print_table(rows, store_rows)
    result = {"sizes": rows, "store": store_rows, "scope": scope_rows, "cores": os.cpu_count(), "load": os.getloadavg()}
    (args.out / "scale.json").write_text(json.dumps(result, indent=2))
    if rows and plot(rows, args.out / "scale.png"):
        print(f"plot: {args.out / 'scale.png'}")
    if args.work is None and not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
