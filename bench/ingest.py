"""Ingest benchmark: stage throughput, pages/s, total minutes, peak RSS, and the embed stage against
the raw model throughput measured in the same run; optionally the unoptimised path for a ratio.

    python bench/ingest.py --pdf-dir ../shared/financebench/pdfs                 # all filings, default path
    python bench/ingest.py --pdf-dir ../shared/financebench/pdfs --limit 6 --baseline   # + torch, no pool
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

console = Console()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(files: list[Path], data_dir: Path, **overrides: object) -> tuple[IngestReport, QAService]:
    settings = Settings(data_dir=data_dir, **overrides)  # type: ignore[arg-type]
    service = QAService(settings)
    service.c.embedder.warm_up()
    report = service.ingest(files)
    return report, service


def raw_model_throughput(service: QAService, files: list[Path], n: int = 512) -> float:
    """Children/s of the embedder alone on real chunks of these filings (same texts the pipeline embeds)."""
    from finrag.ingest.pipeline import FilingOverrides, _parse_and_chunk

    texts: list[str] = []
    for f in files:
        parsed = _parse_and_chunk(str(f), "bench", "bench", service.settings.child_max_tokens, True, FilingOverrides())
        texts += [dense_view(c.index_text) for c in parsed.chunks if c.kind != ChunkKind.PAGE]
        if len(texts) >= n:
            break
    texts = texts[:n]
    t0 = time.perf_counter()
    service.c.embedder.embed_documents(texts)
    return len(texts) / (time.perf_counter() - t0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pdf-dir", type=Path, default=Path("../shared/financebench/pdfs"))
    ap.add_argument("--limit", type=int, default=0, help="only the first N filings")
    ap.add_argument("--baseline", action="store_true", help="also run the unoptimised path (torch, no worker)")
    ap.add_argument("--embedder", default="onnx-int8")
    ap.add_argument("--keep", type=Path, default=None, help="keep the index in this folder")
    args = ap.parse_args()

    files = discover([args.pdf_dir])
    if args.limit:
        files = files[: args.limit]
    rows: list[tuple[str, IngestReport, float, float]] = []
    tmp = Path(tempfile.mkdtemp(prefix="finrag-bench-"))
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
            service.close()
            rows.append((name, report, raw, reingest_s))
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
    failed = [e for _, r, _, _ in rows for e in r.failed]
    for e in failed:
        console.print(f"[red]failed[/red] {e.path}: {e.reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
