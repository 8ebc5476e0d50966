"""Scale corpus: as many realistic, clearly fictional 10-K and 10-Q filings as a benchmark asks for,
as page text (no PDF), deterministic by seed and cheap (thousands of pages per second).

Why page text and not PDFs: the PDF writer of the demo filings (fpdf2, `pdf.py`) makes ~15 pages/s
on this machine, far too slow for a million pages; a benchmark at scale needs what ingest sees after
PDF extraction (one text per page, table rows one per line, as `finrag.ingest.parse` extracts them).
`finrag.ingest.parse.find_tables` reads the tables back from this text exactly as it does from a PDF.

What makes the filings realistic enough to measure cost:
* SEC structure: cover page (form, fiscal period, registrant, ticker row), contents, Parts and Items
  of a 10-K (Business, Risk Factors, MD&A, Financial Statements and notes, controls, exhibits) or a
  10-Q, a running page header and a page number on every page;
* lengths drawn per filing (default 80-250 pages), the sections sized in proportion;
* statements from the sample driver model (`model.py`, so they tie out within a filing), segment,
  debt and tax notes, and long tables (revenue by product and region, property schedule) that run
  across pages with "(continued)" and the column headers repeated, as printed filings do;
* many companies (names from `scale.toml`, each a scaled copy of one of the three sample companies'
  drivers) filing over several fiscal years, one 10-K and three 10-Qs a year.
Figures across one company's years are not a continuous history (each filing shows the model's last
two years relabelled as its own): the corpus is for measuring cost, not for golden answers.
"""

from __future__ import annotations

import calendar
import itertools
import random
import textwrap
import tomllib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from finrag.sample.companies import COMPANIES, MODEL_YEARS, CompanySpec
from finrag.sample.model import YearFin, build_financials, interim_balance, quarter_income
from finrag.sample.pdf import Row, balance_rows, cash_flow_rows, income_rows, money

DATA_FILE = Path(__file__).with_name("scale.toml")
LINES_PER_PAGE = 50  # a printed 10-K page holds ~50 lines of ~100 characters
WIDTH = 100
YEARS = (2015, 2024)  # fiscal years the corpus spans
YEARS_PER_COMPANY = 2  # each company files a 10-K and three 10-Qs in each of its years


@lru_cache(maxsize=1)
def _vocab() -> dict[str, Any]:
    with DATA_FILE.open("rb") as fh:
        return tomllib.load(fh)


@dataclass(frozen=True)
class ScaleFiling:
    """One generated filing: what a parser would hand the describer and chunker."""

    doc_name: str  # FinanceBench style: KEY_2023_10K, KEY_2023Q2_10Q
    company: str
    ticker: str
    form: str  # "10-K" | "10-Q"
    fiscal_year: int
    quarter: int | None
    pages: tuple[str, ...]

    def text(self) -> str:
        """All pages in one string, split by form feeds (how `bench/scale.py` writes a filing to disk)."""
        return "\f".join(self.pages)


@dataclass(frozen=True)
class ScaleCompany:
    spec: CompanySpec
    industry: dict[str, Any]
    years: tuple[int, ...]


# ---------------------------------------------------------------------------------------------------------
# Companies
# ---------------------------------------------------------------------------------------------------------


def _scaled_drivers(template: CompanySpec, factor: float) -> CompanySpec:
    """The template's drivers with every amount (and share count) times `factor`: ratios, hence the
    model's identities and sanity checks, are kept."""
    d = template.drivers

    def scale(v: Any) -> Any:
        if isinstance(v, bool) or (isinstance(v, float) and v < 1):
            return v  # ratios and rates stay
        if isinstance(v, int):
            return round(v * factor)
        if isinstance(v, float):
            return round(v * factor, 1)
        if isinstance(v, tuple) and v and all(isinstance(x, int) for x in v):
            return tuple(round(x * factor) for x in v)
        if isinstance(v, tuple) and v and all(isinstance(x, float) and x > 5 for x in v):
            return tuple(round(x * factor, 1) for x in v)  # share counts, not ratios
        return v

    fields = {k: scale(v) for k, v in vars(d).items() if k not in ("notes", "interest_rate", "rd_pct")}
    notes = tuple(replace(n, principal=round(n.principal * factor)) for n in d.notes)
    return replace(template, drivers=replace(d, **fields, notes=notes))


