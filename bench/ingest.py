"""Ingest benchmark: stage throughput, pages/s, total minutes, peak RSS, and the embed stage against
the raw model throughput measured in the same run; optionally the unoptimised path for a ratio.

    python bench/ingest.py --pdf-dir ../shared/financebench/pdfs                 # all filings, default path
    python bench/ingest.py --pdf-dir ../shared/financebench/pdfs --limit 6 --baseline   # + torch, no pool
    python bench/ingest.py --pdf-dir ../shared/financebench/pdfs \
        --questions ../shared/financebench/questions_dev.jsonl --reference-index ~/.cache/finrag/fb-torch

With --compare-chunking, a fixed slice of pages (--slice-pages, from filings spread over the corpus) is
chunked the old way (every exhibit passage, running headers kept) and with the token levers (the current
settings, or both levers on when the settings leave them off), and both are embedded
back to back with the same warm model (each twice, alternating; the faster of each pair counts): word pieces,
children and embed seconds per page, and the ratio new/old measured in the same conditions.

GPU path (bench/gpu.sh): --device cuda --embedder onnx --cpu-reference builds the index on the GPU and, in
the same run, the CPU int8 reference over the same files; both get pages/s and (with --questions) recall.

With --questions, the dev page recall@5 of the index just built is printed beside that of a reference
index (e.g. one built with the torch fp32 model), evaluated in the same run with the same retriever.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from rich.console import Console
from rich.table import Table

from finrag.embed import build_ingest_embedder
from finrag.ingest.chunk import dense_view
from finrag.ingest.pipeline import ChunkOptions, IngestReport, discover
from finrag.records import ChunkKind, Filing, Page
from finrag.service import QAService
from finrag.settings import Settings

console = Console(width=240)  # the table must not be cut when stdout is a file


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(files: list[Path], data_dir: Path, **overrides: object) -> tuple[IngestReport, QAService]:
    settings = Settings(data_dir=data_dir, **overrides)  # type: ignore[arg-type]
    service = QAService(settings)
    service.pipeline.warm_up()  # the model's load stays out of the timing (and the bulk embedder, if any, is used)
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
        parsed = _parse_and_chunk(str(f), "bench", "bench", options(service.settings), FilingOverrides(), f.stem)
        texts += [dense_view(c.index_text) for c in parsed.chunks if c.kind != ChunkKind.PAGE]
    texts = random.Random(seed).sample(texts, min(n, len(texts)))
    t0 = time.perf_counter()
    service.pipeline.document_embedder.embed_documents(texts)
    return len(texts) / (time.perf_counter() - t0)


def options(settings: Settings, **changes: object) -> ChunkOptions:
    base = ChunkOptions(
        settings.child_max_tokens, settings.metadata_prefix, settings.exhibit_passages, settings.strip_running_lines
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def page_slice(files: list[Path], pages: int) -> list[tuple[str, Filing, list[Page]]]:
    """About `pages` pages: whole filings taken at an even stride over the corpus (so 10-Ks, 10-Qs, 8-Ks
    and long exhibit tails all appear), the last one cut to fit."""
    from finrag.ingest.describe import CoverPageDescriber
    from finrag.ingest.parse import PdfiumParser

    out: list[tuple[str, Filing, list[Page]]] = []
    total = 0
    for f in files[:: max(1, len(files) // 12)] + files:
        if total >= pages:
            break
        if any(name == f.stem for name, _, _ in out):
            continue
        parsed = list(PdfiumParser().parse(f))[: pages - total]
        out.append((f.stem, CoverPageDescriber().describe(parsed[:5], f.name), parsed))
        total += len(parsed)
    return out


def compare_chunking(files: list[Path], pages: int) -> None:
    """Old vs current chunking on one page slice: word pieces and embed time per page, same warm model."""
    from finrag.ingest.chunk import FilingChunker

    settings = Settings()
    service = QAService(Settings(data_dir=Path(tempfile.mkdtemp(prefix="finrag-bench-"))))
    embedder = service.c.embedder
    embedder.warm_up()
    sl = page_slice(files, pages)
    n_pages = sum(len(p) for _, _, p in sl)
    old = options(settings, exhibit_passages=-1, strip_running_lines=False)
    new = options(settings)
    if new == old:  # the levers are off by default: compare with both on
        new = options(settings, exhibit_passages=1, strip_running_lines=True)
    configs = {
        "old (all exhibit passages, running lines kept)": old,
        f"exhibit_passages={new.exhibit_passages}, strip_running_lines={new.strip_running_lines}": new,
    }
    texts: dict[str, list[str]] = {}
    for name, opt in configs.items():
        chunker = FilingChunker(
            max_tokens=opt.max_tokens,
            with_prefix=opt.with_prefix,
            exhibit_passages=opt.exhibit_passages,
            strip_running_lines=opt.strip_running_lines,
        )
        texts[name] = [
            dense_view(c.index_text)
            for doc, filing, pg in sl
            for c in chunker.chunk("bench", "bench", doc, filing, pg)
            if c.kind != ChunkKind.PAGE
        ]
    best = dict.fromkeys(configs, float("inf"))
    for _ in range(2):
        for name in configs:
            t0 = time.perf_counter()
            embedder.embed_documents(texts[name])
            best[name] = min(best[name], time.perf_counter() - t0)
    table = Table(title=f"chunking old vs levers: {n_pages} pages of {len(sl)} filings, same warm model")
    for col in ("chunking", "children/page", "word pieces/page", "embed s", "embed pages/s", "ratio new/old"):
        table.add_column(col, justify="right")
    first = next(iter(configs))
    for name in configs:
        unique = list(dict.fromkeys(texts[name]))
        pieces = sum(min(n, embedder.max_tokens) for n in embedder.token_lengths(unique))
        table.add_row(
            name, f"{len(texts[name]) / n_pages:.2f}", f"{pieces / n_pages:.0f}", f"{best[name]:.1f}",
            f"{n_pages / best[name]:.1f}", f"{best[name] / best[first]:.3f}",
        )  # fmt: skip
    console.print(table)
    service.close()


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
    ap.add_argument(
        "--ingest-embedder",
        default=None,
        choices=("auto", "same", "torch-bf16"),
        help="FINRAG_INGEST_EMBEDDER of the run (default: the settings')",
    )
    ap.add_argument("--keep", type=Path, default=None, help="keep the index in this folder")
    ap.add_argument("--questions", type=Path, default=None, help="FinanceBench questions: recall check of the index")
    ap.add_argument("--reference-index", type=Path, default=None, help="index built by the unoptimised model")
    ap.add_argument("--reference-embedder", default="torch", help="embedder that built --reference-index")
    ap.add_argument("--device", default="cpu", choices=("cpu", "auto", "cuda"), help="FINRAG_DEVICE of the run")
    ap.add_argument("--cpu-reference", action="store_true", help="also build with onnx-int8 on CPU in this run")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    ap.add_argument("--compare-chunking", action="store_true", help="old vs token-lever chunking on a page slice")
    ap.add_argument("--slice-pages", type=int, default=1000)
    args = ap.parse_args()

    files = discover([args.pdf_dir])
    if args.limit:
        files = files[: args.limit]
    if args.compare_chunking:
        compare_chunking(files, args.slice_pages)
        return 0
    rows: list[tuple[str, IngestReport, float, float]] = []
    tmp = Path(tempfile.mkdtemp(prefix="finrag-bench-"))
    recall_rows: list[tuple[str, dict[str, float]]] = []
    try:
        label = args.embedder if args.device == "cpu" else f"{args.embedder} {args.device}"
        main_config: dict[str, object] = {"embedder": args.embedder, "parse_workers": 1, "device": args.device}
        if args.ingest_embedder:
            main_config["ingest_embedder"] = args.ingest_embedder
        documents = build_ingest_embedder(Settings(**main_config))  # type: ignore[arg-type]
        if documents is not None:
            label += f", documents {documents.backend}"
        configs = [(label, main_config)]
        if args.cpu_reference:
            configs.append(
                (
                    "onnx-int8 cpu (reference)",
                    {"embedder": "onnx-int8", "ingest_embedder": "same", "parse_workers": 1, "device": "cpu"},
                )
            )
        if args.baseline:
            configs.append(
                ("torch, no pool (baseline)", {"embedder": "torch", "ingest_embedder": "same", "parse_workers": 0})
            )
        for name, overrides in configs:
            data_dir = args.keep if (args.keep and name == label) else tmp / name.replace(" ", "_")
            report, service = run(files, data_dir, **overrides)
            docs = service.pipeline.document_embedder
            provider = getattr(docs, "provider", "") or getattr(docs, "resolved_device", "")
            console.print(f"{name}: documents embedded by {docs.name} on {provider or 'cpu'}")
            raw = raw_model_throughput(service, files)
            # Re-ingest of unchanged files: hash + registry lookups only.
            t0 = time.perf_counter()
            service.ingest(files)
            reingest_s = time.perf_counter() - t0
            if args.questions and (name == label or args.cpu_reference):
                recall_rows.append((f"{name} (built now)", recall_check(service, args.questions)))
            service.close()
            rows.append((name, report, raw, reingest_s))
        if args.questions and args.reference_index:
            ref = QAService(Settings(data_dir=args.reference_index.expanduser(), embedder=args.reference_embedder))
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
    if args.baseline and len(rows) == 2:
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
    if args.json:
        figures = {
            "files": len(files),
            "runs": [
                {"config": name, "pages": r.pages, "children": r.embedded, "wall_s": round(r.wall_s, 2),
                 "embed_s": round(r.seconds["embed"], 2), "pages_per_s": round(r.pages / max(r.wall_s, 1e-9), 2)}
                for name, r, _, _ in rows
            ],
            "recall": {name: m for name, m in recall_rows},
        }  # fmt: skip
        args.json.write_text(json.dumps(figures, indent=1))
    failed = [e for _, r, _, _ in rows for e in r.failed]
    for e in failed:
        console.print(f"[red]failed[/red] {e.path}: {e.reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
