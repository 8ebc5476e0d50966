"""Period grammar (finrag/finance/periods.py): phrasings written in the style analysts ask in and the way
filings title their periods (not taken from any evaluation set)."""

from __future__ import annotations

from datetime import date

import pytest

from finrag.finance.periods import Period, fiscal_quarter_for, fiscal_year_for, parse_date, parse_periods

# (text, expected description, interim?)
CASES: list[tuple[str, str, bool]] = [
    # fiscal years
    ("What is the FY2018 capital expenditure amount?", "FY2018", False),
    ("What was revenue in FY 2021?", "FY2021", False),
    ("What was revenue in FY21?", "FY2021", False),
    ("What was revenue in FY'21?", "FY2021", False),
    ("How much did gross margin change in fiscal 2022?", "FY2022", False),
    ("Operating income for fiscal year 2020", "FY2020", False),
    ("Net sales in 2019", "FY2019", False),
    ("What did revenue look like in calendar 2022?", "calendar 2022", False),
    ("CY2021 deliveries", "calendar 2021", False),
    ("For the fiscal year ended January 28, 2023, what were net sales?", "a full year ended 2023-01-28", False),
    ("Year ended December 31, 2022", "a full year ended 2022-12-31", False),
    ("For the 52 weeks ended February 1, 2020", "a full year ended 2020-02-01", False),
    # quarters
    ("What was Q2 revenue?", "Q2 (three months)", True),
    ("Q2 2023 operating margin", "Q2 of FY2023 (three months)", True),
    ("Q2'2023 operating margin", "Q2 of FY2023 (three months)", True),
    ("Q2'23 operating margin", "Q2 of FY2023 (three months)", True),
    ("Q2 FY2023 free cash flow", "Q2 of FY2023 (three months)", True),
    ("Q2 FY23 free cash flow", "Q2 of FY2023 (three months)", True),
    ("Q2 of FY2023 free cash flow", "Q2 of FY2023 (three months)", True),
    ("In Q3 of fiscal 2022, how much", "Q3 of FY2022 (three months)", True),
    ("2Q23 EPS", "Q2 of FY2023 (three months)", True),
    ("3Q 2022 net income", "Q3 of FY2022 (three months)", True),
    ("the second quarter of fiscal 2023", "Q2 of FY2023 (three months)", True),
    ("the first quarter of 2021", "Q1 of FY2021 (three months)", True),
    ("the third fiscal quarter of 2022", "Q3 of FY2022 (three months)", True),
    ("the fourth quarter of FY2022", "Q4 of FY2022 (three months)", False),
    ("Q4 2022 adjusted EBITDA", "Q4 of FY2022 (three months)", False),
    ("What was Q2 revenue in FY2023?", "Q2 of FY2023 (three months)", True),
    ("Three Months Ended June 30, 2023", "three months ended 2023-06-30", True),
    ("three months ended July 2, 2023", "three months ended 2023-07-02", True),
    ("Quarter ended March 31, 2021", "three months ended 2021-03-31", True),
    ("13 Weeks Ended April 29, 2023", "three months ended 2023-04-29", True),
    ("12 Weeks Ended March 25, 2023", "three months ended 2023-03-25", True),
    ("Thirteen weeks ended October 28, 2023", "three months ended 2023-10-28", True),
    # halves
    ("H1 FY2023 revenue growth", "first half (six months) of FY2023", True),
    ("H1 2023 revenue growth", "first half (six months) of FY2023", True),
    ("1H23 revenue", "first half (six months) of FY2023", True),
    ("H2 FY2022 margin", "second half (six months) of FY2022", False),
    ("in the first half of 2023", "first half (six months) of FY2023", True),
    ("first half of fiscal 2024", "first half (six months) of FY2024", True),
    ("during the second half of the year", "second half (six months)", False),
    ("Six Months Ended June 30, 2023", "six months ended 2023-06-30", True),
    ("six months ended July 2, 2023", "six months ended 2023-07-02", True),
    ("26 weeks ended July 29, 2023", "six months ended 2023-07-29", True),
    ("Twenty-Six Weeks Ended August 2, 2023", "six months ended 2023-08-02", True),
    # nine months
    ("Nine Months Ended September 30, 2022", "nine months ended 2022-09-30", True),
    ("39 weeks ended October 29, 2022", "nine months ended 2022-10-29", True),
    ("the first nine months of 2022", "nine months of FY2022", True),
    ("9M 2022 cash from operations", "nine months of FY2022", True),
    # instants
    ("As of June 30, 2023, what is total debt?", "balance as of 2023-06-30", True),
    ("as of December 31, 2022", "balance as of 2022-12-31", True),
    ("as of 31 December 2022", "balance as of 2022-12-31", True),
    ("as of 2023-06-30", "balance as of 2023-06-30", True),
    ("balance at 6/30/2023", "balance as of 2023-06-30", True),
    ("As of Q2 of FY2023, how much cash", "balance at the end of Q2 of FY2023", True),
    ("at the end of the second quarter of 2023", "balance at the end of Q2 of FY2023", True),
    ("as of the end of Q1 FY2024", "balance at the end of Q1 of FY2024", True),
    ("at the end of FY2022", "balance at the end of FY2022", False),
    ("year end FY2018 accounts payable", "balance at the end of FY2018", False),
    ("As of FY2021, how much did it expect to pay", "balance at the end of FY2021", False),
    # ranges and several periods
    ("between FY2023 and Q2 of FY2024", "from FY2023 to Q2 of FY2024 (three months)", True),
    ("from FY2015 to FY2016", "from FY2015 to FY2016", False),
    ("FY2019 - FY2021 3 year average", "from FY2019 to FY2021", False),
    ("FY2019 – FY2021 average", "from FY2019 to FY2021", False),
    ("How did FY2021 compare to FY2022", "FY2021; FY2022", False),
    ("in FY2023, FY2022 and FY2021", "FY2023; FY2022; FY2021", False),
    (
        "between the end of FY2022 and the end of Q2 2023",
        "from balance at the end of FY2022 to balance at the end of Q2 of FY2023",
        True,
    ),
    # nothing to read
    ("What industry is the company in?", "", False),
    ("Revenue grew 2,023 units and $2019 of cost", "", False),
]