def scale_companies(seed: int) -> Iterator[ScaleCompany]:
    """An endless, seed-determined stream of distinct fictional companies."""
    vocab = _vocab()
    rng = random.Random(f"companies-{seed}")
    combos = list(itertools.product(vocab["first"], vocab["second"], range(len(vocab["industry"]))))
    rng.shuffle(combos)
    tickers: set[str] = set()
    for i in itertools.count():
        first, second, ind = combos[i % len(combos)]
        industry = vocab["industry"][ind]
        suffix = f" {i // len(combos) + 1}" if i >= len(combos) else ""
        short = f"{first} {second} {industry['word']}{suffix}"
        legal = rng.choice(vocab["legal"])
        name = f"{short}, {legal}" if legal.startswith("Inc") else f"{short} {legal}"
        ticker = (first[0] + second[0] + industry["word"][0]).upper()
        letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        for extra in itertools.product(letters, repeat=2):  # first free 5-letter ticker
            candidate = ticker + "".join(extra)
            if candidate not in tickers:
                ticker = candidate
                break
        tickers.add(ticker)
        template = COMPANIES[i % len(COMPANIES)]
        factor = rng.choice((0.4, 0.7, 1.0, 1.5, 2.5))
        spec = replace(
            _scaled_drivers(template, factor),
            name=name,
            short=short,
            key="".join(ch for ch in short.upper() if ch.isalnum()),
            ticker=ticker,
            exchange=rng.choice(("New York Stock Exchange", "The Nasdaq Stock Market LLC")),
            irs_number=f"{rng.randint(10, 99)}-{rng.randint(1000000, 9999999)}",
            file_number=f"001-{rng.randint(10000, 99999)}",
            sector=industry["sector"],
            former_name="",
            name_change="",
        )
        start = rng.randint(YEARS[0], YEARS[1] - YEARS_PER_COMPANY + 1)
        yield ScaleCompany(spec, industry, tuple(range(start, start + YEARS_PER_COMPANY)))


_FINANCIALS: dict[str, dict[int, YearFin]] = {}


def _financials(spec: CompanySpec) -> dict[int, YearFin]:
    """The driver model of one company, computed once per process (a company files several times)."""
    if spec.key not in _FINANCIALS:
        if len(_FINANCIALS) > 256:
            _FINANCIALS.clear()
        _FINANCIALS[spec.key] = build_financials(spec)
    return _FINANCIALS[spec.key]


# ---------------------------------------------------------------------------------------------------------
# Page writer
# ---------------------------------------------------------------------------------------------------------


class _Pages:
    """Lines onto pages of LINES_PER_PAGE, with a running header and a page number; paragraphs are kept
    on one page when they fit, tables continue on the next page under their repeated headers."""

    def __init__(self, header: str, lines_per_page: int = LINES_PER_PAGE) -> None:
        self.header = header
        self.lpp = lines_per_page
        self.pages: list[list[str]] = []

    def new_page(self, running_header: bool = True) -> None:
        self.pages.append([self.header, "Table of Contents"] if running_header else [])

    @property
    def room(self) -> int:
        return self.lpp - len(self.pages[-1]) if self.pages else 0

    def lines(self, lines: Sequence[str], keep: bool = True) -> None:
        if keep and self.room < len(lines) <= self.lpp - 2:
            self.new_page()
        for line in lines:
            if self.room <= 0:
                self.new_page()
            self.pages[-1].append(line)

    def para(self, text: str) -> None:
        self.lines([*textwrap.wrap(text, WIDTH, break_long_words=False), ""])

    def heading(self, text: str) -> None:
        if self.room < 6:  # never a heading alone at the foot of a page
            self.new_page()
        self.lines([text, ""])

    def table(self, title: str, header: Sequence[str], rows: Sequence[Row]) -> None:
        if self.room < len(header) + 4:
            self.new_page()
        self.lines([title, *header], keep=False)
        for row in rows:
            if self.room <= 0:
                self.new_page()
                self.lines([f"{title} (continued)", *header], keep=False)
            self.pages[-1].append(row.text())
        self.lines([""], keep=False)

    def finish(self) -> list[str]:
        return ["\n".join([*lines, "", str(i)]) for i, lines in enumerate(self.pages, start=1)]


# ---------------------------------------------------------------------------------------------------------
# Filings
# ---------------------------------------------------------------------------------------------------------


