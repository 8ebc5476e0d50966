"""What a question asks, read once per request: `read_question(question, default_year)`.

Every layer takes the `QuestionFacts` instead of re-parsing the question: scope resolution (years,
quarter, form), the router (years, "why"), the pipelines (plan, judgement, reading) and the engine's
cost estimates. The patterns are data (`data/question.toml`); the plan comes from `finance.plan`."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from finrag.finance.data import load
from finrag.finance.periods import parse_periods
from finrag.finance.plan import Plan, plan_question

_DATA = load("question")
# Compiled patterns of data/question.toml, by name.
PATTERNS: dict[str, re.Pattern[str]] = {k: re.compile(v, re.I) for k, v in _DATA["patterns"].items()}
_P = PATTERNS
_FORMS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(f["pattern"], re.I), f["form"]) for f in _DATA["forms"]
)
_ORDINAL = {"first": 1, "second": 2, "third": 3, "fourth": 4}
_PERIOD_MONTHS = {"quarter": 3, "half": 6, "nine_months": 9, "year": 12}


def question_years(question: str) -> list[int]:
    """Fiscal years a question names ("FY2022", "fiscal 2021", "FY22", "2020"), sorted."""
    years = [int(m.group(1)) for m in _P["year"].finditer(question)]
    years += [2000 + int(m.group(1)) for m in _P["fy_short"].finditer(question)]
    return sorted(set(years))


def question_quarter(question: str) -> int | None:
    m = _P["quarter"].search(question)
    if not m:
        return None
    return int(m.group(1)) if m.group(1) else _ORDINAL[m.group(2).lower()]


def question_forms(question: str) -> list[str]:
    """The form the question names (a DocType value), at most one."""
    return [form for rx, form in _FORMS if rx.search(question)][:1]


def needs_judgement(question: str) -> bool:
    """Yes/no, why, compare, assess: a figure alone does not answer it."""
    return bool(_P["needs_judgement"].search(question))


def needs_reading(question: str) -> bool:
    """Questions answered by reading around (why, risks, summarise), not by one row of a table."""
    return bool(_P["needs_reading"].search(question))


def asks_why(question: str) -> re.Match[str] | None:
    """The words asking for causes ("what drove", "due to"), if any."""
    return _P["asks_why"].search(question)


@dataclass(frozen=True, slots=True)
class QuestionFacts:
    """A question read once. `plan` is what it asks to compute (None: no metric or line item the
    statements give); it depends on `default_year` only when the question names no year."""

    question: str
    years: tuple[int, ...]  # fiscal years named, sorted
    quarter: int | None  # 1-4 when a quarter is named
    period: str  # "quarter" | "half" | "nine_months" | "year" (named full year) | "" (not said)
    forms: tuple[str, ...]  # the form named (DocType value), at most one
    full_year: bool  # names a full fiscal year ("FY2022", "annual")
    forward: bool  # asks what was expected / the outlook
    needs_judgement: bool
    needs_reading: bool
    asks_why: bool
    yes_no: bool
    default_year: int | None
    plan: Plan | None
    # months of the period asked (3 a quarter, 6 a half, 9 nine months, 12 a year); None: not said
    months: int | None = None

    @property
    def metric(self) -> str | None:
        """The metric or line item asked for ("inventory turnover ratio", "revenue growth")."""
        return self.plan.name if self.plan is not None else None

    @property
    def formula(self) -> str | None:
        """The asked metric's definition in words, when it is a metric."""
        return self.plan.metrics[0].formula if self.plan is not None and self.plan.metrics else None

    @property
    def computed(self) -> bool:
        """A figure the calculator computes from statement rows, without judgement."""
        return self.plan is not None and not self.needs_reading

    def with_default_year(self, year: int | None) -> QuestionFacts:
        """The same facts with `year` as the fiscal year when the question names none (the plan is
        re-read only when the default changed)."""
        if year == self.default_year:
            return self
        return replace(self, default_year=year, plan=plan_question(self.question, year))


def read_question(question: str, default_year: int | None = None) -> QuestionFacts:
    quarter = question_quarter(question)
    if quarter is not None:
        period = "quarter"
    elif _P["half"].search(question):
        period = "half"
    elif _P["nine_months"].search(question):
        period = "nine_months"
    elif _P["full_year"].search(question):
        period = "year"
    else:
        period = ""
    return QuestionFacts(
        question=question,
        years=tuple(question_years(question)),
        quarter=quarter,
        period=period,
        forms=tuple(question_forms(question)),
        full_year=bool(_P["full_year"].search(question)),
        forward=bool(_P["forward"].search(question)),
        needs_judgement=needs_judgement(question),
        needs_reading=needs_reading(question),
        asks_why=asks_why(question) is not None,
        yes_no=bool(_P["yes_no"].search(question)),
        default_year=default_year,
        plan=plan_question(question, default_year),
        months=_PERIOD_MONTHS.get(period) or _interim_months(question),
    )


def _interim_months(question: str) -> int | None:
    """ "the three months ended September 30, 2023", "the quarter ended ...": the period grammar's reading."""
    months = [p.months for p in parse_periods(question).periods if p.months in (3, 6, 9)]
    return months[0] if months else None
