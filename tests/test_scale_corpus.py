"""The scale corpus generator: deterministic by seed, exact page totals, filings the ingest path reads
as 10-Ks and 10-Qs of distinct companies, tables that run across pages."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from finrag.ingest.describe import CoverPageDescriber
from finrag.ingest.parse import find_tables
from finrag.records import DocType, Page
from finrag.sample.generate import DOCUMENTS_FILE, main
from finrag.sample.scale import scale_corpus


def test_same_seed_same_corpus_other_seed_other_corpus() -> None:
    a = list(scale_corpus(600, seed=3))
    b = list(scale_corpus(600, seed=3))
    c = list(scale_corpus(600, seed=4))
    assert a == b
    assert [f.text() for f in a] != [f.text() for f in c]


def test_exact_page_total_and_lengths_in_range() -> None:
    filings = list(scale_corpus(1500, seed=1, min_pages=80, max_pages=250))
    assert sum(len(f.pages) for f in filings) == 1500
    # Only the last filing is cut to make the total exact; the others are whole and in range
    # (a section may spill one page past its budget).
    assert all(80 <= len(f.pages) <= 252 for f in filings[:-1])
    assert Counter(f.form for f in filings).keys() == {"10-K", "10-Q"}
    assert len({f.doc_name for f in filings}) == len(filings)


def test_many_companies_and_years_with_distinct_tickers() -> None:
    filings = list(scale_corpus(5000, seed=0, min_pages=20, max_pages=40))
    companies = {f.company: f.ticker for f in filings}
    assert len(companies) >= 15
    assert len(set(companies.values())) == len(companies)
    assert len({f.fiscal_year for f in filings}) >= 5


def test_the_describer_reads_each_cover_page() -> None:
    for f in list(scale_corpus(1500, seed=2))[:6]:
        pages = [Page(i, t, find_tables(t)) for i, t in enumerate(f.pages[:5])]
        filing = CoverPageDescriber().describe(pages, "upload.pdf")  # no help from the file name
        assert filing.company == f.company
        assert filing.ticker == f.ticker
        assert filing.fiscal_year == f.fiscal_year
        assert filing.doc_type == (DocType.TEN_K if f.form == "10-K" else DocType.TEN_Q)
        if f.quarter:
            assert filing.fiscal_quarter == f.quarter


def test_ten_k_structure_and_tables_across_pages() -> None:
    ten_k = next(f for f in scale_corpus(1000, seed=5) if f.form == "10-K")
    text = ten_k.text()
    for item in ("Item 1. Business", "Item 1A. Risk Factors", "Item 7. Management's Discussion",
                 "Item 8. Financial Statements", "Consolidated Balance Sheets", "SIGNATURES"):  # fmt: skip
        assert item in text, item
    continued = [p for p in ten_k.pages if "(continued)" in p]
    assert continued
    tables = find_tables(continued[0])
    assert tables and len(tables[0].rows) >= 5  # the continued rows read back as a table


def test_cli_writes_page_text_and_documents(tmp_path: Path) -> None:
    assert main([str(tmp_path), "--scale-pages", "300", "--seed", "1"]) == 0
    records = [json.loads(line) for line in (tmp_path / DOCUMENTS_FILE).read_text().splitlines()]
    files = sorted(tmp_path.glob("*.txt"))
    assert len(files) == len(records)
    assert sum(len(p.read_text().split("\f")) for p in files) == sum(r["pages"] for r in records) == 300
