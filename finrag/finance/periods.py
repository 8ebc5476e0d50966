"""Period grammar: what period a question (or a filing's period header) means.

Fiscal years ("FY2023", "FY23", "fiscal 2023", "calendar 2022"), quarters ("Q2", "Q2'2023", "2Q23",
"second quarter of fiscal 2023", "three months ended June 30, 2023", "13 weeks ended"), halves ("H1 FY2023",
"1H23", "first half of 2023", "six months ended"), nine months, instants ("as of June 30, 2023", "as of Q2 of
FY2023", "at the end of FY2022") and ranges ("between FY2023 and Q2 of FY2024"). Pure: no I/O beyond its
word list (finance/data/periods.toml); which filing covers a period is decided with the filings' own
period-end dates (`fiscal_year_for`)."""

from __future__ import annotations

import calendar
import itertools
import re
import tomllib
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

DATA_FILE = Path(__file__).resolve().parent / "data" / "periods.toml"


@dataclass(frozen=True, slots=True)
class Period:
    """One period named in a text. months: 12 a year, 9 nine months, 6 a half, 3 a quarter, 0 an instant
    (a balance "as of" a date or the end of a quarter / year)."""

    fiscal_year: int | None
    months: int
    quarter: int | None = None  # the quarter a 3-month period is, or whose end an instant is
    half: int | None = None
    end: date | None = None  # an explicit end date
    calendar: bool = False  # "calendar 2022": not the company's fiscal year
    text: str = ""

    @property
    def end_quarter(self) -> int | None:
        """The fiscal quarter the period ends with (4 for a full year), when known."""
        if self.months == 12:
            return 4
        if self.quarter:
            return self.quarter
        if self.half:
            return 2 * self.half
        if self.months == 9:
            return 3
        return None

    @property
    def interim(self) -> bool:
        """Reported in a quarterly report: ends with Q1-Q3, or is shorter than a year with an end date
        that only the filings can place (a Q4 quarter is in the annual report and the Q4 release)."""
        q = self.end_quarter
        if q is not None:
            return q < 4
        return self.months in (3, 6, 9) or (self.months == 0 and self.end is not None)

    def label(self) -> str:
        fy = (
            ""
            if self.fiscal_year is None
            else (f"calendar {self.fiscal_year}" if self.calendar else f"FY{self.fiscal_year}")
        )
        of = f" of {fy}" if fy else ""
        end = f" ended {self.end.isoformat()}" if self.end else ""
        if self.months == 12:
            return (fy or "a full year") + end
        if self.months == 0:
            if self.end:
                return f"balance as of {self.end.isoformat()}"
            if self.quarter and self.quarter < 4:
                return f"balance at the end of Q{self.quarter}{of}"
            return f"balance at the end of {fy or 'the fiscal year'}"
        if self.half:
            return f"{'first' if self.half == 1 else 'second'} half (six months){of}{end}"
        if self.months == 9:
            return f"nine months{of}{end}"
        if self.months == 6:
            return f"six months{of}{end}"
        if self.quarter:
            return f"Q{self.quarter}{of} (three months){end}"
        return f"three months{of}{end}"


@dataclass(slots=True)
class PeriodQuery:
    periods: list[Period] = field(default_factory=list)
    is_range: bool = False  # "between FY2023 and Q2 of FY2024", "FY2019 - FY2021"

    @property
    def fiscal_years(self) -> list[int]:
        return sorted({p.fiscal_year for p in self.periods if p.fiscal_year is not None})

    @property
    def interim(self) -> bool:
        return any(p.interim for p in self.periods)

    @property
    def full_years_only(self) -> bool:
        return bool(self.periods) and all(p.months == 12 or (p.months == 0 and p.end_quarter is None and
                                                              p.end is None) for p in self.periods)  # fmt: skip

    def describe(self) -> str:
        if not self.periods:
            return ""
        labels = list(dict.fromkeys(p.label() for p in self.periods))
        if self.is_range and len(labels) >= 2:
            return f"from {labels[0]} to {labels[-1]}"
        return "; ".join(labels)


@dataclass(frozen=True, slots=True)
class _Words:
    months: dict[str, int]
    ordinals: dict[str, int]
    durations: dict[str, int]