class _Writer:
    """Prose from the sentence patterns of scale.toml, with the filing's own names and figures."""

    def __init__(self, company: ScaleCompany, year: int, rng: random.Random) -> None:
        self.c = company
        self.year = year
        self.rng = rng
        self.sentences: dict[str, list[str]] = _vocab()["sentences"]
        self.regions: list[str] = _vocab()["regions"]

    def sentence(self, kind: str) -> str:
        r, spec = self.rng, self.c.spec
        amount = r.randint(5, 4000)
        return r.choice(self.sentences[kind]).format(
            company=spec.name,
            short=spec.short,
            segment=r.choice(self.c.industry["segments"]),
            product=r.choice(self.c.industry["products"]),
            year=self.year,
            prior=self.year - 1,
            amount=f"${amount:,} million",
            amount2=f"${round(amount * r.uniform(0.7, 1.3)):,} million",
            pct=f"{r.uniform(0.5, 45):.1f}%",
            region=r.choice(self.regions),
            count=r.randint(2, 40),
        )

    def paragraph(self, kind: str) -> str:
        return " ".join(self.sentence(kind) for _ in range(self.rng.randint(3, 7)))


def _month_end(year: int, month: int) -> str:
    return f"{calendar.month_name[month]} {calendar.monthrange(year, month)[1]}, {year}"


def _quarter_end(spec: CompanySpec, fiscal_year: int, quarter: int) -> str:
    months_back = 3 * (4 - quarter)  # Q3 ends three months before the fiscal year does
    month = spec.fy_end_month - months_back
    year = fiscal_year
    while month <= 0:
        month, year = month + 12, year - 1
    return _month_end(year, month)


def _cover(p: _Pages, spec: CompanySpec, form: str, period_line: str, quarterly: bool) -> None:
    p.new_page(running_header=False)
    kind = "QUARTERLY" if quarterly else "ANNUAL"
    p.lines(
        [
            "UNITED STATES",
            "SECURITIES AND EXCHANGE COMMISSION",
            "Washington, D.C. 20549",
            "",
            f"FORM {form}",
            "(Mark One)",
            f"[X] {kind} REPORT PURSUANT TO SECTION 13 OR 15(d) OF THE SECURITIES EXCHANGE ACT OF 1934",
            period_line,
            "OR",
            "[ ] TRANSITION REPORT PURSUANT TO SECTION 13 OR 15(d) OF THE SECURITIES EXCHANGE ACT OF 1934",
            f"Commission File Number {spec.file_number}",
            "",
            spec.name.upper(),
            "(Exact name of registrant as specified in its charter)",
            f"{spec.state} {spec.irs_number}",
            "(State or other jurisdiction of incorporation or organization) (I.R.S. Employer Identification No.)",
            spec.address,
            "(Address of principal executive offices) (Zip Code)",
            spec.phone,
            "(Registrant's telephone number, including area code)",
            "",
            "Securities registered pursuant to Section 12(b) of the Act:",
            "Title of each class Trading Symbol(s) Name of each exchange on which registered",
            f"{spec.security} {spec.ticker} {spec.exchange}",
            "",
            "Indicate by check mark whether the registrant is a large accelerated filer, an accelerated filer, a",
            "non-accelerated filer, a smaller reporting company, or an emerging growth company.",
            "Large accelerated filer [X] Accelerated filer [ ]",
        ],
        keep=False,
    )


def _contents(p: _Pages, items: Sequence[str]) -> None:
    p.new_page()
    p.lines(["TABLE OF CONTENTS", "", *(f"{item} {i + 3}" for i, item in enumerate(items))], keep=False)


def _fill(
    p: _Pages, w: _Writer, kind: str, pages: int, tables: Sequence[tuple[str, list[str], list[Row]]] = ()
) -> None:
    """Write prose of `kind` (and the given tables, spread through it) until `pages` pages are used."""
    end = len(p.pages) + max(1, pages)
    queue = list(tables)
    while len(p.pages) < end or (len(p.pages) == end and p.room > 8):
        if queue and w.rng.random() < 0.35:
            p.table(*queue.pop(0))
        else:
            p.para(w.paragraph(kind))
    for table in queue:
        p.table(*table)


