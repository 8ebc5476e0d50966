"""CoverPageDescriber on synthetic cover pages (made-up companies), and the file-name fallback."""

from __future__ import annotations

from datetime import date

import pytest

from finrag.ingest.describe import (
    CoverPageDescriber,
    base_name,
    company_aliases,
    describe_file_name,
    fiscal_year_of,
    smart_title,
)
from finrag.protocols import FilingDescriber
from finrag.records import DocType, Page

SEC_HEAD = "UNITED STATES\nSECURITIES AND EXCHANGE COMMISSION\nWashington, D.C. 20549\n"

TEN_K = (
    SEC_HEAD
    + """FORM 10-K
(Mark One)
☒ ANNUAL REPORT PURSUANT TO SECTION 13 OR 15(d) OF THE SECURITIES EXCHANGE ACT OF 1934
For the fiscal year ended December 31, 2018
OR
☐ TRANSITION REPORT PURSUANT TO SECTION 13 OR 15(d) OF THE SECURITIES EXCHANGE ACT OF 1934
Commission File Number 001-12345
ZEPHYR WIDGET HOLDINGS, INC.
(Exact name of registrant as specified in its charter)
Delaware 12-3456789
(State or other jurisdiction of incorporation or organization) (I.R.S. Employer Identification No.)
Securities registered pursuant to Section 12(b) of the Act:
Title of each class Trading Symbol(s) Name of each exchange on which registered
Common Stock, $0.01 par value ZWH New York Stock Exchange
Indicate by check mark if the registrant is a well-known seasoned issuer. Yes ☒ No ☐"""
)
TEN_K_PAGE_2 = """PART I
Item 1. Business
Zephyr Widget Holdings, Inc. (formerly known as Zephyr Gadgets Corporation) and its subsidiaries
("Zephyr" or the "Company") make widgets. Zephyr Widget Holdings, Inc. sells them worldwide."""

TEN_Q = (
    SEC_HEAD
    + """FORM 10-Q
☒ QUARTERLY REPORT PURSUANT TO SECTION 13 OR 15(d) OF THE SECURITIES EXCHANGE ACT OF 1934
For the Quarterly Period Ended December 31, 2022
Commission File Number 001-99999
NORTHWIND PACKAGING PLC
(Exact name of Registrant as specified in its charter)
Jersey 98-0000000"""
)
TEN_Q_PAGE_2 = """Northwind Packaging plc and Subsidiaries
Condensed Consolidated Statements of Income
Three Months Ended December 31, Six Months Ended December 31,
Net sales 3,644 3,612 7,088 7,226
This report should be read with our Annual Report on Form 10-K for the fiscal year ended June 30, 2022."""

EIGHT_K = (
    SEC_HEAD
    + """FORM 8-K
CURRENT REPORT
Pursuant to Section 13 or 15(d) of the Securities Exchange Act of 1934
Date of Report (Date of earliest event reported): May 26, 2023 (May 24, 2023)
Quill & Ledger Co.
(Exact name of registrant as specified in its charter)
North Carolina 1-1183 13-0000000
Old Quill Corp.
(Former name or former address, if changed since last report)
Title of each class Trading Symbol Name of each exchange on which registered
Common Stock QLC The Nasdaq Stock Market LLC
0.250% Senior Notes due 2024 QLC24 The Nasdaq Stock Market LLC"""
)

EARNINGS = """FOR IMMEDIATE RELEASE
Globex Corporation Reports Fourth-Quarter and Full-Year 2022 Results
• Fourth-quarter sales of $23.7 billion
SPRINGFIELD, Ill. (January 24, 2023) – Globex Corporation (NYSE: GBX) today announced results for
fourth-quarter and full year 2022. "We delivered," said the Chief Executive Officer.
($ in Millions, except EPS) 2022 2021 % Change
Reported Sales $23,706 $24,804 (4.4)%"""

RETAIL_EARNINGS = """March 9, 2023
Lumen Beauty Announces Fourth Quarter Fiscal 2022 Results
BOLINGBROOK, Ill.--(BUSINESS WIRE)-- Lumen Beauty, Inc. (NASDAQ: LUMN) today announced financial results
for the thirteen-week period ("fourth quarter") and fifty-two-week period ("fiscal year") ended January 28, 2023
compared to the same periods ended January 29, 2022."""


@pytest.fixture
def describer() -> CoverPageDescriber:
    return CoverPageDescriber()


def pages(*texts: str) -> list[Page]:
    return [Page(number=i, text=t) for i, t in enumerate(texts)]


def test_satisfies_the_describer_protocol(describer: CoverPageDescriber) -> None:
    assert isinstance(describer, FilingDescriber)


