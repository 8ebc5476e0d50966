"""Dates as filings write them ("December 31, 2022", "31 December 2022") and the fiscal year a period end
belongs to (52/53-week years ending early January belong to the year before). Questions' periods (quarters,
halves, "as of", ranges) are read by the period grammar in `periods.py`."""

from __future__ import annotations

import calendar
import re
from collections.abc import Sequence
from datetime import date

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_MONTH_RE = "|".join(sorted(_MONTHS, key=len, reverse=True))
# "December 31, 2018", "Dec. 31 , 2018", "MAY 29, 2022" and the British "31 December 2018".
DATE = (
    rf"(?:(?:{_MONTH_RE})\.?\s+\d{{1,2}}\s*,?\s*(?:19|20)\d{{2}}|\d{{1,2}}\s+(?:{_MONTH_RE})\.?,?\s+(?:19|20)\d{{2}})"
)
_DATE_PARTS_US = re.compile(rf"({_MONTH_RE})\.?\s+(\d{{1,2}})\s*,?\s*((?:19|20)\d{{2}})", re.IGNORECASE)
_DATE_PARTS_UK = re.compile(rf"(\d{{1,2}})\s+({_MONTH_RE})\.?,?\s+((?:19|20)\d{{2}})", re.IGNORECASE)


def parse_date(text: str) -> date | None:
    """The first date written out in words in `text`."""
    m = _DATE_PARTS_US.search(text)
    if m:
        month, day, year = _MONTHS[m.group(1).lower()], int(m.group(2)), int(m.group(3))
    else:
        m = _DATE_PARTS_UK.search(text)
        if not m:
            return None
        day, month, year = int(m.group(1)), _MONTHS[m.group(2).lower()], int(m.group(3))
    try:
        return date(year, month, day)
    except ValueError:
        return None


def fiscal_year_of(year_end: date) -> int:
    """The fiscal year a fiscal year-end date belongs to.

    Convention (checked against FinanceBench's `doc_period`, the labels this project is measured
    on): the calendar year in which the fiscal year ENDS. Retailers' years ending in late January
    or early February therefore take the later year (Best Buy, year ended 28 Jan 2023 -> 2023;
    Walmart, 31 Jan 2018 -> 2018; Ulta Beauty's "fiscal 2022" quarter ended 28 Jan 2023 -> 2023),
    while 52/53-week years that spill a few days past 31 December keep the year they cover
    (Johnson & Johnson, year ended 1 Jan 2023 -> 2022)."""
    if year_end.month == 1 and year_end.day <= 7:
        return year_end.year - 1
    return year_end.year


def add_months(day: date, months: int) -> date:
    year, month0 = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month0 + 1, min(day.day, calendar.monthrange(year, month0 + 1)[1]))


_DATE_NO_YEAR = re.compile(rf"(?i)\b({_MONTH_RE})\.?\s+(\d{{1,2}})\s*,?(?!\s*,?\s*(?:19|20)\d{{2}})")


def header_fiscal_years(header: str, years: list[int]) -> list[int]:
    """The fiscal years of a table's year columns when its header dates them: "January 1, 2023  January 2,
    2022" heads the columns of fiscal 2022 and 2021 (`fiscal_year_of`), as does "January 1," over
    "2023 2022". `years` are the calendar years the header prints, in column order; they are returned
    unchanged when the header dates no column, its dates do not line up with the years, or the fiscal
    years would not tell the columns apart (a quarter-end next to a year-end)."""
    dated: list[date] = []
    for m in re.finditer(DATE, header, re.IGNORECASE):
        d = parse_date(m.group(0))
        if d is not None:
            dated.append(d)
    if dated and [d.year for d in dated] == years:
        mapped = [fiscal_year_of(d) for d in dated]
    else:
        # one month and day over several year columns: "December 31," above "2022 2021" (PDF text may
        # join the day with the first year)
        days = {(d.month, d.day) for d in dated if d.year in years}
        days |= {(_MONTHS[m.group(1).lower()], int(m.group(2))) for m in _DATE_NO_YEAR.finditer(header)}
        if len(days) != 1 or len(dated) > 1:
            return years
        month, day = days.pop()
        try:
            mapped = [fiscal_year_of(date(y, month, day)) for y in years]
        except ValueError:
            return years
    return mapped if len(set(mapped)) == len(mapped) else years


def column_fiscal_years(header: str, years: list[int], durations: Sequence[int]) -> list[int]:
    """`header_fiscal_years` for a table whose columns are years (`durations`: the months each column's
    period runs, as the header states them). A quarter's or half's columns keep their calendar years:
    the fiscal year of a period that is not one is not what the date says."""
    if any(m != 12 for m in durations):
        return years
    return header_fiscal_years(header, years)