def _long_tables(w: _Writer, years: tuple[int, int]) -> list[tuple[str, list[str], list[Row]]]:
    """Disaggregated revenue and a property schedule: tables long enough to run across pages."""
    r, c = w.rng, w.c
    header = [f"Year Ended {c.spec.bs_caption()}", f"{years[0]} {years[1]}"]
    rows: list[Row] = []
    for segment in c.industry["segments"]:
        rows.append(Row(f"{segment}:"))
        for product, region in itertools.product(c.industry["products"], w.regions[: r.randint(3, 6)]):
            cur = r.randint(5, 900)
            rows.append(
                Row(
                    f"{product.capitalize()}, {region}", (money(cur), money(round(cur * r.uniform(0.8, 1.1)))), indent=1
                )
            )
    props = [
        Row(
            f"{r.choice(w.regions)} facility {i + 1} ({r.choice(('owned', 'leased'))})",
            (f"{r.randint(20, 900):,}", str(r.randint(1950, years[0]))),
        )
        for i in range(r.randint(30, 90))
    ]
    return [
        ("Disaggregation of Revenue (in millions)", header, rows),
        ("Schedule of Principal Properties (thousand square feet, year built)", ["Square feet Year"], props),
    ]


def _statements(p: _Pages, spec: CompanySpec, cur: YearFin, prev: YearFin, years: tuple[int, int]) -> None:
    cols = f"{years[0]} {years[1]}"
    for title, caption, rows in (
        ("Consolidated Statements of Income", spec.fy_caption(), income_rows(spec, [cur.inc, prev.inc])),
        ("Consolidated Balance Sheets", spec.bs_caption(), balance_rows([cur.bal, prev.bal])),
        ("Consolidated Statements of Cash Flows", spec.fy_caption(), cash_flow_rows(spec, [cur.cf, prev.cf])),
    ):
        p.new_page()
        p.lines([spec.name.upper(), title, "(In millions, except per share amounts)", ""], keep=False)
        p.table(title, [caption, cols], rows)


def _notes_tables(
    spec: CompanySpec, cur: YearFin, prev: YearFin, years: tuple[int, int]
) -> list[tuple[str, list[str], list[Row]]]:
    header = [spec.fy_caption(), f"{years[0]} {years[1]}"]
    seg = [Row(n, (money(r), money(pr))) for (n, r, _), (_, pr, _) in zip(cur.segments, prev.segments, strict=True)]
    seg += [
        Row(f"{n} operating income", (money(o), money(po)))
        for (n, _, o), (_, _, po) in zip(cur.segments, prev.segments, strict=True)
    ]
    prev_debt = dict(prev.debt_detail)
    debt = [Row(t, (money(a), money(prev_debt.get(t, 0)))) for t, a in cur.debt_detail]
    debt.append(Row("Total long-term debt", (money(cur.bal.debt), money(prev.bal.debt)), bold=True))
    tax = [
        Row("Income before income taxes", (money(cur.inc.pretax), money(prev.inc.pretax))),
        Row("Provision for income taxes", (money(cur.inc.tax), money(prev.inc.tax))),
        Row("Effective tax rate", (cur.effective_rate, prev.effective_rate)),
    ]
    return [
        ("Segment Information", header, seg),
        ("Debt", [spec.bs_caption(), header[1]], debt),
        ("Income Taxes", header, tax),
    ]


TEN_K_ITEMS = (
    "Item 1. Business", "Item 1A. Risk Factors", "Item 1B. Unresolved Staff Comments", "Item 1C. Cybersecurity",
    "Item 2. Properties", "Item 3. Legal Proceedings", "Item 4. Mine Safety Disclosures",
    "Item 5. Market for Registrant's Common Equity", "Item 7. Management's Discussion and Analysis",
    "Item 7A. Quantitative and Qualitative Disclosures About Market Risk",
    "Item 8. Financial Statements and Supplementary Data", "Item 9A. Controls and Procedures",
    "Item 10. Directors, Executive Officers and Corporate Governance", "Item 15. Exhibits", "Signatures",
)  # fmt: skip
# Share of the variable pages each long part of a 10-K takes (the rest are fixed: cover, contents, statements).
TEN_K_SHARES = {"business": 0.14, "risk": 0.22, "mdna": 0.24, "notes": 0.32, "other": 0.08}
TEN_Q_ITEMS = (
    "Item 1. Financial Statements (Unaudited)", "Item 2. Management's Discussion and Analysis",
    "Item 3. Quantitative and Qualitative Disclosures About Market Risk", "Item 4. Controls and Procedures",
    "Item 1A. Risk Factors", "Item 6. Exhibits", "Signatures",
)  # fmt: skip
TEN_Q_SHARES = {"notes": 0.35, "mdna": 0.4, "risk": 0.2, "other": 0.05}
FIXED_PAGES = 7  # cover, contents, three statements, signatures, exhibits