def test_10k_cover(describer: CoverPageDescriber) -> None:
    filing = describer.describe(pages(TEN_K, TEN_K_PAGE_2), "whatever.pdf")
    assert filing.company == "Zephyr Widget Holdings, Inc."  # the filing's own spelling, not upper case
    assert filing.doc_type == DocType.TEN_K
    assert filing.fiscal_year == 2018
    assert filing.fiscal_quarter is None
    assert filing.period_end == "2018-12-31"
    assert filing.ticker == "ZWH"
    for alias in ("Zephyr Widget", "Zephyr", "ZWH", "Zephyr Gadgets Corporation", "Zephyr Gadgets"):
        assert alias in filing.aliases
    assert filing.source == {
        "company": "content",
        "aliases": "content",
        "ticker": "content",
        "doc_type": "content",
        "fiscal_year": "content",
        "period_end": "content",
    }


def test_10q_quarter_and_fiscal_year_ending_in_june(describer: CoverPageDescriber) -> None:
    filing = describer.describe(pages(TEN_Q, TEN_Q_PAGE_2), "")
    assert filing.company == "Northwind Packaging plc"
    assert "Northwind Packaging" in filing.aliases
    assert filing.doc_type == DocType.TEN_Q
    assert filing.period_end == "2022-12-31"
    assert filing.fiscal_quarter == 2  # "six months ended" columns
    assert filing.fiscal_year == 2023  # the fiscal year ends June 30, 2023


def test_10q_of_a_calendar_year_company(describer: CoverPageDescriber) -> None:
    cover = TEN_Q.replace("December 31, 2022", "March 31, 2021")
    filing = describer.describe(pages(cover, "Three Months Ended March 31,\nNet sales 1,000 900"), "")
    assert (filing.fiscal_year, filing.fiscal_quarter) == (2021, 1)


def test_8k_cover(describer: CoverPageDescriber) -> None:
    filing = describer.describe(pages(EIGHT_K, "Item 8.01. Other Events."), "")
    assert filing.company == "Quill & Ledger Co."
    assert filing.doc_type == DocType.EIGHT_K
    assert filing.period_end == "2023-05-26"
    assert filing.fiscal_year == 2023
    assert filing.ticker == "QLC"
    assert {"Quill & Ledger", "Quill and Ledger", "QLC", "Old Quill Corp."} <= set(filing.aliases)
    assert "QLC24" not in filing.aliases  # a note's symbol, not the company's


def test_earnings_release(describer: CoverPageDescriber) -> None:
    filing = describer.describe(pages(EARNINGS), "")
    assert filing.company == "Globex Corporation"
    assert filing.doc_type == DocType.EARNINGS
    assert (filing.fiscal_year, filing.fiscal_quarter) == (2022, 4)
    assert filing.ticker == "GBX"
    assert "Globex" in filing.aliases


def test_retail_earnings_uses_the_year_the_period_ends(describer: CoverPageDescriber) -> None:
    filing = describer.describe(pages(RETAIL_EARNINGS), "")
    assert filing.company == "Lumen Beauty, Inc."
    assert filing.doc_type == DocType.EARNINGS
    assert filing.fiscal_quarter == 4
    assert filing.period_end == "2023-01-28"
    assert filing.fiscal_year == 2023  # "fiscal 2022" in the company's words; see fiscal_year_of


def test_glossy_annual_report(describer: CoverPageDescriber) -> None:
    cover = "Borealis Mining plc\n2022 Annual Report\nDear Shareholders,\nIt was a good year for Borealis Mining plc."
    filing = describer.describe(pages(cover), "")
    assert filing.doc_type == DocType.ANNUAL_REPORT
    assert filing.company == "Borealis Mining plc"
    assert filing.fiscal_year == 2022


def test_cover_without_exact_name_caption(describer: CoverPageDescriber) -> None:
    cover = (
        SEC_HEAD + "FORM 10-K\nFor the fiscal year ended January 1, 2023\n"
        "Commission file number 1-3285\nORBITAL 7 COMPANY\nState of Incorporation: Delaware"
    )
    later = "Orbital 7 Company and Subsidiaries\nConsolidated Balance Sheet"
    filing = describer.describe(pages(cover, later), "")
    assert filing.company == "Orbital 7 Company"
    assert "Orbital 7" in filing.aliases
    assert filing.fiscal_year == 2022  # a 52/53-week year ending in the first days of January


