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
"""

from __future__ import annotations

import json
import sys
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


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m finrag.sample.generate OUT_DIR", file=sys.stderr)
        return 2
    for path in generate_samples(Path(args[0])):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
