"""Deterministic generator of realistic, clearly fictional SEC filings (10-K, 10-Q, 8-K) as PDFs.

Why it exists: the README demo needs filings that users can ingest without real documents at hand, and
the evaluation needs a golden question set whose evidence pages are known exactly. So:

* every figure comes from a small driver model per company (a few ratios and cash decisions per year), and
  the statements are derived from it with accounting identities, so they tie out by construction: the
  balance sheet balances, cash rolls forward, the FY2023 filing's prior-year column is the FY2022 filing's
  current-year column;
* the PDF writer records the page of every table row and keyed sentence while it writes, and the golden
  questions point at those records, so evidence pages are never typed by hand;
* table rows are drawn one row per line (label left, right-aligned numeric columns) so that PDF text
  extraction keeps each row on one line, the way real EDGAR-rendered filings extract.

The parts: `companies` (+ companies.toml), `model` (the financial model), `pdf` (the writer and statement
rows), `forms` and `ten_k` (the form templates), `golden` (the questions); this module assembles them.

Usage: ``python -m finrag.sample.generate OUT_DIR`` or :func:`generate_samples`.

Scale corpora (`finrag.sample.scale`): ``python -m finrag.sample.generate OUT_DIR --scale-pages 100000
--seed 7`` writes that many pages of 10-K / 10-Q filings as page text (one ``NAME.txt`` per filing,
pages separated by form feeds, plus documents.jsonl), not PDFs: see that module for why.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from finrag.sample.companies import COMPANIES, EIGHT_K_COMPANY, FILING_YEARS, INJECTED, TEN_Q_COMPANY
from finrag.sample.forms import GeneratedDoc, build_8k, build_10q
from finrag.sample.golden import Golden, golden_questions, golden_record
from finrag.sample.model import build_financials
from finrag.sample.ten_k import INJECTION_TEXT, build_10k

GOLDEN_FILE = "golden.jsonl"
DOCUMENTS_FILE = "documents.jsonl"


def _document_record(doc: GeneratedDoc) -> dict[str, object]:
    record: dict[str, object] = {
        "doc_name": doc.doc_name,
        "company": doc.company,
        "company_sector_gics": doc.sector,
        "doc_type": doc.doc_type,
        "doc_period": doc.period,
        "doc_link": "",
        "pages": doc.pdf.pages_count,
    }
    record.update(doc.extra)
    return record


# ---------------------------------------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------------------------------------


def build_documents() -> tuple[list[GeneratedDoc], list[Golden]]:
    fins = {spec.key: build_financials(spec) for spec in COMPANIES}
    docs: dict[tuple[str, str, int], GeneratedDoc] = {}
    for spec in COMPANIES:
        for year in FILING_YEARS:
            docs[(spec.key, "10k", year)] = build_10k(spec, fins[spec.key], year)
    docs[(TEN_Q_COMPANY.key, "10q", 2023)] = build_10q(TEN_Q_COMPANY, fins[TEN_Q_COMPANY.key])
    docs[(EIGHT_K_COMPANY.key, "8k", 2023)] = build_8k(EIGHT_K_COMPANY, fins[EIGHT_K_COMPANY.key])
    injected = docs[(INJECTED.key, "10k", FILING_YEARS[-1])]
    injected.extra["prompt_injection"] = {
        "evidence_page_num": injected.anchors["mdna:injection"].page,
        "text": INJECTION_TEXT,
    }
    return list(docs.values()), golden_questions(docs, fins)


def generate_samples(out_dir: Path) -> list[Path]:
    """Write the sample PDFs plus golden.jsonl and documents.jsonl into out_dir; return the PDF paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    docs, golden = build_documents()
    paths = []
    for doc in docs:
        path = out_dir / f"{doc.doc_name}.pdf"
        doc.pdf.output(str(path))
        paths.append(path)
    with (out_dir / DOCUMENTS_FILE).open("w", encoding="utf-8") as fh:
        for doc in docs:
            fh.write(json.dumps(_document_record(doc)) + "\n")
    with (out_dir / GOLDEN_FILE).open("w", encoding="utf-8") as fh:
        for i, g in enumerate(golden, start=1):
            fh.write(json.dumps(golden_record(i, g)) + "\n")
    return paths


def generate_scale(out_dir: Path, pages: int, seed: int = 0, min_pages: int = 80, max_pages: int = 250) -> list[Path]:
    """Write a scale corpus of `pages` pages as page text (NAME.txt, pages split by form feeds) plus
    documents.jsonl; return the text files."""
    from finrag.sample.scale import scale_corpus

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    with (out_dir / DOCUMENTS_FILE).open("w", encoding="utf-8") as fh:
        for f in scale_corpus(pages, seed, min_pages, max_pages):
            path = out_dir / f"{f.doc_name}.txt"
            path.write_text(f.text(), encoding="utf-8")
            paths.append(path)
            record = {"doc_name": f.doc_name, "company": f.company, "ticker": f.ticker, "doc_type": f.form,
                      "doc_period": f.fiscal_year, "quarter": f.quarter, "pages": len(f.pages)}  # fmt: skip
            fh.write(json.dumps(record) + "\n")
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m finrag.sample.generate", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--scale-pages", type=int, default=0, help="write a scale corpus of this many pages (page text)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--min-pages", type=int, default=80)
    ap.add_argument("--max-pages", type=int, default=250)
    args = ap.parse_args(list(sys.argv[1:] if argv is None else argv))
    if args.scale_pages:
        t0 = time.perf_counter()
        paths = generate_scale(args.out_dir, args.scale_pages, args.seed, args.min_pages, args.max_pages)
        took = time.perf_counter() - t0
        print(f"{len(paths)} filings, {args.scale_pages} pages in {took:.1f} s ({args.scale_pages / took:.0f} pages/s)")
        return 0
    for path in generate_samples(args.out_dir):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
