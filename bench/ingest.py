"""Ingest benchmark: stage throughput, pages/s, total minutes, peak RSS, and the embed stage against
the raw model throughput measured in the same run; optionally the unoptimised path for a ratio.

    python bench/ingest.py --pdf-dir ../shared/financebench/pdfs                 # all filings, default path
    python bench/ingest.py --pdf-dir ../shared/financebench/pdfs --limit 6 --baseline   # + torch, no pool
    python bench/ingest.py --pdf-dir ../shared/financebench/pdfs \
        --questions ../shared/financebench/questions_dev.jsonl --reference-index ~/.cache/finrag/fb-torch

With --questions, the dev page recall@5 of the index just built is printed beside that of a reference
index (e.g. one built with the torch fp32 model), evaluated in the same run with the same retriever.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from rich.console import Console
from rich.table import Table

from finrag.ingest.chunk import dense_view
from finrag.ingest.pipeline import IngestReport, discover
from finrag.records import ChunkKind
from finrag.service import QAService
from finrag.settings import Settings

console = Console(width=240)  # the table must not be cut when stdout is a file


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(files: list[Path], data_dir: Path, **overrides: object) -> tuple[IngestReport, QAService]:
    settings = Settings(data_dir=data_dir, **overrides)  # type: ignore[arg-type]
    service = QAService(settings)
    service.c.embedder.warm_up()
    report = service.ingest(files)
    return report, service


def raw_model_throughput(service: QAService, files: list[Path], n: int = 1024, seed: int = 0) -> float:
    """Children/s of the embedder alone on the kind of texts the pipeline embeds: a random sample of the
    children of filings spread over the whole corpus (the first filings alone are not representative)."""
    import random

    from finrag.ingest.pipeline import FilingOverrides, _parse_and_chunk

    step = max(1, len(files) // 8)
    texts: list[str] = []
    for f in files[::step][:8]:
        parsed = _parse_and_chunk(str(f), "bench", "bench", service.settings.child_max_tokens, True, FilingOverrides())
        texts += [dense_view(c.index_text) for c in parsed.chunks if c.kind != ChunkKind.PAGE]
    texts = random.Random(seed).sample(texts, min(n, len(texts)))
    t0 = time.perf_counter()
    service.c.embedder.embed_documents(texts)
    return len(texts) / (time.perf_counter() - t0)


def recall_check(service: QAService, questions: Path) -> dict[str, float]:
    """FinanceBench dev retrieval metrics of this service's index (question text only)."""
    from finrag.eval.financebench import evaluate
    from finrag.eval.metrics import load_questions

    report = evaluate(service, load_questions(questions))
    return {k: report[k] for k in ("page_recall@5", "doc_recall@5", "mrr")}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pdf-dir", type=Path, default=Path("../shared/financebench/pdfs"))
    ap.add_argument("--limit", type=int, default=0, help="only the first N filings")
    ap.add_argument("--baseline", action="store_true", help="also run the unoptimised path (torch, no worker)")
    ap.add_argument("--embedder", default="onnx-int8")
    ap.add_argument("--keep", type=Path, default=None, help="keep the index in this folder")
    ap.add_argument("--questions", type=Path, default=None, help="FinanceBench questions: recall check of the index")
    ap.add_argument("--reference-index", type=Path, default=None, help="index built by the unoptimised model")
    args = ap.parse_args()

    files = discover([args.pdf_dir])
    if args.limit:
        files = files[: args.limit]
    rows: list[tuple[str, IngestReport, float, float]] = []
    tmp = Path(tempfile.mkdtemp(prefix="finrag-bench-"))
    recall_rows: list[tuple[str, dict[str, float]]] = []
    try:
        configs = [(args.embedder, {"embedder": args.embedder, "parse_workers": 1})]
        if args.baseline:
            configs.append(("torch, no pool (baseline)", {"embedder": "torch", "parse_workers": 0}))
        for name, overrides in configs:
            data_dir = args.keep if (args.keep and name == args.embedder) else tmp / name.split()[0]
            report, service = run(files, data_dir, **overrides)
            raw = raw_model_throughput(service, files)
            # Re-ingest of unchanged files: hash + registry lookups only.
            t0 = time.perf_counter()
            service.ingest(files)
            reingest_s = time.perf_counter() - t0
            if args.questions and name == args.embedder:
                recall_rows.append((f"{name} (built now)", recall_check(service, args.questions)))
            service.close()
            rows.append((name, report, raw, reingest_s))
        if args.questions and args.reference_index:
            ref = QAService(Settings(data_dir=args.reference_index.expanduser(), embedder="torch"))
            recall_rows.append((f"reference {args.reference_index}", recall_check(ref, args.questions)))
            ref.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    table = Table(title=f"ingest: {len(files)} filings ({time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores)")
    for col in ("config", "pages", "children", "parse s", "chunk s", "embed s", "sparse s", "index s", "wall s",
                "pages/s", "minutes", "embed/s", "raw model/s", "embed share", "re-ingest s"):  # fmt: skip
        table.add_column(col, justify="right")
    for name, r, raw, re_s in rows:
        embed_rate = r.embedded / r.seconds["embed"] if r.seconds["embed"] else 0.0
        table.add_row(
            name, str(r.pages), str(r.embedded),
            *(f"{r.seconds[k]:.1f}" for k in ("parse", "chunk", "embed", "sparse", "index")),
            f"{r.wall_s:.1f}", f"{r.pages / r.wall_s:.1f}", f"{r.wall_s / 60:.2f}",
            f"{embed_rate:.1f}", f"{raw:.1f}", f"{embed_rate / raw:.0%}" if raw else "-", f"{re_s:.2f}",
        )  # fmt: skip
    console.print(table)
    if len(rows) == 2:
        opt, base = rows[0][1], rows[1][1]
        per_chunk = [r.seconds["embed"] / max(r.embedded, 1) for r in (base, opt)]
        wall = base.wall_s / opt.wall_s
        console.print(f"speed-up vs baseline: {wall:.2f}x wall, {per_chunk[0] / per_chunk[1]:.2f}x embed per chunk")
    console.print(f"peak RSS (this process, incl. all runs): {peak_rss_mb():.0f} MB")
    if recall_rows:
        rt = Table(title=f"recall check: {args.questions.name}")
        for col in ("index", "page recall@5", "doc recall@5", "MRR", "delta page recall@5"):
            rt.add_column(col, justify="right")
        base_recall = recall_rows[-1][1]["page_recall@5"]
        for name, m in recall_rows:
            rt.add_row(name, f"{m['page_recall@5']:.3f}", f"{m['doc_recall@5']:.3f}", f"{m['mrr']:.3f}",
                       f"{m['page_recall@5'] - base_recall:+.3f}")  # fmt: skip
        console.print(rt)
    failed = [e for _, r, _, _ in rows for e in r.failed]
    for e in failed:
        console.print(f"[red]failed[/red] {e.path}: {e.reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