def test_acronym_alias_only_when_the_filing_uses_it(describer: CoverPageDescriber) -> None:
    cover = TEN_K.replace("ZEPHYR WIDGET HOLDINGS, INC.", "ADVANCED QUANTUM DEVICES, INC.")
    with_acronym = describer.describe(pages(cover, "One AQD Place, Sunnyvale"), "")
    without = describer.describe(pages(cover, "Sunnyvale"), "")
    assert "AQD" in with_acronym.aliases
    assert "AQD" not in without.aliases


def test_file_name_fills_only_what_content_leaves_empty(describer: CoverPageDescriber) -> None:
    silent = pages("Lorem ipsum dolor sit amet, consectetur adipiscing elit.")
    filing = describer.describe(silent, "INITECH_SYSTEMS_2021Q3_10Q.pdf")
    assert filing.company == "Initech Systems"
    assert "Initech" in filing.aliases
    assert filing.doc_type == DocType.TEN_Q
    assert (filing.fiscal_year, filing.fiscal_quarter) == (2021, 3)
    assert filing.source == {
        "company": "filename",
        "aliases": "filename",
        "doc_type": "filename",
        "fiscal_year": "filename",
        "fiscal_quarter": "filename",
    }


def test_content_beats_a_misleading_file_name(describer: CoverPageDescriber) -> None:
    filing = describer.describe(pages(TEN_K, TEN_K_PAGE_2), "OTHERCO_2005Q1_10Q.pdf")
    assert filing.company == "Zephyr Widget Holdings, Inc."
    assert filing.doc_type == DocType.TEN_K
    assert filing.fiscal_year == 2018
    assert filing.fiscal_quarter == 1  # the content said nothing about a quarter
    assert filing.source["fiscal_year"] == "content"
    assert filing.source["fiscal_quarter"] == "filename"


def test_mixed_sources(describer: CoverPageDescriber) -> None:
    cover = TEN_K.replace("For the fiscal year ended December 31, 2018\n", "")
    filing = describer.describe(pages(cover), "ZEPHYR_2019_10K.pdf")
    assert filing.source["company"] == "content"
    assert filing.source["doc_type"] == "content"
    assert filing.fiscal_year == 2019
    assert filing.source["fiscal_year"] == "filename"


def test_nothing_known(describer: CoverPageDescriber) -> None:
    filing = describer.describe(pages("", "lorem ipsum"), "")
    assert filing.company == ""
    assert filing.doc_type == DocType.OTHER
    assert filing.fiscal_year is None
    assert filing.source == {}
    assert describer.describe([], "").source == {}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("3M_2018_10K.pdf", {"company": "3M", "fiscal_year": 2018, "doc_type": DocType.TEN_K}),
        ("ACME_2023Q2_10Q.pdf", {"company": "Acme", "fiscal_year": 2023, "fiscal_quarter": 2}),
        (
            "ACME_2023_8K_dated-2023-05-30.pdf",
            {"doc_type": DocType.EIGHT_K, "period_end": "2023-05-30", "fiscal_year": 2023},
        ),
        ("ACME_2022_8K_dated_2022-08-19.pdf", {"period_end": "2022-08-19"}),
        ("JOHN_SMITH_2022Q4_EARNINGS.pdf", {"company": "John Smith", "doc_type": DocType.EARNINGS}),
        ("acme-widgets 10-Q 2022Q3.pdf", {"company": "Acme Widgets", "doc_type": DocType.TEN_Q, "fiscal_quarter": 3}),
    ],
)
def test_file_name_patterns(name: str, expected: dict[str, object]) -> None:
    found = describe_file_name(name).values
    for key, value in expected.items():
        assert found[key] == value


def test_fiscal_year_convention() -> None:
    assert fiscal_year_of(date(2023, 1, 28)) == 2023  # retailer year ending late January
    assert fiscal_year_of(date(2019, 2, 2)) == 2019
    assert fiscal_year_of(date(2023, 1, 1)) == 2022  # 52/53-week year just past December
    assert fiscal_year_of(date(2023, 6, 30)) == 2023


def test_name_helpers() -> None:
    assert base_name("The Boeing-Like Company") == "Boeing-Like"
    assert base_name("Water Works Company, Inc.") == "Water Works"
    assert base_name("Chase & Co.") == "Chase"
    assert smart_title("CVS HEALTH CORPORATION") == "CVS Health Corporation"
    assert smart_title("BEST WIDGETS CO., INC.") == "Best Widgets Co., Inc."
    aliases = company_aliases("Megacorp Communications Inc.")
    assert aliases[:2] == ["Megacorp Communications", "Megacorp"]
    assert "Shop" in company_aliases("Shop.com, Inc.")
    assert "JPWidget" in company_aliases("JPWidget Chase & Co.")