def _ten_k(c: ScaleCompany, year: int, length: int, rng: random.Random) -> list[str]:
    spec = c.spec
    fin = _financials(spec)
    cur, prev = fin[MODEL_YEARS[-1]], fin[MODEL_YEARS[-2]]
    years = (year, year - 1)
    w = _Writer(c, year, rng)
    p = _Pages(f"{spec.short} | Fiscal {year} Form 10-K")
    budget = {k: round(v * max(length - FIXED_PAGES, 5)) for k, v in TEN_K_SHARES.items()}
    _cover(p, spec, "10-K", f"For the fiscal year ended {spec.fy_end(year)}", quarterly=False)
    _contents(p, TEN_K_ITEMS)
    p.new_page()
    p.lines(["PART I", "", "Item 1. Business", ""], keep=False)
    _fill(p, w, "business", budget["business"])
    p.new_page()
    p.heading("Item 1A. Risk Factors")
    end = len(p.pages) + budget["risk"]
    while len(p.pages) < end:
        p.heading(w.sentence("risk_headings"))
        p.para(w.paragraph("risk"))
    for item in ("Item 1B. Unresolved Staff Comments", "Item 1C. Cybersecurity", "Item 2. Properties",
                 "Item 3. Legal Proceedings", "Item 4. Mine Safety Disclosures"):  # fmt: skip
        p.heading(item)
        p.para(w.paragraph("boilerplate"))
    p.heading("PART II")
    p.heading("Item 5. Market for Registrant's Common Equity, Related Stockholder Matters and Issuer Purchases")
    p.para(
        f"Our common stock is listed on the {spec.exchange} under the symbol '{spec.ticker}'. " + w.paragraph("mdna")
    )
    p.new_page()
    p.heading("Item 7. Management's Discussion and Analysis of Financial Condition and Results of Operations")
    _fill(p, w, "mdna", budget["mdna"])
    p.heading("Item 7A. Quantitative and Qualitative Disclosures About Market Risk")
    p.para(w.paragraph("mdna"))
    p.new_page()
    p.heading("Item 8. Financial Statements and Supplementary Data")
    p.para(w.paragraph("boilerplate"))
    _statements(p, spec, cur, prev, years)
    p.new_page()
    p.lines([spec.name.upper(), "Notes to Consolidated Financial Statements", ""], keep=False)
    _fill(p, w, "notes", budget["notes"], [*_notes_tables(spec, cur, prev, years), *_long_tables(w, years)])
    for item in ("Item 9. Changes in and Disagreements with Accountants", "Item 9A. Controls and Procedures",
                 "PART III", "Item 10. Directors, Executive Officers and Corporate Governance"):  # fmt: skip
        p.heading(item)
        p.para(w.paragraph("boilerplate"))
    _fill(p, w, "boilerplate", budget["other"])
    _closing(p, spec, w, f"{calendar.month_name[(spec.fy_end_month % 12) + 2]} 16, {year + 1}")
    return p.finish()


