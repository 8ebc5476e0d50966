"""How well CoverPageDescriber reads company / form / fiscal year from CONTENT alone.

Compares against FinanceBench's documents.jsonl (evaluation only: nothing from it is copied into
the repository). The describer gets an empty file name, so no file-name fallback can help.

    python bench/metadata_accuracy.py --pdf-dir ../shared/financebench/pdfs \
        --documents ../shared/financebench/documents.jsonl
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from finrag.ingest.describe import CoverPageDescriber
from finrag.ingest.parse import PdfiumParser
from finrag.protocols import ParseError
from finrag.records import DocType, Filing

log = logging.getLogger(__name__)

# FinanceBench's doc_type spellings -> ours.
_THEIR_TYPES = {
    "10k": DocType.TEN_K,
    "10q": DocType.TEN_Q,
    "8k": DocType.EIGHT_K,
    "earnings": DocType.EARNINGS,
    "annualreport": DocType.ANNUAL_REPORT,
}


def norm_company(name: str) -> str:
    """Case, spacing and punctuation do not count; "&" and "and" are the same word."""
    name = name.casefold().replace("&", " and ")
    name = re.sub(r"[^\w\s]", " ", name)
    return " ".join(name.split())


def norm_type(value: str) -> DocType | None:
    return _THEIR_TYPES.get(re.sub(r"[^a-z0-9]", "", value.lower()))


@dataclass
class Row:
    doc: str
    expected_company: str
    expected_type: str
    expected_year: int | None
    filing: Filing | None
    error: str = ""

    @property
    def company_ok(self) -> bool:
        if self.filing is None:
            return False
        names = {norm_company(n) for n in [self.filing.company, *self.filing.aliases] if n}
        return norm_company(self.expected_company) in names

    @property
    def type_ok(self) -> bool:
        return self.filing is not None and norm_type(self.expected_type) == self.filing.doc_type

    @property
    def year_ok(self) -> bool:
        return self.filing is not None and self.expected_year == self.filing.fiscal_year


def evaluate(pdf_dir: Path, documents: Path, pages: int) -> tuple[list[Row], float]:
    parser = PdfiumParser()
    describer = CoverPageDescriber()
    rows: list[Row] = []
    started = time.perf_counter()
    for line in documents.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        doc = json.loads(line)
        path = pdf_dir / f"{doc['doc_name']}.pdf"
        period = doc.get("doc_period")
        expected_year = int(period) if period not in (None, "") else None
        row = Row(doc["doc_name"], doc["company"], doc["doc_type"], expected_year, None)
        if not path.exists():
            row.error = "pdf missing"
        else:
            try:
                first: list = []
                for page in parser.parse(path):
                    first.append(page)
                    if len(first) >= pages:
                        break
                row.filing = describer.describe(first, file_name="")  # content only
            except ParseError as exc:
                row.error = str(exc)
        rows.append(row)
    return rows, time.perf_counter() - started


def report(rows: list[Row], seconds: float, console: Console) -> float:
    detail = Table(title="Content-only metadata (file name withheld)", show_lines=False)
    for col in ("doc", "company (ours)", "type", "year", "ok c/t/y"):
        detail.add_column(col)
    for r in rows:
        f = r.filing
        marks = "".join("✓" if ok else "✗" for ok in (r.company_ok, r.type_ok, r.year_ok))
        style = None if marks == "✓✓✓" else "red"
        detail.add_row(
            r.doc,
            (f.company if f else r.error)[:40],
            str(f.doc_type) if f else "",
            str(f.fiscal_year) if f else "",
            marks,
            style=style,
        )
    console.print(detail)

    n = len(rows) or 1
    summary = Table(title=f"Accuracy over {len(rows)} filings ({seconds:.1f} s)")
    summary.add_column("field")
    summary.add_column("correct", justify="right")
    summary.add_column("accuracy", justify="right")
    scores = {
        "company (name or alias)": sum(r.company_ok for r in rows),
        "doc type": sum(r.type_ok for r in rows),
        "fiscal year": sum(r.year_ok for r in rows),
        "all three": sum(r.company_ok and r.type_ok and r.year_ok for r in rows),
    }
    for name, ok in scores.items():
        summary.add_row(name, f"{ok}/{len(rows)}", f"{100 * ok / n:.1f} %")
    console.print(summary)

    console.print("[bold]Mismatches[/bold]")
    for r in rows:
        f = r.filing
        problems = []
        if not r.company_ok:
            got = f"{f.company!r} aliases={f.aliases}" if f else r.error
            problems.append(f"company: expected {r.expected_company!r}, got {got}")
        if not r.type_ok:
            problems.append(f"doc type: expected {r.expected_type!r}, got {f.doc_type if f else None}")
        if not r.year_ok:
            problems.append(f"year: expected {r.expected_year}, got {f.fiscal_year if f else None}")
        if problems:
            console.print(f"  {r.doc}: " + "; ".join(problems))
    return min(scores["company (name or alias)"], scores["doc type"], scores["fiscal year"]) / n


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pdf-dir", type=Path, default=Path("../shared/financebench/pdfs"))
    ap.add_argument("--documents", type=Path, default=Path("../shared/financebench/documents.jsonl"))
    ap.add_argument("--pages", type=int, default=5, help="leading pages given to the describer (ingest gives 5)")
    ap.add_argument("--min-accuracy", type=float, default=0.0, help="exit 1 below this (0-1) on any field")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    rows, seconds = evaluate(args.pdf_dir, args.documents, args.pages)
    worst = report(rows, seconds, Console())
    return 0 if worst >= args.min_accuracy else 1


if __name__ == "__main__":
    sys.exit(main())
