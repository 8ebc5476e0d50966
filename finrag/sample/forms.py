"""Form templates shared by every filing (cover page, registrant, filer status, contents, signatures) and
the 10-Q and 8-K; the 10-K, the longest, lives in `ten_k`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from fpdf.enums import XPos, YPos

from finrag.sample.companies import EIGHT_K_DATE, FILING_YEARS, MODEL_YEARS, CompanySpec
from finrag.sample.model import YearFin, interim_balance, quarter_income
from finrag.sample.pdf import BODY_SIZE, Anchor, FilingPDF, Header, Row, balance_rows, income_rows, millions, pct_change


@dataclass
class GeneratedDoc:
    doc_name: str
    company: str
    doc_type: str  # FinanceBench spelling: 10k / 10q / 8k
    period: int
    sector: str
    pdf: FilingPDF
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def anchors(self) -> dict[str, Anchor]:
        return self.pdf.anchors

    def full_page(self, page: int) -> str:
        return "\n".join(self.pdf.page_text.get(page, []))


def cover_header(pdf: FilingPDF, form: str) -> None:
    pdf.add_page()
    pdf.line_text("UNITED STATES", size=12, style="B", align="C")
    pdf.line_text("SECURITIES AND EXCHANGE COMMISSION", size=12, style="B", align="C")
    pdf.line_text("Washington, D.C. 20549", align="C")
    pdf.ln(8)
    pdf.line_text(form, size=16, style="B", align="C")
    pdf.ln(6)


def registrant_block(pdf: FilingPDF, spec: CompanySpec, with_file_number: bool = False) -> None:
    pdf.ln(4)
    pdf.line_text(spec.name.upper(), size=14, style="B", align="C", key="cover:name")
    pdf.caption("(Exact name of registrant as specified in its charter)")
    pdf.ln(4)
    if with_file_number:  # 8-K covers put the file number between jurisdiction and IRS number
        pdf.set_font("Times", "", BODY_SIZE)
        third = pdf.epw / 3
        for texts, style, size in (
            ((spec.state, spec.file_number, spec.irs_number), "", BODY_SIZE),
            (("(State or other jurisdiction", "(Commission", "(I.R.S. Employer"), "I", 7.5),
            (("of incorporation)", "File Number)", "Identification No.)"), "I", 7.5),
        ):
            pdf.set_font("Times", style, size)
            for i, t in enumerate(texts):
                nxt = dict(new_x=XPos.LMARGIN, new_y=YPos.NEXT) if i == 2 else {}
                pdf.cell(third, size + 3, t, align="C", **nxt)
            pdf._record(" ".join(texts))
    else:
        pdf.pair(spec.state, spec.irs_number)
        pdf.pair(
            "(State or other jurisdiction of incorporation or organization)",
            "(I.R.S. Employer Identification No.)",
            size=7.5,
            style="I",
        )
    pdf.ln(4)
    pdf.line_text(spec.address, align="C")
    pdf.caption("(Address of principal executive offices) (Zip Code)")
    pdf.line_text(spec.phone, align="C")
    pdf.caption("(Registrant's telephone number, including area code)")


def former_name_note(pdf: FilingPDF, spec: CompanySpec, show: bool) -> None:
    pdf.line_text(spec.former_name if show and spec.former_name else "Not Applicable", align="C", key="cover:former")
    pdf.caption("(Former name, former address and former fiscal year, if changed since last report)")


def registered_securities(pdf: FilingPDF, spec: CompanySpec) -> None:
    pdf.ln(10)
    pdf.line_text("Securities registered pursuant to Section 12(b) of the Act:", size=9)
    widths = (pdf.epw * 0.42, pdf.epw * 0.2, pdf.epw * 0.38)
    for texts, style in (
        (("Title of each class", "Trading Symbol(s)", "Name of each exchange on which registered"), "B"),
        ((spec.security, spec.ticker, spec.exchange), ""),
    ):
        pdf.set_font("Times", style, 8.5)
        for i, (w, t) in enumerate(zip(widths, texts, strict=True)):
            nxt = dict(new_x=XPos.LMARGIN, new_y=YPos.NEXT) if i == 2 else {}
            pdf.cell(w, 12, t, align="C", **nxt)
        pdf._record(" ".join(texts), "cover:ticker" if style == "" else "")


def checkbox(pdf: FilingPDF, text: str, yes: bool) -> None:
    pdf.para(f"{text} Yes {'[X]' if yes else '[ ]'} No {'[ ]' if yes else '[X]'}")


def filer_status(pdf: FilingPDF) -> None:
    pdf.para(
        "Indicate by check mark whether the registrant is a large accelerated filer, an accelerated filer, a "
        "non-accelerated filer, a smaller reporting company, or an emerging growth company.",
    )
    pdf.pair("Large accelerated filer [X]", "Accelerated filer [ ]", size=9)
    pdf.pair("Non-accelerated filer [ ]", "Smaller reporting company [ ]", size=9)
    pdf.pair("Emerging growth company [ ]", "", size=9)
    pdf.ln(4)


def contents_table(pdf: FilingPDF, entries: Sequence[tuple[str, str, str]], pages: dict[str, int]) -> None:
    pdf.line_text("TABLE OF CONTENTS", size=11, style="B", align="C")
    pdf.ln(6)
    rows: list[Row] = []
    for part, item, title in entries:
        if part:
            rows.append(Row(part, bold=True))
        page = pages.get(item or title, -1) + 1  # printed page numbers are one-based
        rows.append(Row(f"{item} {title}".strip(), (str(page) if page else "",), indent=1))
    pdf.table([[("Page", 1)]], rows, ncols=1)


def signatures_block(pdf: FilingPDF, spec: CompanySpec, date: str, form: str) -> None:
    pdf.item("SIGNATURES", section="Signatures")
    pdf.para(
        "Pursuant to the requirements of the Securities Exchange Act of 1934, the registrant has duly caused "
        f"this {form} to be signed on its behalf by the undersigned, thereunto duly authorized."
    )
    pdf.line_text(spec.name.upper(), style="B")
    pdf.ln(4)
    for name, title in ((spec.ceo, "President and Chief Executive Officer"), (spec.cfo, "Chief Financial Officer")):
        pdf.line_text(f"By: /s/ {name}")
        pdf.line_text(f"{name}, {title}", size=9)
        pdf.ln(3)
    pdf.line_text(f"Date: {date}")


TOC_10Q: tuple[tuple[str, str, str], ...] = (
    ("PART I - FINANCIAL INFORMATION", "Item 1.", "Financial Statements (Unaudited)"),
    ("", "Item 2.", "Management's Discussion and Analysis of Financial Condition and Results of Operations"),
    ("", "Item 3.", "Quantitative and Qualitative Disclosures About Market Risk"),
    ("", "Item 4.", "Controls and Procedures"),
    ("PART II - OTHER INFORMATION", "Item 1A.", "Risk Factors"),
    ("", "Item 6.", "Exhibits"),
    ("", "", "Signatures"),
)


def _render_10q(spec: CompanySpec, fin: dict[int, YearFin], toc_pages: dict[str, int]) -> FilingPDF:
    year = FILING_YEARS[-1]
    q3 = [quarter_income(fin[y], spec.drivers.tax_rate[MODEL_YEARS.index(y)], [2]) for y in (year, year - 1)]
    ytd = [quarter_income(fin[y], spec.drivers.tax_rate[MODEL_YEARS.index(y)], [0, 1, 2]) for y in (year, year - 1)]
    sep30 = interim_balance(fin[year - 1].bal, fin[year].bal, 0.75)
    period = f"September 30, {year}"
    pdf = FilingPDF(f"{spec.name} Form 10-Q for the quarter ended {period}", spec.name)

    cover_header(pdf, "FORM 10-Q")
    pdf.para(
        "[X] QUARTERLY REPORT PURSUANT TO SECTION 13 OR 15(d) OF THE SECURITIES EXCHANGE ACT OF 1934",
        style="B",
    )
    pdf.line_text(f"For the quarterly period ended {period}", style="B", align="C", key="cover:period")
    pdf.line_text("OR", align="C")
    pdf.para(
        "[ ] TRANSITION REPORT PURSUANT TO SECTION 13 OR 15(d) OF THE SECURITIES EXCHANGE ACT OF 1934",
        style="B",
    )
    pdf.line_text(f"Commission File Number {spec.file_number}", align="C")
    registrant_block(pdf, spec)
    registered_securities(pdf, spec)
    filer_status(pdf)
    shares = int(ytd[0].shares_basic * 1_000_000 * 0.996)
    pdf.para(f"As of October 27, {year}, {shares:,} shares of the registrant's common stock were outstanding.")

    pdf.add_page()
    contents_table(pdf, TOC_10Q, toc_pages)
    pdf.toc_header = True

    pdf.add_page()
    pdf.part("PART I - FINANCIAL INFORMATION")
    pdf.item("Item 1. Financial Statements (Unaudited)", section="Item 1.")
    pdf.statement_title(
        spec.name,
        "Condensed Consolidated Statements of Income",
        "(In millions, except per share amounts)",
        unaudited=True,
    )
    headers: list[Header] = [
        [("Three Months Ended", 2), ("Nine Months Ended", 2)],
        [("September 30,", 2), ("September 30,", 2)],
        [(str(y), 1) for y in (year, year - 1, year, year - 1)],
    ]
    pdf.table(headers, income_rows(spec, [q3[0], q3[1], ytd[0], ytd[1]]), prefix="is", ncols=4)

    pdf.add_page()
    pdf.statement_title(spec.name, "Condensed Consolidated Balance Sheets", "(In millions)", unaudited=True)
    pdf.table(
        [[("September 30,", 1), ("December 31,", 1)], [(str(year), 1), (str(year - 1), 1)]],
        balance_rows([sep30, fin[year - 1].bal]),
        prefix="bs",
    )
    pdf.para(
        "Basis of presentation. These unaudited condensed consolidated financial statements have been prepared "
        "on the same basis as our annual financial statements and should be read together with our Annual Report "
        f"on Form 10-K for the year ended December 31, {year - 1}. Results for interim periods are not "
        "necessarily indicative of results for the full year."
    )

    pdf.add_page()
    pdf.item(
        "Item 2. Management's Discussion and Analysis of Financial Condition and Results of Operations",
        section="Item 2.",
    )
    direction, change = pct_change(q3[0].revenue, q3[1].revenue)
    pdf.para(
        f"Revenue for the three months ended {period} {direction} {change} to {millions(q3[0].revenue)} from "
        f"{millions(q3[1].revenue)} in the third quarter of {year - 1}, led by Logistics Systems installations "
        f"for distribution center customers. Net income for the quarter was {millions(q3[0].net_income)}, or "
        f"${q3[0].eps_diluted:.2f} per diluted share.",
        key="mdna:quarter",
    )
    direction, change = pct_change(ytd[0].revenue, ytd[1].revenue)
    pdf.para(
        f"For the nine months ended {period}, revenue {direction} {change} to {millions(ytd[0].revenue)} and "
        f"net income was {millions(ytd[0].net_income)} compared with {millions(ytd[1].net_income)} in the "
        "prior-year period.",
        key="mdna:ytd",
    )
    pdf.para(
        f"At {period}, cash and cash equivalents were {millions(sep30.cash)} and long-term debt was "
        f"{millions(sep30.debt)}. We continue to expect full-year capital expenditures of approximately "
        f"{millions(fin[year].cf.capex)}."
    )
    pdf.item("Item 3. Quantitative and Qualitative Disclosures About Market Risk", section="Item 3.")
    pdf.para(f"There have been no material changes to our market risk disclosures since our Form 10-K for {year - 1}.")
    pdf.item("Item 4. Controls and Procedures", section="Item 4.")
    pdf.para(
        "Our Chief Executive Officer and Chief Financial Officer concluded that our disclosure controls and "
        f"procedures were effective as of {period}. There were no changes in internal control over financial "
        "reporting during the quarter that materially affected it."
    )
    pdf.part("PART II - OTHER INFORMATION")
    pdf.item("Item 1A. Risk Factors", section="Item 1A.")
    pdf.para(f"There have been no material changes to the risk factors disclosed in our Form 10-K for {year - 1}.")
    pdf.item("Item 6. Exhibits", section="Item 6.")
    pdf.para("31.1, 31.2 Rule 13a-14(a) Certifications; 32.1 Section 1350 Certifications; 101 Inline XBRL.")
    signatures_block(pdf, spec, f"November 3, {year}", "report")
    return pdf


def build_10q(spec: CompanySpec, fin: dict[int, YearFin]) -> GeneratedDoc:
    draft = _render_10q(spec, fin, {})
    pdf = _render_10q(spec, fin, draft.sections)
    year = FILING_YEARS[-1]
    return GeneratedDoc(f"{spec.key}_{year}Q3_10Q", spec.short, "10q", year, spec.sector, pdf)


def build_8k(spec: CompanySpec, fin: dict[int, YearFin]) -> GeneratedDoc:
    year = FILING_YEARS[-1]
    old, new = fin[year - 1].revolver_commitment, fin[year].revolver_commitment
    pdf = FilingPDF(f"{spec.name} Form 8-K dated {EIGHT_K_DATE}", spec.name)
    cover_header(pdf, "FORM 8-K")
    pdf.line_text("CURRENT REPORT", style="B", align="C")
    pdf.line_text("Pursuant to Section 13 or 15(d) of the Securities Exchange Act of 1934", align="C")
    pdf.line_text(f"Date of Report (Date of earliest event reported): {EIGHT_K_DATE}", align="C", key="cover:date")
    registrant_block(pdf, spec, with_file_number=True)
    pdf.ln(4)
    pdf.para(
        "Check the appropriate box below if the Form 8-K filing is intended to simultaneously satisfy the "
        "filing obligation of the registrant under any of the following provisions:",
    )
    for text in (
        "Written communications pursuant to Rule 425 under the Securities Act (17 CFR 230.425)",
        "Soliciting material pursuant to Rule 14a-12 under the Exchange Act (17 CFR 240.14a-12)",
        "Pre-commencement communications pursuant to Rule 14d-2(b) under the Exchange Act",
    ):
        pdf.line_text(f"[ ] {text}", size=9)
    registered_securities(pdf, spec)
    pdf.line_text("Emerging growth company [ ]", size=9)

    pdf.add_page()
    pdf.item("Item 1.01 Entry into a Material Definitive Agreement.")
    pdf.para(
        f"On {EIGHT_K_DATE}, {spec.name} (the 'Company') entered into Amendment No. 2 (the 'Amendment') to its "
        "Credit Agreement dated as of March 3, 2021, among the Company, the lenders party thereto and First "
        "Prairie Bank, N.A., as administrative agent (the 'Credit Agreement')."
    )
    pdf.para(
        f"The Amendment increases the aggregate revolving commitments under the Credit Agreement from "
        f"{millions(old)} to {millions(new)}, extends the maturity date of the revolving facility to "
        "November 14, 2028, and replaces the applicable margin grid with a grid based on the Company's senior "
        "unsecured credit ratings ranging from 1.125% to 1.750% over Term SOFR. The Amendment also permits the "
        "Company to request incremental commitments of up to $500 million, subject to lender consent.",
        key="8k:commitments",
    )
    pdf.para(
        "The foregoing description of the Amendment does not purport to be complete and is qualified in its "
        "entirety by reference to the full text of the Amendment, which is filed as Exhibit 10.1 to this "
        "Current Report on Form 8-K and incorporated herein by reference."
    )
    pdf.item("Item 2.03 Creation of a Direct Financial Obligation.")
    pdf.para("The information set forth under Item 1.01 above is incorporated into this Item 2.03 by reference.")
    pdf.item("Item 9.01 Financial Statements and Exhibits.")
    pdf.table(
        [[("Exhibit", 1)]],
        [
            Row("Amendment No. 2 to Credit Agreement, dated as of " + EIGHT_K_DATE, ("10.1",)),
            Row("Cover Page Interactive Data File (embedded within the Inline XBRL document)", ("104",)),
        ],
        ncols=1,
    )
    signatures_block(pdf, spec, EIGHT_K_DATE, "report")
    date = "2023-11-14"
    return GeneratedDoc(f"{spec.key}_{year}_8K_dated-{date}", spec.short, "8k", year, spec.sector, pdf)