@pytest.mark.parametrize(("text", "expected", "interim"), CASES, ids=[c[0][:40] for c in CASES])
def test_phrasings(text: str, expected: str, interim: bool) -> None:
    q = parse_periods(text)
    assert q.describe() == expected
    assert q.interim is interim


def test_at_least_sixty_phrasings() -> None:
    assert len(CASES) >= 60


def test_ranges_are_flagged_and_lists_are_not() -> None:
    assert parse_periods("between FY2023 and Q2 of FY2024").is_range
    assert parse_periods("from FY2015 to FY2016").is_range
    assert not parse_periods("in FY2023, FY2022 and FY2021").is_range
    assert parse_periods("in FY2023, FY2022 and FY2021").fiscal_years == [2021, 2022, 2023]


def test_a_quarter_takes_the_one_year_named_elsewhere() -> None:
    (p,) = parse_periods("What was Q2 revenue in FY2023?").periods
    assert p == Period(2023, 3, quarter=2, text=p.text)


def test_dates() -> None:
    assert parse_date("June 30, 2023") == date(2023, 6, 30)
    assert parse_date("Sept. 30, 2022") == date(2022, 9, 30)
    assert parse_date("30 June 2023") == date(2023, 6, 30)
    assert parse_date("2/30/2023") is None  # not a date


@pytest.mark.parametrize(
    ("day", "fy_end", "fy", "quarter"),
    [
        (date(2022, 12, 31), (12, 31), 2022, 4),
        (date(2023, 6, 30), (12, 31), 2023, 2),
        (date(2023, 1, 28), (1, 31), 2023, 4),  # a retailer's 52-week year ending late January
        (date(2020, 2, 1), (1, 31), 2020, 4),  # ... or in the first days of February
        (date(2023, 7, 29), (1, 31), 2024, 2),
        (date(2023, 5, 31), (5, 31), 2023, 4),  # fiscal year ending May
        (date(2022, 11, 30), (5, 31), 2023, 2),
        (date(2023, 6, 30), (6, 30), 2023, 4),  # fiscal year ending June
        (date(2022, 9, 30), (6, 30), 2023, 1),
        (date(2023, 7, 2), (12, 31), 2023, 2),  # a 13-week quarter ending just after the month
    ],
)
def test_fiscal_year_and_quarter_of_a_date(day: date, fy_end: tuple[int, int], fy: int, quarter: int) -> None:
    assert fiscal_year_for(day, fy_end) == fy
    assert fiscal_quarter_for(day, fy_end) == quarter
