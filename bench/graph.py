"""Does the graph route help? Page recall@5, doc recall@5 and MRR on FinanceBench dev questions for the
default retriever, and for the same results with the graph route's pages fused in by reciprocal rank
(for the questions `is_cross_filing` flags, and for every question). The index is read as is; only the
graph JSON is written, into its graph/ folder.

    python bench/graph.py --index-dir ~/.cache/finrag/fb-v1 \\
        --questions ../shared/financebench/questions_dev.jsonl

`--cross-filing` instead measures the global answers on the sample filings' cross-filing questions
(finrag/sample/cross_filing.jsonl, known answers from finrag/sample/companies.toml): the default answer
(retrieval + the offline answerer), the default with the graph retrieval route, and the answer written
from the graph's community summaries. It generates and ingests the sample filings into --index-dir when
that folder holds no index:

    python bench/graph.py --cross-filing --index-dir /tmp/finrag-sample
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from rich.console import Console
from rich.table import Table

from finrag.eval.metrics import first_hits, load_questions, summarise
from finrag.graph.build import graph_path
from finrag.graph.route import GraphRetriever, fuse_graph, is_cross_filing
from finrag.records import Hit
from finrag.retrieve.retriever import page_key, rrf
from finrag.service import QAService
from finrag.settings import Settings

console = Console()
TOP_K = 20


def fused(base: list[Hit], graph: list[Hit], k: int, weight: float) -> list[Hit]:
    """RRF of the retriever's list and the graph's. `rrf` keys by chunk id, and the retriever may return a
    page as a child chunk where the graph returns its parent, so a graph hit on a page the retriever
    already has takes the retriever's hit (one page, one key). Other weights go through `fuse_graph`."""
    if weight != 1.0:
        return fuse_graph(base, graph, k, weight)[:TOP_K]
    by_page = {page_key(h.chunk): h for h in base}
    aligned = [by_page.get(page_key(h.chunk), h) for h in graph]
    return rrf([base, aligned], k)[:TOP_K]


