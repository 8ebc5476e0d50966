"""The PDF writer: number formatting, a `FilingPDF` that records the page of every keyed table row and
sentence while it writes, and the statement rows shared by the 10-K and the 10-Q."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from finrag.sample.companies import CompanySpec
from finrag.sample.model import Balance, CashFlow, Income

# A constant creation date (and producer) makes the PDFs byte-identical from run to run.
CREATION_DATE = datetime(2024, 2, 14, 12, 0, 0, tzinfo=UTC)
DISCLAIMER = "Fictional sample filing generated for demonstration purposes. Not a real company."


def money(v: int) -> str:
    """Statement style: thousands separators, negatives in parentheses, zero as a dash."""
    if v == 0:
        return "-"
    return f"({-v:,})" if v < 0 else f"{v:,}"


def millions(v: int) -> str:
    return f"${abs(v):,} million"


def pct_change(cur: int, prev: int) -> tuple[str, str]:
    change = (cur - prev) / prev * 100
    return ("increased" if change >= 0 else "decreased"), f"{abs(change):.1f}%"


def tenths(v: int) -> str:
    return f"({-v / 10:.1f})" if v < 0 else f"{v / 10:.1f}"


def margin(part: int, whole: int) -> str:
    return f"{part / whole * 100:.1f}%"


# ---------------------------------------------------------------------------------------------------------
# PDF writer that remembers where it put things
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Anchor:
    page: int  # zero-based PDF page index
    text: str  # the text as written (extraction only differs in whitespace)


@dataclass(frozen=True)
class Row:
    label: str
    values: tuple[str, ...] = ()
    indent: int = 0
    dollar: bool = False
    total: int = 0  # 1: rule above the numbers; 2: also a double rule below
    bold: bool = False
    key: str = ""

    def text(self) -> str:
        cells = [f"$ {v}" if self.dollar else v for v in self.values]
        return " ".join([self.label, *cells]).strip()


Header = list[tuple[str, int]]  # (text, number of value columns spanned)

BODY_SIZE = 10
TABLE_SIZE = 9
LINE = 12.5
ROW = 11.5


class FilingPDF(FPDF):
    """Letter-size pages with footers, optional 'Table of Contents' header lines, and page tracking."""

    def __init__(self, title: str, author: str) -> None:
        super().__init__(orientation="P", unit="pt", format="letter")
        self.set_creation_date(CREATION_DATE)
        self.set_producer("finrag sample generator")
        self.set_creator("finrag.sample.generate")
        self.set_title(title)
        self.set_author(author)
        self.set_margins(72, 54, 72)
        self.set_auto_page_break(True, margin=64)
        self.toc_header = False  # switched on after the table of contents, like EDGAR printouts
        self.anchors: dict[str, Anchor] = {}
        self.sections: dict[str, int] = {}
        self.table_lines: list[Anchor] = []  # every table row, to check they extract one per line
        self.page_text: dict[int, list[str]] = {}

    # -- page furniture --------------------------------------------------------------------------------
    def header(self) -> None:
        if self.toc_header:
            self.set_font("Times", "U", 8)
            self.set_text_color(40, 40, 160)
            self.cell(0, 10, "Table of Contents", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            self.set_text_color(0, 0, 0)
            self.ln(6)

    def footer(self) -> None:
        self.set_y(-50)
        self.set_font("Times", "", 9)
        self.cell(0, 10, str(self.page_no()), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font("Times", "I", 6.5)
        self.set_text_color(120, 120, 120)
        self.cell(0, 9, DISCLAIMER, align="C")
        self.set_text_color(0, 0, 0)

    # -- bookkeeping -----------------------------------------------------------------------------------
    @property
    def page_index(self) -> int:
        return self.page_no() - 1

    def _record(self, text: str, key: str = "") -> None:
        self.page_text.setdefault(self.page_index, []).append(text)
        if key:
            assert key not in self.anchors, key
            self.anchors[key] = Anchor(self.page_index, text)

    def _ensure(self, height: float) -> None:
        if self.will_page_break(height):
            self.add_page()

    # -- text ------------------------------------------------------------------------------------------
    def line_text(self, text: str, size: float = BODY_SIZE, style: str = "", align: str = "L", key: str = "") -> None:
        self.set_font("Times", style, size)
        self.cell(0, size + 3, text, align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self._record(text, key)

    def caption(self, text: str) -> None:
        self.line_text(text, size=7.5, style="I", align="C")

    def pair(self, left: str, right: str, size: float = BODY_SIZE, style: str = "") -> None:
        """Two centered half-width cells on one line (cover page jurisdiction / IRS number style)."""
        self.set_font("Times", style, size)
        half = self.epw / 2
        self.cell(half, size + 3, left, align="C")
        self.cell(half, size + 3, right, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self._record(f"{left} {right}")

    def para(self, text: str, key: str = "", style: str = "") -> None:
        """A justified block paragraph kept on one page, so a keyed sentence has exactly one page."""
        self.set_font("Times", style, BODY_SIZE)
        self._ensure(LINE * self._count_lines(text) + 5)
        self.multi_cell(0, LINE, text, align="J", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(5)
        self._record(text, key)

    def _count_lines(self, text: str) -> int:
        """Greedy word wrap like multi_cell's (same line count); fpdf2's dry run is slow per paragraph."""
        width = self.epw - 2 * self.c_margin
        space = self.get_string_width(" ")
        lines, used = 1, 0.0
        for word in text.split(" "):
            w = self.get_string_width(word)
            if used and used + space + w > width:
                lines, used = lines + 1, w
            else:
                used += (space if used else 0.0) + w
        return lines

    def risk(self, heading: str, text: str) -> None:
        self.set_font("Times", "BI", BODY_SIZE)
        self._ensure(LINE * 3)
        self.multi_cell(0, LINE, heading, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self._record(heading)
        self.para(text)

    def part(self, text: str) -> None:
        self._ensure(LINE * 5)
        self.ln(4)
        self.line_text(text, size=11, style="B", align="C")
        self.ln(2)

    def item(self, text: str, section: str = "") -> None:
        """An item heading; never left alone at the bottom of a page."""
        self._ensure(LINE * 5)
        self.ln(3)
        self.line_text(text, size=BODY_SIZE + 0.5, style="B")
        self.ln(2)
        if section:
            self.sections[section] = self.page_index

    def subheading(self, text: str) -> None:
        self._ensure(LINE * 4)
        self.line_text(text, style="BI")

    # -- tables ----------------------------------------------------------------------------------------
    def table(
        self,
        headers: Sequence[Header],
        rows: Sequence[Row],
        prefix: str = "",
        ncols: int = 2,
        label_width: float | None = None,
    ) -> None:
        """One row per text line: label cell, then per column a '$' cell and a right-aligned number."""
        col = 80.0 if ncols <= 2 else 60.0
        label_w = label_width or self.epw - ncols * col
        self._ensure(ROW * (len(headers) + len(rows)) + 8)
        self.set_font("Times", "B", TABLE_SIZE)
        for header in headers:
            self.set_x(self.l_margin + label_w)
            y = self.get_y()
            for text, span in header:
                self.cell(col * span, ROW, text, align="C")
                x_end = self.get_x()
                if text:  # underline spanning captions and years, as in printed statements
                    self.line(x_end - col * span + 8, y + ROW, x_end, y + ROW)
            self.ln(ROW)
            self._record(" ".join(t for t, _ in header if t))
            self.table_lines.append(Anchor(self.page_index, " ".join(t for t, _ in header if t)))
        for row in rows:
            self.set_font("Times", "B" if row.bold else "", TABLE_SIZE)
            indent = 10 * row.indent
            assert self.get_string_width(row.label) + indent < label_w - 4, row.label
            y = self.get_y()
            self.set_x(self.l_margin + indent)
            self.cell(label_w - indent, ROW, row.label)
            for v in row.values:
                x = self.get_x()
                self.cell(10, ROW, "$" if row.dollar and v else "")
                self.cell(col - 10, ROW, v, align="R")
                if row.total:
                    self.line(x + 8, y + 0.5, x + col, y + 0.5)
                if row.total == 2:
                    self.line(x + 8, y + ROW, x + col, y + ROW)
                    self.line(x + 8, y + ROW + 1.5, x + col, y + ROW + 1.5)
            self.ln(ROW)
            self._record(row.text(), f"{prefix}:{row.key}" if row.key and prefix else row.key)
            self.table_lines.append(Anchor(self.page_index, row.text()))
        self.ln(6)

    def statement_title(self, company: str, title: str, units: str, unaudited: bool = False) -> None:
        self.line_text(company.upper(), size=11, style="B", align="C")
        self.line_text(title, size=11, style="B", align="C")
        if unaudited:
            self.line_text("(Unaudited)", size=9, align="C")
        self.line_text(units, size=9, style="I", align="C")
        self.ln(6)


# ---------------------------------------------------------------------------------------------------------
# Statement rows (shared by 10-K and 10-Q)
# ---------------------------------------------------------------------------------------------------------


def statement_row(label: str, cols: Sequence[object], get: Callable[[object], int], key: str = "", **kw) -> Row:
    return Row(label, tuple(money(get(c)) for c in cols), key=key, **kw)


def income_rows(spec: CompanySpec, cols: Sequence[Income]) -> list[Row]:
    lab = spec.label

    def per_share(label: str, get: Callable[[Income], float], key: str, dollar: bool) -> Row:
        fmt = "{:.2f}" if dollar else "{:.1f}"
        return Row(label, tuple(fmt.format(get(c)) for c in cols), indent=1, dollar=dollar, key=key)

    return [
        statement_row(lab("revenue"), cols, lambda c: c.revenue, "revenue", dollar=True),
        statement_row(lab("cogs"), cols, lambda c: c.cogs, "cogs"),
        statement_row("Gross profit", cols, lambda c: c.gross_profit, "gross_profit", total=1),
        Row("Operating expenses:"),
        statement_row(lab("sga"), cols, lambda c: c.sga, "sga", indent=1),
        statement_row(lab("rd"), cols, lambda c: c.rd, "rd", indent=1),
        statement_row("Total operating expenses", cols, lambda c: c.opex, "opex", indent=2, total=1),
        statement_row("Operating income", cols, lambda c: c.operating_income, "operating_income", total=1),
        statement_row("Interest expense, net", cols, lambda c: -c.interest, "interest"),
        statement_row("Other income (expense), net", cols, lambda c: c.other_income, "other_income"),
        statement_row("Income before income taxes", cols, lambda c: c.pretax, "pretax", total=1),
        statement_row("Provision for income taxes", cols, lambda c: c.tax, "tax"),
        statement_row("Net income", cols, lambda c: c.net_income, "net_income", dollar=True, total=2, bold=True),
        Row("Earnings per share:"),
        per_share("Basic", lambda c: c.eps_basic, "eps_basic", True),
        per_share("Diluted", lambda c: c.eps_diluted, "eps_diluted", True),
        Row("Weighted-average shares outstanding:"),
        per_share("Basic", lambda c: c.shares_basic, "shares_basic", False),
        per_share("Diluted", lambda c: c.shares_diluted, "shares_diluted", False),
    ]


def balance_rows(cols: Sequence[Balance], equity_word: str = "shareholders' equity") -> list[Row]:
    return [
        Row("ASSETS", bold=True),
        Row("Current assets:"),
        statement_row("Cash and cash equivalents", cols, lambda b: b.cash, "cash", indent=1, dollar=True),
        statement_row("Accounts receivable, net", cols, lambda b: b.receivables, "receivables", indent=1),
        statement_row("Inventories", cols, lambda b: b.inventories, "inventories", indent=1),
        statement_row("Prepaid expenses and other current assets", cols, lambda b: b.other_current, indent=1),
        statement_row("Total current assets", cols, lambda b: b.current_assets, "current_assets", indent=2, total=1),
        statement_row("Property, plant and equipment, net", cols, lambda b: b.ppe, "ppe"),
        statement_row("Goodwill", cols, lambda b: b.goodwill, "goodwill"),
        statement_row("Other assets", cols, lambda b: b.other_assets, "other_assets"),
        statement_row("Total assets", cols, lambda b: b.total_assets, "total_assets", dollar=True, total=2, bold=True),
        Row(f"LIABILITIES AND {equity_word.upper()}", bold=True),
        Row("Current liabilities:"),
        statement_row("Accounts payable", cols, lambda b: b.payables, "payables", indent=1, dollar=True),
        statement_row("Accrued liabilities", cols, lambda b: b.accrued, "accrued", indent=1),
        statement_row(
            "Total current liabilities", cols, lambda b: b.current_liabilities, "current_liab", indent=2, total=1
        ),
        statement_row("Long-term debt", cols, lambda b: b.debt, "debt"),
        statement_row("Other long-term liabilities", cols, lambda b: b.other_liabilities, "other_liab"),
        statement_row("Total liabilities", cols, lambda b: b.total_liabilities, "total_liabilities", total=1),
        Row(f"{equity_word[0].upper()}{equity_word[1:]}:"),
        statement_row("Common stock and additional paid-in capital", cols, lambda b: b.paid_in, "paid_in", indent=1),
        statement_row("Retained earnings", cols, lambda b: b.retained, "retained", indent=1),
        statement_row("Treasury stock, at cost", cols, lambda b: -b.treasury, "treasury", indent=1),
        statement_row(f"Total {equity_word}", cols, lambda b: b.equity, "equity", indent=2, total=1),
        statement_row(
            f"Total liabilities and {equity_word}",
            cols,
            lambda b: b.total_liabilities_equity,
            "total_le",
            dollar=True,
            total=2,
            bold=True,
        ),
    ]


def _flow_label(kind: str, values: Sequence[int]) -> str:
    """Real filings keep one label across columns, so it only says 'provided by (used in)' when mixed."""
    if all(v >= 0 for v in values):
        return f"Net cash provided by {kind} activities"
    if all(v < 0 for v in values):
        return f"Net cash used in {kind} activities"
    return f"Net cash provided by (used in) {kind} activities"


def cash_flow_rows(spec: CompanySpec, cols: Sequence[CashFlow]) -> list[Row]:
    return [
        Row("Cash flows from operating activities:", bold=True),
        statement_row("Net income", cols, lambda c: c.net_income, "net_income", indent=1, dollar=True),
        Row("Adjustments to reconcile net income to net cash from operating activities:", indent=1),
        statement_row("Depreciation and amortization", cols, lambda c: c.da, "da", indent=2),
        statement_row("Stock-based compensation", cols, lambda c: c.sbc, "sbc", indent=2),
        Row("Changes in operating assets and liabilities:", indent=1),
        statement_row("Accounts receivable", cols, lambda c: c.receivables, "d_receivables", indent=2),
        statement_row("Inventories", cols, lambda c: c.inventories, "d_inventories", indent=2),
        statement_row("Accounts payable", cols, lambda c: c.payables, "d_payables", indent=2),
        statement_row("Accrued liabilities", cols, lambda c: c.accrued, "d_accrued", indent=2),
        statement_row(
            _flow_label("operating", [c.operating for c in cols]),
            cols,
            lambda c: c.operating,
            "operating",
            indent=3,
            total=1,
        ),
        Row("Cash flows from investing activities:", bold=True),
        statement_row(spec.label("capex"), cols, lambda c: c.capex, "capex", indent=1),
        statement_row("Acquisitions, net of cash acquired", cols, lambda c: c.acquisitions, "acquisitions", indent=1),
        statement_row(
            _flow_label("investing", [c.investing for c in cols]),
            cols,
            lambda c: c.investing,
            "investing",
            indent=3,
            total=1,
        ),
        Row("Cash flows from financing activities:", bold=True),
        statement_row("Proceeds from issuance of long-term debt", cols, lambda c: c.borrowings, "borrowings", indent=1),
        statement_row("Repayments of long-term debt", cols, lambda c: c.repayments, "repayments", indent=1),
        statement_row("Dividends paid", cols, lambda c: c.dividends, "dividends", indent=1),
        statement_row("Repurchases of common stock", cols, lambda c: c.repurchases, "repurchases", indent=1),
        statement_row(
            _flow_label("financing", [c.financing for c in cols]),
            cols,
            lambda c: c.financing,
            "financing",
            indent=3,
            total=1,
        ),
        statement_row(
            "Net increase (decrease) in cash and cash equivalents", cols, lambda c: c.net_change, "net_change"
        ),
        statement_row("Cash and cash equivalents at beginning of year", cols, lambda c: c.cash_begin, "cash_begin"),
        statement_row(
            "Cash and cash equivalents at end of year",
            cols,
            lambda c: c.cash_end,
            "cash_end",
            dollar=True,
            total=2,
            bold=True,
        ),
    ]


def year_headers(caption: str, years: Sequence[int]) -> list[Header]:
    return [[(caption, len(years))], [(str(y), 1) for y in years]]