@lru_cache(maxsize=2)
def _words(path: Path = DATA_FILE) -> _Words:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return _Words(
        {k.lower(): int(v) for k, v in data["months"].items()},
        {k.lower(): int(v) for k, v in data["ordinals"].items()},
        {k.lower(): int(v) for k, v in data["durations"].items()},
    )


def _alt(words: list[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


@dataclass(frozen=True, slots=True)
class _Grammar:
    date_mdy: re.Pattern[str]
    date_dmy: re.Pattern[str]
    date_iso: re.Pattern[str]
    date_num: re.Pattern[str]
    ended: re.Pattern[str]
    quarter: re.Pattern[str]
    quarter_words: re.Pattern[str]
    half: re.Pattern[str]
    half_words: re.Pattern[str]
    nine: re.Pattern[str]
    year: re.Pattern[str]
    bare_year: re.Pattern[str]
    instant: re.Pattern[str]
    year_end: re.Pattern[str]


_FY_YEAR = (  # "of FY2023", "FY23", "'23", "2023" after a quarter or half
    r"(?:(?:of|in|for)\s+)?(?:the\s+)?(?:(FY|fiscal(?:\s+year)?|CY|calendar(?:\s+year)?)\s*'?\s*(\d{4}|\d{2})\b"
    r"|'(\d{2})\b|(\d{4})\b)"
)


@lru_cache(maxsize=2)
def _grammar() -> _Grammar:
    w = _words()
    month = f"(?:{_alt(list(w.months))})"
    ordinal = f"(?:{_alt(list(w.ordinals))})"
    duration = f"(?:{_alt(list(w.durations))})"
    date_text = (
        rf"(?:{month}\.?\s+\d{{1,2}},?\s+\d{{4}}|\d{{1,2}}\s+{month}\.?,?\s+\d{{4}}"
        r"|\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{4})"
    )
    flags = re.I
    return _Grammar(
        date_mdy=re.compile(rf"\b({month})\.?\s+(\d{{1,2}}),?\s+(\d{{4}})\b", flags),
        date_dmy=re.compile(rf"\b(\d{{1,2}})\s+({month})\.?,?\s+(\d{{4}})\b", flags),
        date_iso=re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b"),
        date_num=re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b"),
        ended=re.compile(
            rf"\b(?:(?:the\s+)?(?:({duration})(?:\s+|-)(?:months?|weeks?)?|(quarter|half[- ]year|(?:fiscal\s+)?year))"
            rf"\s*(?:period\s+)?(?:ended|ending)\s+({date_text}))",
            flags,
        ),
        quarter=re.compile(rf"\bQ([1-4])\b(?:\s*{_FY_YEAR})?|\b([1-4])Q\s*'?(\d{{2}}|\d{{4}})?\b", flags),
        quarter_words=re.compile(rf"\b(?:the\s+)?({ordinal})\s+(?:fiscal\s+)?quarter\b(?:\s*{_FY_YEAR})?", flags),
        half=re.compile(rf"\b(?:H([12])|([12])H)\b(?:\s*{_FY_YEAR})?|\b([12])H\s*'?(\d{{2}}|\d{{4}})\b", flags),
        half_words=re.compile(
            rf"\b(?:the\s+)?(first|second)\s+half(?:\s+of)?(?:\s+the)?(?:\s+year)?\b(?:\s*{_FY_YEAR})?", flags
        ),
        nine=re.compile(
            rf"\b(?:the\s+)?(?:first\s+)?(?:nine|9)[\s-]months?\b(?:\s*{_FY_YEAR})?|\b9M\s*'?(\d{{2}}|\d{{4}})?\b",
            flags,
        ),
        year=re.compile(r"\b(FY|fiscal(?:\s+year)?|CY|calendar(?:\s+year)?)\s*'?\s*(\d{4}|\d{2})\b", flags),
        bare_year=re.compile(r"(?<![\d$.,/-])((?:19|20)\d{2})(?![\d,%]|-\d)"),
        instant=re.compile(r"\b(?:as\s+of|as\s+at|at|on|by)\s+(?:the\s+)?(?:end\s+of\s+)?$", flags),
        year_end=re.compile(
            r"\b(?:(?:at\s+)?(?:the\s+)?(?:end\s+of|year[- ]end(?:\s+of)?)|as\s+of|as\s+at)\s*(?:the\s+)?$", flags
        ),
    )


def _year(value: str | None) -> int | None:
    if not value:
        return None
    v = value.strip("'")
    if len(v) == 2:
        return 2000 + int(v)
    return int(v)


def _fy_groups(m: re.Match[str], first: int) -> tuple[int | None, bool]:
    """The year of a trailing _FY_YEAR (groups first..first+3) and whether it is a calendar year."""
    prefix, short_or_long, apostrophe, bare = (m.group(first + i) for i in range(4))
    calendar_year = bool(prefix) and prefix.lower().startswith(("cy", "calendar"))
    return _year(short_or_long or apostrophe or bare), calendar_year


def parse_date(text: str) -> date | None:
    """'June 30, 2023', '30 June 2023', '2023-06-30', '6/30/2023' -> date."""
    g, w = _grammar(), _words()
    try:
        if m := g.date_mdy.search(text):
            return date(int(m.group(3)), w.months[m.group(1).lower()], int(m.group(2)))
        if m := g.date_dmy.search(text):
            return date(int(m.group(3)), w.months[m.group(2).lower()], int(m.group(1)))
        if m := g.date_iso.search(text):
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        if m := g.date_num.search(text):
            return date(int(m.group(3)), int(m.group(1)), int(m.group(2)))
    except ValueError:
        return None
    return None


def parse_periods(text: str) -> PeriodQuery:
    g, w = _grammar(), _words()
    found: list[tuple[int, int, Period]] = []

    def add(m: re.Match[str], p: Period) -> None:
        found.append((m.start(), m.end(), replace(p, text=m.group(0).strip())))

    for m in g.ended.finditer(text):
        end = parse_date(m.group(3))
        if end is None:
            continue
        if m.group(1):
            months = w.durations.get(m.group(1).lower()) or w.durations.get(f"{m.group(1).lower()} weeks", 3)
            if "week" in m.group(0).lower():
                months = w.durations.get(f"{m.group(1).lower()} weeks", months)
        else:
            kind = m.group(2).lower()
            months = 3 if kind == "quarter" else 6 if kind.startswith("half") else 12
        add(m, Period(None, months, end=end))
    for pattern in (g.date_mdy, g.date_dmy, g.date_iso, g.date_num):
        for m in pattern.finditer(text):
            d = parse_date(m.group(0))
            if d is not None:
                add(m, Period(None, 0, end=d))
    for m in g.quarter.finditer(text):
        if m.group(1):
            fy, cal = _fy_groups(m, 2)
            add(m, Period(fy, 3, quarter=int(m.group(1)), calendar=cal))
        else:
            add(m, Period(_year(m.group(7)), 3, quarter=int(m.group(6))))
    for m in g.quarter_words.finditer(text):
        fy, cal = _fy_groups(m, 2)
        add(m, Period(fy, 3, quarter=w.ordinals[m.group(1).lower()], calendar=cal))
    for m in g.half.finditer(text):
        if m.group(1) or m.group(2):
            fy, cal = _fy_groups(m, 3)
            add(m, Period(fy, 6, half=int(m.group(1) or m.group(2)), calendar=cal))
        else:
            add(m, Period(_year(m.group(8)), 6, half=int(m.group(7))))
    for m in g.half_words.finditer(text):
        fy, cal = _fy_groups(m, 2)
        add(m, Period(fy, 6, half=1 if m.group(1).lower() == "first" else 2, calendar=cal))
    for m in g.nine.finditer(text):
        short = m.group(0).upper().startswith("9M")  # "9M 2022"
        fy, cal = (_year(m.group(5)), False) if short else _fy_groups(m, 1)
        add(m, Period(fy, 9, calendar=cal))
    for m in g.year.finditer(text):
        cal = m.group(1).lower().startswith(("cy", "calendar"))
        add(m, Period(_year(m.group(2)), 12, calendar=cal))
    for m in g.bare_year.finditer(text):
        add(m, Period(int(m.group(1)), 12))

    # Longest match first at each place; a match inside a longer one is part of it.
    found.sort(key=lambda t: (t[0], -(t[1] - t[0])))
    chosen: list[tuple[int, int, Period]] = []
    for start, end, p in found:
        if chosen and start < chosen[-1][1]:
            continue
        chosen.append((start, end, p))

    # "as of" / "at the end of" before a quarter or year makes it a balance at that period's end.
    periods: list[tuple[int, int, Period]] = []
    for start, end, p in chosen:
        before = text[max(0, start - 30) : start]
        if p.months in (3, 12) and p.end is None and g.year_end.search(before):
            p = replace(p, months=0, quarter=p.quarter or None)
        periods.append((start, end, p))

    # A quarter / half without a year takes the one year named elsewhere ("Q2 revenue in FY2023").
    years = {p.fiscal_year for _, _, p in periods if p.months == 12 and p.fiscal_year}
    partial = [i for i, (_, _, p) in enumerate(periods) if p.fiscal_year is None and p.end is None]
    is_range = _is_range(text, periods)
    if partial and len(years) == 1 and not is_range:
        (year,) = years
        periods = [
            (s, e, replace(p, fiscal_year=year) if i in partial else p)
            for i, (s, e, p) in enumerate(periods)
            if not (p.months == 12 and p.fiscal_year == year and p.end is None)
        ]
    return PeriodQuery([p for _, _, p in periods], is_range)


_RANGE_JOIN = re.compile(r"^\s*(?:and|to|through|thru|until|-|–|—|vs\.?|versus)\s*(?:the\s+)?(?:end\s+of\s+)?$", re.I)
_RANGE_OPEN = re.compile(r"\b(?:between|from)\s+(?:the\s+)?(?:end\s+of\s+)?$", re.I)


def _is_range(text: str, periods: list[tuple[int, int, Period]]) -> bool:
    for (s1, e1, _), (s2, _, _) in itertools.pairwise(periods):
        join = text[e1:s2]
        if _RANGE_JOIN.match(join) and (join.strip() not in ("and",) or _RANGE_OPEN.search(text[max(0, s1 - 20) : s1])):
            return True
    return False


def fiscal_year_for(day: date, fiscal_year_end: tuple[int, int]) -> int:
    """The fiscal year a date falls in, for a company whose fiscal year ends on (month, day) — named, as
    filers do, by the calendar year in which it ends. 52/53-week years end within a week of that day."""
    month, dom = fiscal_year_end
    last = min(dom, calendar.monthrange(day.year, month)[1])
    return day.year if day <= date(day.year, month, last) + timedelta(days=7) else day.year + 1


def fiscal_quarter_for(day: date, fiscal_year_end: tuple[int, int]) -> int:
    """Which fiscal quarter (1-4) a date falls in."""
    month, _ = fiscal_year_end
    fy = fiscal_year_for(day, fiscal_year_end)
    start_month = month % 12 + 1  # the month after the year end
    start_year = fy - 1 if start_month > 1 else fy
    elapsed = (day.year - start_year) * 12 + day.month - start_month
    if day.day <= 7 and elapsed > 0 and elapsed % 3 == 0:
        elapsed -= 1  # a 52/53-week quarter ending in the first days of the next month
    return min(4, max(1, elapsed // 3 + 1))


@lru_cache(maxsize=2)
def _header_duration() -> re.Pattern[str]:
    duration = f"(?:{_alt(list(_words().durations))})"
    return re.compile(
        rf"\b(?:({duration})(?:(?:\s+|-)(?:months?|weeks?))?|(quarter|(?:fiscal\s+)?years?|half[- ]years?))"
        r"\s*(?:period\s+)?(?:ended|ending)\b",
        re.I,
    )


def header_durations(line: str) -> list[int]:
    """Months covered by each column group of a statement's period header, in order:
    "Three Months Ended Nine Months Ended" -> [3, 9]; "Years Ended December 31," -> [12]."""
    w = _words()
    out: list[int] = []
    for m in _header_duration().finditer(line):
        if m.group(1):
            months = w.durations.get(re.sub(r"\s+", " ", m.group(1).lower()))
            if months is not None:
                out.append(months)
        else:
            word = m.group(2).lower()
            out.append(3 if word == "quarter" else 6 if word.startswith("half") else 12)
    return out