def row(qid: str, hits: list[Hit], evidence: list[tuple[str, int]]) -> dict[str, Any]:
    page_rank, doc_rank = first_hits(hits, evidence)
    return {"id": qid, "page_rank": page_rank, "doc_rank": doc_rank}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index-dir", type=Path, default=Path.home() / ".cache" / "finrag" / "fb-v1")
    ap.add_argument("--questions", type=Path, default=Path("../shared/financebench/questions_dev.jsonl"))
    ap.add_argument("--graph-limit", type=int, default=10, help="pages the graph route returns per question")
    ap.add_argument("--weights", default="1.0,0.5", help="graph vote weights to try in the fusion")
    ap.add_argument("--rebuild", action="store_true", help="rebuild the graph from scratch")
    ap.add_argument("--out", type=Path, default=None, help="write the per-question rows here (JSON)")
    ap.add_argument("--cross-filing", action="store_true", help="global answers on the sample's cross-filing set")
    args = ap.parse_args()
    if args.cross_filing:
        return cross_filing(args.index_dir.expanduser(), args.out)

    index_dir = args.index_dir.expanduser()
    questions = load_questions(args.questions)
    service = QAService(Settings(data_dir=index_dir))
    tenant = service.settings.tenant
    k = service.settings.retrieval.rrf_k
    graph_dir = index_dir / "graph"
    route = GraphRetriever(service.c.store, service.c.registry, graph_dir)
    if args.rebuild:
        graph_path(graph_dir, tenant).unlink(missing_ok=True)
    t0 = time.perf_counter()
    route.warm_up()
    build_s = time.perf_counter() - t0
    tg = route.tenant_graph(tenant)
    assert tg is not None, "no graph: is the index empty?"
    g = tg.graph
    weights = [float(w) for w in args.weights.split(",") if w]

    configs: dict[str, list[dict[str, Any]]] = {"default retriever": []}
    for w in weights:
        configs[f"+graph, cross-filing only (w={w:g})"] = []
        configs[f"+graph, all questions (w={w:g})"] = []
    configs["graph route alone"] = []
    latencies: dict[str, list[float]] = {name: [] for name in configs}
    graph_ms: list[float] = []
    cross_ids: set[str] = set()
    for q in questions:
        t = time.perf_counter()
        result = service.retrieve(q.question, top_k=TOP_K)
        base_ms = (time.perf_counter() - t) * 1000
        base = result.hits[:TOP_K]
        t = time.perf_counter()
        graph_hits = route.search(q.question, tenant, result.scope, args.graph_limit)
        g_ms = (time.perf_counter() - t) * 1000
        graph_ms.append(g_ms)
        cross = is_cross_filing(q.question)
        if cross:
            cross_ids.add(q.id)
        configs["default retriever"].append(row(q.id, base, q.evidence))
        latencies["default retriever"].append(base_ms)
        for w in weights:
            both = fused(base, graph_hits, k, w)
            configs[f"+graph, all questions (w={w:g})"].append(row(q.id, both, q.evidence))
            latencies[f"+graph, all questions (w={w:g})"].append(base_ms + g_ms)
            only = both if cross else base
            configs[f"+graph, cross-filing only (w={w:g})"].append(row(q.id, only, q.evidence))
            latencies[f"+graph, cross-filing only (w={w:g})"].append(base_ms + (g_ms if cross else 0.0))
        configs["graph route alone"].append(row(q.id, graph_hits, q.evidence))
        latencies["graph route alone"].append(g_ms)
    service.close()

    table = Table(title=f"graph route on {args.questions.name} ({time.strftime('%Y-%m-%d')}), top {TOP_K}")
    for col in ("config", "questions", "n", "page@5", "doc@5", "MRR", "p50 ms"):
        table.add_column(col, justify="right")
    report: dict[str, Any] = {
        "graph": {
            "nodes": g.number_of_nodes(),
            "edges": g.number_of_edges(),
            "communities": len(g.graph.get("communities", [])),
            "warm_up_s": round(build_s, 2),
            "search_ms_p50": round(sorted(graph_ms)[len(graph_ms) // 2], 2) if graph_ms else 0.0,
        },
        "configs": {},
    }
    for name, rows in configs.items():
        for subset, keep in (("all", None), ("cross-filing", cross_ids)):
            chosen = [(r, lat) for r, lat in zip(rows, latencies[name], strict=True) if keep is None or r["id"] in keep]
            if not chosen:
                continue
            s = summarise([r for r, _ in chosen], [lat for _, lat in chosen])
            report["configs"][f"{name} | {subset}"] = {key: v for key, v in s.items() if key != "questions"}
            table.add_row(
                name if subset == "all" else "",
                subset,
                str(s["n"]),
                f"{s['page_recall@5']:.3f}",
                f"{s['doc_recall@5']:.3f}",
                f"{s['mrr']:.3f}",
                f"{s['latency_ms_p50']:.0f}",
            )
    console.print(table)
    info = report["graph"]
    console.print(
        f"graph: {info['nodes']:,} nodes, {info['edges']:,} edges, {info['communities']} community summaries; "
        f"warm-up (load or build) {info['warm_up_s']} s; search p50 {info['search_ms_p50']} ms; "
        f"{len(cross_ids)}/{len(questions)} questions flagged cross-filing"
    )
    if args.out:
        args.out.write_text(json.dumps({**report, "rows": configs}, indent=1), encoding="utf-8")
    return 0


# --- cross-filing questions over the sample filings --------------------------------------------------
CROSS_FILING = Path(__file__).resolve().parents[1] / "finrag" / "sample" / "cross_filing.jsonl"


def _named(text: str, name: str) -> bool:
    return name.lower() in text.lower()


def grade(q: dict[str, Any], text: str, pages: list[tuple[str, str]], universe: list[str]) -> dict[str, Any]:
    """Answer correct: every expected company (which-company questions: and no other sample company) and
    every expected segment named in the text. Lenient: a company also counts as named when a citation points
    to its filing (the reader sees the filing's name). Evidence: for each expected segment, a page of its
    company's filings among `pages` (company, page text) that names it."""
    cited = " ".join(company for company, _ in pages)

    def correct_in(said: str) -> bool:
        segments = all(_named(text, s) for s in q["segments"])
        if q["kind"] == "which_company":
            others = [c for c in universe if c not in q["companies"]]
            return (
                segments and all(_named(said, c) for c in q["companies"]) and not any(_named(said, c) for c in others)
            )
        return segments and all(_named(said, c) for c in q["companies"])

    correct, lenient = correct_in(text), correct_in(f"{text} {cited}")
    from finrag.sample.companies import load_companies

    owners = {s.name: c.short for c in load_companies().values() for s in c.segments}
    found = [any(company.startswith(owners[s]) and s in page for company, page in pages) for s in q["segments"]]
    return {"id": q["id"], "correct": correct, "lenient": lenient, "evidence": sum(found) / len(found)}


def cross_filing(index_dir: Path, out: Path | None) -> int:
    from finrag.sample.generate import generate_samples

    questions = [json.loads(x) for x in CROSS_FILING.read_text().splitlines() if x.strip()]
    universe = sorted({c for q in questions for c in q["companies"]})
    if not (index_dir / "qdrant").exists():
        pdfs = index_dir / "samples"
        generate_samples(pdfs)
        svc = QAService(Settings(data_dir=index_dir))
        try:
            svc.ingest([pdfs])
        finally:
            svc.close()
    rows: dict[str, list[dict[str, Any]]] = {"default": [], "default + graph retrieval route": [], "graph answers": []}
    ms: dict[str, list[float]] = {name: [] for name in rows}
    base = Settings(data_dir=index_dir)
    for name, changes in (
        ("default", {}),
        ("default + graph retrieval route", {"graph": True}),
        ("graph answers", {"graph_answers": True}),
    ):
        settings = base.model_copy(update={"retrieval": base.retrieval.model_copy(update=changes)})
        svc = QAService(settings)
        try:
            company = {d.doc_id: d.filing.company for d in svc.documents()}
            for q in questions:
                t = time.perf_counter()
                answer = svc.ask(q["question"])
                ms[name].append((time.perf_counter() - t) * 1000)
                cited = [c.doc_id for c in answer.citations]
                texts = {
                    c.doc_id + str(c.page): (company.get(c.doc_id, ""), _page_text(svc, c.doc_id, c.page - 1))
                    for c in answer.citations
                }
                graded = grade(q, answer.text, list(texts.values()), universe)
                rows[name].append({**graded, "pipeline": answer.pipeline, "cited_docs": len(set(cited))})
        finally:
            svc.close()
    day = time.strftime("%Y-%m-%d")
    table = Table(title=f"cross-filing questions over the sample filings ({len(questions)}), {day}")
    cols = (
        "config",
        "answers correct",
        "correct, citations count",
        "evidence cited (per segment)",
        "p50 ms",
        "pipelines",
    )
    for col in cols:
        table.add_column(col, justify="right")
    report: dict[str, Any] = {}
    for name, rs in rows.items():
        lat = sorted(ms[name])
        correct = sum(r["correct"] for r in rs)
        lenient = sum(r["lenient"] for r in rs)
        evidence = sum(r["evidence"] for r in rs) / len(rs)
        pipes: dict[str, int] = {}
        for r in rs:
            pipes[r["pipeline"]] = pipes.get(r["pipeline"], 0) + 1
        p50 = lat[len(lat) // 2]
        report[name] = {
            "correct": correct,
            "lenient": lenient,
            "n": len(rs),
            "evidence": round(evidence, 3),
            "p50_ms": p50,
        }
        table.add_row(name, f"{correct}/{len(rs)}", f"{lenient}/{len(rs)}", f"{evidence:.3f}", f"{p50:.0f}", str(pipes))
    console.print(table)
    if out:
        out.write_text(json.dumps({"summary": report, "rows": rows}, indent=1), encoding="utf-8")
    return 0


def _page_text(svc: QAService, doc_id: str, page: int) -> str:
    chunks = svc.c.store.page_chunks(svc.settings.tenant, doc_id, [page])
    return chunks[0].text if chunks else ""


if __name__ == "__main__":
    sys.exit(main())
