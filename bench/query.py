"""Query benchmark: retrieval latency p50/p95/p99 per stage over an existing index, the serving
process's RSS, and the same questions against the unoptimised settings measured in the same run.

    python bench/query.py --index-dir ~/.cache/finrag/financebench \\
        --questions ../shared/financebench/questions_dev.jsonl --repeat 3
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from rich.console import Console
from rich.table import Table

from finrag.eval.metrics import load_questions
from finrag.service import QAService
from finrag.settings import RetrievalSettings, Settings

console = Console()


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(p * len(values)))] if values else 0.0


def measure(service: QAService, questions: list[str], repeat: int) -> dict[str, list[float]]:
    stages: dict[str, list[float]] = {"total": []}
    for _ in range(repeat):
        for q in questions:
            t0 = time.perf_counter()
            result = service.retrieve(q, top_k=5)
            stages["total"].append((time.perf_counter() - t0) * 1000)
            for k, v in result.timings_ms.items():
                stages.setdefault(k, []).append(v)
    return stages


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index-dir", type=Path, default=Path.home() / ".cache" / "finrag" / "financebench")
    ap.add_argument("--questions", type=Path, default=Path("../shared/financebench/questions_dev.jsonl"))
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    questions = [q.question for q in load_questions(args.questions)]
    rss_before = rss_mb()
    service = QAService(Settings(data_dir=args.index_dir))
    service.retrieve(questions[0])  # warm-up: model, shard, resolver
    rows = []
    configs = [
        ("default", service.settings.retrieval),
        ("bare hybrid (no scope/rewrite/rerank/merge)",
         RetrievalSettings(scope=False, glossary=False, rerank="none", automerge=False)),
    ]  # fmt: skip
    from finrag.retrieve.rerank import build_reranker
    from finrag.retrieve.retriever import Retriever

    for name, rs in configs:
        service.retriever = Retriever(
            service.c.store, service.c.embedder, service.c.sparse, service.c.registry, rs,
            build_reranker(rs.rerank, rs.cross_encoder_model),
        )  # fmt: skip
        rows.append((name, measure(service, questions, args.repeat)))
    serving_rss = rss_mb()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    service.close()

    table = Table(title=f"retrieval latency, {len(questions)} questions x {args.repeat} ({time.strftime('%Y-%m-%d')})")
    for col in ("config", "stage", "p50 ms", "p95 ms", "p99 ms", "mean ms"):
        table.add_column(col, justify="right")
    for name, stages in rows:
        for stage, values in stages.items():
            figures = [statistics.median(values), pct(values, 0.95), pct(values, 0.99), statistics.mean(values)]
            table.add_row(name if stage == "total" else "", stage, *(f"{v:.1f}" for v in figures))
    console.print(table)
    console.print(f"serving RSS: {serving_rss:.0f} MB (before loading: {rss_before:.0f} MB; peak {peak:.0f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