def _ten_q(c: ScaleCompany, year: int, quarter: int, length: int, rng: random.Random) -> list[str]:
    spec = c.spec
    fin = _financials(spec)
    y, py = MODEL_YEARS[-1], MODEL_YEARS[-2]
    rate = spec.drivers.tax_rate[MODEL_YEARS.index(y)]
    qs = list(range(quarter))
    q_cur = [quarter_income(fin[y], rate, [quarter - 1]), quarter_income(fin[py], rate, [quarter - 1])]
    ytd = [quarter_income(fin[y], rate, qs), quarter_income(fin[py], rate, qs)]
    bal = interim_balance(fin[py].bal, fin[y].bal, quarter / 4)
    period = _quarter_end(spec, year, quarter)
    w = _Writer(c, year, rng)
    p = _Pages(f"{spec.short} | Form 10-Q for the quarter ended {period}")
    budget = {k: round(v * max(length - FIXED_PAGES, 4)) for k, v in TEN_Q_SHARES.items()}
    _cover(p, spec, "10-Q", f"For the quarterly period ended {period}", quarterly=True)
    _contents(p, TEN_Q_ITEMS)
    p.new_page()
    p.lines(["PART I - FINANCIAL INFORMATION", "", "Item 1. Financial Statements (Unaudited)", ""], keep=False)
    heads = ["Three Months Ended Nine Months Ended" if quarter == 3 else "Three Months Ended Six Months Ended",
             f"{year} {year - 1} {year} {year - 1}"]  # fmt: skip
    if quarter == 1:
        heads = ["Three Months Ended", f"{year} {year - 1}"]
        cols = [q_cur[0], q_cur[1]]
    else:
        cols = [q_cur[0], q_cur[1], ytd[0], ytd[1]]
    p.table("Condensed Consolidated Statements of Income (Unaudited)", heads, income_rows(spec, cols))
    p.new_page()
    p.table(
        "Condensed Consolidated Balance Sheets (Unaudited)",
        [
            f"{period[: period.rindex(',')]}, {spec.fy_end(year - 1)[: spec.fy_end(year - 1).rindex(',')]},",
            f"{year} {year - 1}",
        ],
        balance_rows([bal, fin[py].bal]),
    )
    p.new_page()
    p.lines(["Notes to Condensed Consolidated Financial Statements (Unaudited)", ""], keep=False)
    _fill(p, w, "notes", budget["notes"], _long_tables(w, (year, year - 1))[:1])
    p.new_page()
    p.heading("Item 2. Management's Discussion and Analysis of Financial Condition and Results of Operations")
    _fill(p, w, "mdna", budget["mdna"])
    for item in (
        "Item 3. Quantitative and Qualitative Disclosures About Market Risk",
        "Item 4. Controls and Procedures",
        "PART II - OTHER INFORMATION",
        "Item 1. Legal Proceedings",
    ):
        p.heading(item)
        p.para(w.paragraph("boilerplate"))
    p.heading("Item 1A. Risk Factors")
    end = len(p.pages) + budget["risk"]
    while len(p.pages) < end:
        p.heading(w.sentence("risk_headings"))
        p.para(w.paragraph("risk"))
    _fill(p, w, "boilerplate", budget["other"])
    _closing(p, spec, w, period)
    return p.finish()


def _closing(p: _Pages, spec: CompanySpec, w: _Writer, date: str) -> None:
    p.new_page()
    p.heading("Item 15. Exhibits and Financial Statement Schedules")
    exhibits = [Row(f"{n} {t}", ("**",)) for n, t in (
        ("3.1", "Amended and Restated Certificate of Incorporation"), ("4.1", "Indenture for Senior Notes"),
        ("10.1", "Credit Agreement, as amended"), ("21.1", "Subsidiaries of the Registrant"),
        ("31.1", "Certification of Chief Executive Officer"), ("31.2", "Certification of Chief Financial Officer"),
        ("32.1", "Certifications pursuant to 18 U.S.C. Section 1350"), ("101", "Inline XBRL documents"),
    )]  # fmt: skip
    p.table("Exhibit Index", ["Filed"], exhibits)
    p.heading("SIGNATURES")
    p.para(
        "Pursuant to the requirements of the Securities Exchange Act of 1934, the registrant has duly caused this "
        "report to be signed on its behalf by the undersigned, thereunto duly authorized."
    )
    p.lines([spec.name.upper(), f"By: /s/ {spec.ceo}", f"{spec.ceo}, President and Chief Executive Officer",
             f"By: /s/ {spec.cfo}", f"{spec.cfo}, Chief Financial Officer", f"Date: {date}"])  # fmt: skip


# ---------------------------------------------------------------------------------------------------------
# Corpus
# ---------------------------------------------------------------------------------------------------------


def scale_corpus(pages: int, seed: int = 0, min_pages: int = 80, max_pages: int = 250) -> Iterator[ScaleFiling]:
    """Filings totalling exactly `pages` pages (the last one is cut to fit), each between min_pages and
    max_pages long; the same seed gives the same corpus, byte for byte."""
    total = 0
    rng = random.Random(f"corpus-{seed}")
    for company in scale_companies(seed):
        for year in company.years:
            for form, quarter in (("10-Q", 1), ("10-Q", 2), ("10-Q", 3), ("10-K", None)):
                if total >= pages:
                    return
                length = rng.randint(min_pages, max_pages)
                frng = random.Random(f"{seed}-{company.spec.ticker}-{year}-{quarter}")
                if quarter is None:
                    texts = _ten_k(company, year, length, frng)
                    name = f"{company.spec.key}_{year}_10K"
                else:
                    texts = _ten_q(company, year, quarter, length, frng)
                    name = f"{company.spec.key}_{year}Q{quarter}_10Q"
                texts = texts[: pages - total]
                total += len(texts)
                yield ScaleFiling(name, company.spec.name, company.spec.ticker, form, year, quarter, tuple(texts))
