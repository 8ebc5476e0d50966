"""The sample filings generator: PDFs open, statements tie out, golden evidence is where it says it is."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from finrag.sample.generate import (
    DOCUMENTS_FILE,
    GOLDEN_FILE,
    INJECTION_TEXT,
    GeneratedDoc,
    build_documents,
    generate_samples,
)


def norm(text: str) -> str:
    """Extraction and the writer differ only in whitespace (line wraps, justification)."""
    return " ".join(text.split())


@dataclass
class Samples:
    out: Path
    pdfs: list[Path]
    pages: dict[str, list[str]]  # doc_name -> extracted text per page
    golden: list[dict]
    documents: list[dict]


def extract(path: Path) -> list[str]:
    pdf = pdfium.PdfDocument(path)
    try:
        return [pdf[i].get_textpage().get_text_range() for i in range(len(pdf))]
    finally:
        pdf.close()


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Samples:
    out = tmp_path_factory.mktemp("samples")
    pdfs = generate_samples(out)
    return Samples(
        out=out,
        pdfs=pdfs,
        pages={p.stem: extract(p) for p in pdfs},
        golden=read_jsonl(out / GOLDEN_FILE),
        documents=read_jsonl(out / DOCUMENTS_FILE),
    )


@pytest.fixture(scope="module")
def rebuilt() -> list[GeneratedDoc]:
    """A second, independent run of the generator (for determinism and anchor checks)."""
    docs, _ = build_documents()
    return docs


# -- row parsing on extracted text ------------------------------------------------------------------------

VALUE = re.compile(r"^(\(?\d{1,3}(?:,\d{3})*(?:\.\d+)?\)?%?|-)$")


def parse_value(token: str) -> float:
    if token == "-":
        return 0.0
    neg = token.startswith("(")
    v = float(token.strip("()%").replace(",", ""))
    return -v if neg else v


def parse_line(line: str) -> tuple[str, list[float]]:
    """Split a statement line into its label and its trailing numeric columns ('$' cells dropped)."""
    tokens = line.split()
    values: list[float] = []
    while tokens and (VALUE.match(tokens[-1]) or tokens[-1] == "$"):
        tok = tokens.pop()
        if tok != "$":
            values.insert(0, parse_value(tok))
    return " ".join(tokens), values


def statement_rows(page_text: str) -> list[tuple[str, list[float]]]:
    rows = [parse_line(line) for line in page_text.splitlines()]
    return [(label, values) for label, values in rows if label and values]


def row(page_text: str, label: str, nth: int = 0) -> list[float]:
    hits = [values for lab, values in statement_rows(page_text) if lab == label]
    assert len(hits) > nth, f"row {label!r} not found"
    return hits[nth]


def find_page(pages: list[str], title: str) -> str:
    hits = [text for text in pages if title in text]
    assert len(hits) == 1, (title, len(hits))
    return hits[0]


def ten_ks(samples: Samples) -> dict[str, list[str]]:
    return {name: pages for name, pages in samples.pages.items() if name.endswith("_10K")}


# -- files ------------------------------------------------------------------------------------------------


def test_files_open_and_match_documents_index(samples: Samples) -> None:
    kinds = sorted(d["doc_type"] for d in samples.documents)
    assert kinds == ["10k"] * 6 + ["10q", "8k"]
    assert {d["doc_name"] for d in samples.documents} == set(samples.pages)
    for doc in samples.documents:
        pages = samples.pages[doc["doc_name"]]
        assert len(pages) == doc["pages"]
        assert doc["doc_period"] in (2022, 2023)
        assert all(text.strip() for text in pages), doc["doc_name"]
        if doc["doc_type"] == "10k":
            assert 10 <= len(pages) <= 14, (doc["doc_name"], len(pages))
    assert len({d["company"] for d in samples.documents}) == 3


def test_ten_k_cover_pages_look_like_sec_filings(samples: Samples) -> None:
    fiscal_ends = set()
    for name, pages in ten_ks(samples).items():
        cover = norm(pages[0])
        for needle in (
            "UNITED STATES",
            "SECURITIES AND EXCHANGE COMMISSION",
            "FORM 10-K",
            "ANNUAL REPORT PURSUANT TO SECTION 13 OR 15(d)",
            "Commission File Number",
            "(Exact name of registrant as specified in its charter)",
            "Title of each class Trading Symbol(s) Name of each exchange on which registered",
        ):
            assert needle in cover, (name, needle)
        match = re.search(r"For the fiscal year ended (\w+ \d+), (\d{4})", cover)
        assert match and match.group(2) == name.split("_")[1], name
        fiscal_ends.add(match.group(1))
        assert "TABLE OF CONTENTS" in pages[2]
        assert sum("Table of Contents" in text for text in pages) >= 8  # header lines on body pages
        for i, text in enumerate(pages):  # footers carry one-based page numbers
            assert text.splitlines()[-2].strip() == str(i + 1), (name, i)
    assert fiscal_ends == {"December 31", "June 30"}


def test_former_name_and_other_forms(samples: Samples) -> None:
    bluefin_2022 = norm(samples.pages["BLUEFINFOODS_2022_10K"][0])
    assert "Bluefin Seafood Holdings, Inc. (Former name" in bluefin_2022
    assert "formerly known as Bluefin Seafood Holdings, Inc." in norm(" ".join(samples.pages["BLUEFINFOODS_2023_10K"]))
    tenq = norm(samples.pages["NORTHWINDROBOTICS_2023Q3_10Q"][0])
    assert "FORM 10-Q" in tenq and "For the quarterly period ended September 30, 2023" in tenq
    eightk = norm(" ".join(samples.pages["CEDARRIDGEENERGY_2023_8K_dated-2023-11-14"]))
    assert "FORM 8-K" in eightk and "Item 1.01 Entry into a Material Definitive Agreement" in eightk


# -- statements tie out -----------------------------------------------------------------------------------


def test_balance_sheets_balance(samples: Samples) -> None:
    with_balance_sheets = {n: p for n, p in samples.pages.items() if "_8K_" not in n}
    assert len(with_balance_sheets) == 7
    for name, pages in with_balance_sheets.items():
        bs = find_page(pages, "Consolidated Balance Sheets")
        assert "2023 2022" in bs or "2022 2021" in bs
        assets = row(bs, "Total assets")
        assert assets == row(bs, "Total liabilities and shareholders' equity"), name
        current = [row(bs, lab) for lab in ("Cash and cash equivalents", "Accounts receivable, net")]
        current += [row(bs, "Inventories"), row(bs, "Prepaid expenses and other current assets")]
        assert [sum(c) for c in zip(*current, strict=True)] == row(bs, "Total current assets"), name
        parts = [row(bs, lab) for lab in ("Total current assets", "Property, plant and equipment, net")]
        parts += [row(bs, "Goodwill"), row(bs, "Other assets")]
        assert [sum(c) for c in zip(*parts, strict=True)] == assets, name
        liabilities_and_equity = [row(bs, "Total liabilities"), row(bs, "Total shareholders' equity")]
        assert [sum(c) for c in zip(*liabilities_and_equity, strict=True)] == assets, name


def test_cash_flows_are_consistent(samples: Samples) -> None:
    for name, pages in ten_ks(samples).items():
        cf = find_page(pages, "Consolidated Statements of Cash Flows")
        bs = find_page(pages, "Consolidated Balance Sheets")
        income = find_page(pages, "Consolidated Statements of Income")
        rows = dict(statement_rows(cf))
        totals = {
            kind: next(v for lab, v in rows.items() if lab.endswith(f"{kind} activities"))
            for kind in ("operating", "investing", "financing")
        }
        net = rows["Net increase (decrease) in cash and cash equivalents"]
        for col in range(2):
            assert sum(t[col] for t in totals.values()) == net[col], name
            assert (
                rows["Cash and cash equivalents at beginning of year"][col] + net[col]
                == (rows["Cash and cash equivalents at end of year"][col])
            ), name
        assert rows["Cash and cash equivalents at end of year"] == row(bs, "Cash and cash equivalents")
        assert rows["Net income"] == row(income, "Net income"), name
        # Operating section: every line from net income down to the subtotal adds up.
        labels = [lab for lab, _ in statement_rows(cf)]
        start, end = labels.index("Net income"), next(i for i, lab in enumerate(labels) if "operating" in lab)
        section = [v for _, v in statement_rows(cf)[start:end]]
        assert [sum(c) for c in zip(*section, strict=True)] == totals["operating"], name
        assert totals["investing"][0] < 0 and totals["operating"][0] > 0


def test_income_statements_add_up(samples: Samples) -> None:
    for name, pages in ten_ks(samples).items():
        inc = find_page(pages, "Consolidated Statements of Income")
        rows = statement_rows(inc)
        revenue, cogs, gross = (v for _, v in rows[:3])
        assert [a - b for a, b in zip(revenue, cogs, strict=True)] == gross, name
        pretax, tax = row(inc, "Income before income taxes"), row(inc, "Provision for income taxes")
        assert [a - b for a, b in zip(pretax, tax, strict=True)] == row(inc, "Net income"), name
        eps = row(inc, "Basic")
        shares = row(inc, "Basic", nth=1)
        assert abs(row(inc, "Net income")[0] / shares[0] - eps[0]) < 0.006, name


def test_prior_year_column_matches_previous_filing(samples: Samples) -> None:
    companies = {name.split("_")[0] for name in ten_ks(samples)}
    for company in companies:
        new, old = samples.pages[f"{company}_2023_10K"], samples.pages[f"{company}_2022_10K"]
        for title in (
            "Consolidated Statements of Income",
            "Consolidated Balance Sheets",
            "Consolidated Statements of Cash Flows",
        ):
            new_rows, old_rows = statement_rows(find_page(new, title)), statement_rows(find_page(old, title))
            assert len(new_rows) == len(old_rows) > 10
            for (new_label, new_values), (old_label, old_values) in zip(new_rows, old_rows, strict=True):
                if not new_label.startswith("Net cash"):  # 'provided by (used in)' depends on signs shown
                    assert new_label == old_label
                assert new_values[1] == old_values[0], (company, title, new_label)
            # Year-scoped: the same labels carry different figures in the two filings.
            assert new_rows[0][1][0] != old_rows[0][1][0]


def test_ten_q_year_end_column_matches_ten_k(samples: Samples) -> None:
    tenq = find_page(samples.pages["NORTHWINDROBOTICS_2023Q3_10Q"], "Consolidated Balance Sheets")
    tenk = find_page(samples.pages["NORTHWINDROBOTICS_2022_10K"], "Consolidated Balance Sheets")
    q_rows, k_rows = statement_rows(tenq), statement_rows(tenk)
    assert [lab for lab, _ in q_rows] == [lab for lab, _ in k_rows]
    assert [v[1] for _, v in q_rows] == [v[0] for _, v in k_rows]


# -- golden set -------------------------------------------------------------------------------------------


def test_golden_format(samples: Samples) -> None:
    golden = samples.golden
    assert 15 <= len(golden) <= 20
    assert len({g["financebench_id"] for g in golden}) == len(golden)
    docs = {d["doc_name"]: d for d in samples.documents}
    for g in golden:
        for key in ("financebench_id", "company", "doc_name", "question", "answer", "question_type", "evidence"):
            assert g[key], (g["financebench_id"], key)
        assert g["doc_name"] in docs and docs[g["doc_name"]]["company"] == g["company"]
        for ev in g["evidence"]:
            assert ev["doc_name"] in docs
            assert 0 <= ev["evidence_page_num"] < docs[ev["doc_name"]]["pages"]
    used = {docs[g["doc_name"]]["doc_type"] for g in golden}
    assert used == {"10k", "10q", "8k"}


def answer_figure(answer: str) -> str:
    match = re.search(r"\d[\d,]*(?:\.\d+)?", answer)
    return match.group(0) if match else answer


def test_golden_evidence_pages_contain_answer_and_row(samples: Samples) -> None:
    for g in samples.golden:
        figure = answer_figure(g["answer"])
        for ev in g["evidence"]:
            page = norm(samples.pages[ev["doc_name"]][ev["evidence_page_num"]])
            assert norm(ev["evidence_text"]) in page, (g["financebench_id"], ev["evidence_text"])
            assert figure in ev["evidence_text"], (g["financebench_id"], figure)
            assert re.search(rf"(?<![\d,.]){re.escape(figure)}(?![\d,]|\.\d)", page), g["financebench_id"]
            assert norm(ev["evidence_text_full_page"]) and ev["evidence_text"] in ev["evidence_text_full_page"]


def test_synonym_question_uses_a_different_row_label(samples: Samples) -> None:
    by_question = {g["question"]: g for g in samples.golden}
    capex = by_question["What was Northwind Robotics' FY2023 capital expenditure?"]
    assert capex["evidence"][0]["evidence_text"].startswith("Purchases of property, plant and equipment")
    assert "capital expenditure" not in capex["evidence"][0]["evidence_text"].lower()


def test_prompt_injection_is_recorded(samples: Samples) -> None:
    flagged = [d for d in samples.documents if "prompt_injection" in d]
    assert len(flagged) == 1 and flagged[0]["doc_name"].endswith("2023_10K")
    page = flagged[0]["prompt_injection"]["evidence_page_num"]
    pages = samples.pages[flagged[0]["doc_name"]]
    assert INJECTION_TEXT in norm(pages[page])
    assert "Management's Discussion and Analysis" in pages[page]
    assert sum(INJECTION_TEXT in norm(text) for text in pages) == 1
    assert not any(
        INJECTION_TEXT in norm(t) for name, p in samples.pages.items() for t in p if name != flagged[0]["doc_name"]
    )


# -- layout and determinism -------------------------------------------------------------------------------


def test_table_rows_extract_one_per_line(samples: Samples, rebuilt: list[GeneratedDoc]) -> None:
    checked = 0
    for doc in rebuilt:
        pages = samples.pages[doc.doc_name]
        for line in doc.pdf.table_lines:
            if line.text:
                assert norm(line.text) in {norm(x) for x in pages[line.page].splitlines()}, (doc.doc_name, line)
                checked += 1
    assert checked > 800


def test_generation_is_deterministic(samples: Samples, rebuilt: list[GeneratedDoc]) -> None:
    for doc in rebuilt:
        again = bytes(doc.pdf.output())
        assert again == (samples.out / f"{doc.doc_name}.pdf").read_bytes(), doc.doc_name


def test_second_run_writes_identical_files(samples: Samples, tmp_path: Path) -> None:
    paths = generate_samples(tmp_path)
    assert [p.name for p in paths] == [p.name for p in samples.pdfs]
    for name in [*(p.name for p in paths), GOLDEN_FILE, DOCUMENTS_FILE]:
        assert (tmp_path / name).read_bytes() == (samples.out / name).read_bytes(), name
