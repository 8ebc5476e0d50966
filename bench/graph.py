"""Does the graph route help? Page recall@5, doc recall@5 and MRR on FinanceBench dev questions for the
default retriever, and for the same results with the graph route's pages fused in by reciprocal rank
(for the questions `is_cross_filing` flags, and for every question). The index is read as is; only the
graph JSON is written, into its graph/ folder.

    python bench/graph.py --index-dir ~/.cache/finrag/fb-v1 \\
        --questions ../shared/financebench/questions_dev.jsonl
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
    args = ap.parse_args()

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


if __name__ == "__main__":
    sys.exit(main())
