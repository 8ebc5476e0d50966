"""What a question asks for, in generic terms: a metric, a growth rate or a single line item, for which
fiscal years, rounded how. `plan_question` is computed once per request, as part of `QuestionFacts`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from finrag.finance.data import load
from finrag.finance.figures import scale_from_text, years_in
from finrag.finance.formulas import PERCENT, ask_text, defined_metric, same_formula, using_denominator
from finrag.finance.metrics import (
    AVERAGED,
    ITEM_MENTIONS,
    ITEMS,
    METRICS,
    YEAR_END,
    LineItem,
    Metric,
    Step,
    item_in,
    share_metric,
)

_GROWTH = re.compile(
    r"(?i)\b(?:growth|grow|grew|growing|change[sd]?|increase[sd]?|decrease[sd]?|decline[sd]?|yoy|"
    r"year[\s-]+over[\s-]+year|improv\w*|trend)\b"
)
_AVERAGE = re.compile(r"(?i)\b(?:(two|three|four|five|\d)[\s-]+years?\s+average|average\s+of\s+(?:the\s+)?"
                      r"(?:last\s+)?(two|three|four|five|\d)\s+years)\b")  # fmt: skip
_WORD_NUM = {"two": 2, "three": 3, "four": 4, "five": 5}
_CAGR = re.compile(r"(?i)\bcagr\b|\bcompound(?:ed)?\s+annual(?:\s+growth)?(?:\s+rate)?\b")
_SPAN_YEARS = re.compile(r"(?i)\b(two|three|four|five|six|seven|eight|nine|ten|\d{1,2})[\s-]+years?\b")
_SPAN_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}
_DECIMALS = re.compile(r"(?i)\bround(?:ed)?\b[^.?]{0,60}?\b(one|two|three|four|zero|no|\d)\s+decimal")
_DEC_WORDS = {"zero": 0, "no": 0, "one": 1, "two": 2, "three": 3, "four": 4}


@dataclass(slots=True)
class Plan:
    """What a question asks for, in generic terms."""

    kind: str  # "metric" | "growth" | "lookup" | "cagr" (compound growth from years[0] to years[-1])
    years: list[int]  # fiscal years to evaluate (several for averages and trends)
    metrics: list[Metric] = field(default_factory=list)  # alternatives of one metric, tried in order
    item: LineItem | None = None
    average: bool = False
    decimals: int | None = None
    answer_scale: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        if self.kind == "cagr":
            base = self.metrics[0].name if self.metrics else self.item.name if self.item else ""
            return f"{base} CAGR"
        if self.metrics:
            return self.metrics[0].name
        assert self.item is not None
        return f"{self.item.name} growth" if self.kind == "growth" else self.item.name

    @property
    def unit(self) -> str:
        if self.kind == "cagr":
            return "%"
        if self.metrics:
            return self.metrics[0].unit
        if self.kind == "growth":
            return "%"
        return "USD/share" if self.item is not None and self.item.per_share else "USD"

    def needs(self, alternative: int = 0) -> list[tuple[str, int]]:
        """(item, absolute fiscal year) pairs the plan must find."""
        out: list[tuple[str, int]] = []
        for y in self.years:
            if self.metrics:
                pairs = [(k, y + off) for k, off in self.metrics[alternative].needs]
            elif self.kind == "growth":
                assert self.item is not None
                pairs = [(self.item.key, y), (self.item.key, y - 1)]
            else:
                assert self.item is not None
                pairs = [(self.item.key, y)]
            out += [p for p in pairs if p not in out]
        return out


# Figures a filing's GAAP statements do not print as such: a calculation from statement rows would be wrong.
_NON_GAAP = re.compile(
    r"(?i)(?<!un)\b(?:adjusted|adj\.|non[- ]?gaap|organic(?:ally)?|underlying|pro[- ]forma|normali[sz]ed|"
    r"core\s+(?:earnings|eps)|guidance|expected|forecast|outlook)\b"
)
# A line item of part of the company (a segment, a region, a product): not the consolidated row.
_PART = re.compile(
    r"(?i)\b(?:segments?|regions?|regional|geograph\w*|international|domestic|foreign|u\.?s\.?|united\s+states|"
    r"europe|asia|china|americas|emea|apac|latin|north\s+america|divisions?|business\s+units?|brands?|"
    r"products?\s+lines?|subsidiar\w+)\b"
)
# "defined as FY2019 revenue / (average PP&E between FY2018 and FY2019)": years of the definition,
# not years the question asks about.
_DEFINITION = re.compile(
    r"(?i)\b(?:is\s+)?(?:defined|calculated|computed)\s+as\b.*|\bdefine\b.*|\baverage\b[^.?]{0,60}?\bbetween\b[^.?]*"
)
_SHARE_OF = re.compile(
    r"(?i)(?:%|percent(?:age)?|share|proportion)\s+of\s+(?:total\s+|net\s+)?(revenues?|net\s+sales|sales|"
    r"total\s+assets)|%\s*margin\b|\bmargin\s*%"
)


_SHARE_FORMS = tuple(re.compile(f, re.I) for f in load("metrics")["share"]["forms"])
_TOTAL = re.compile(r"(?i)^\s*(?:the\s+)?(?:company'?s\s+|its\s+)?")


def _part_of_whole(question: str) -> tuple[LineItem, LineItem, str] | None:
    """(part, whole, the words asking) when the question asks one line item as a share of another
    ("what percentage of total assets were current assets"); None unless both name different items."""
    for rx in _SHARE_FORMS:
        for m in rx.finditer(question):
            part, whole = item_in(_TOTAL.sub("", m.group("part"))), item_in(_TOTAL.sub("", m.group("whole")))
            if _PART.search(m.group("part")) or _PART.search(m.group("whole")):
                continue  # a segment's share: not the consolidated rows
            if part is not None and whole is not None and part.key != whole.key:
                return part, whole, m.group(0)
    return None


def _asked_years(question: str) -> list[int]:
    return sorted(years_in(_DEFINITION.sub(" ", question)))


def _share_plan(question: str, years: list[int], decimals: int | None, avg: bool) -> Plan | None:
    """ "D&A % margin", "wages as a percent of net sales": numerator item / revenue (or total assets)."""
    m = _SHARE_OF.search(question)
    if m is None:
        return None
    head = question[: m.start()]
    numerator: LineItem | None = None
    for key, rx in ITEM_MENTIONS:
        found = list(rx.finditer(head))
        if found and key != "revenue":
            numerator = ITEMS[key]
            break
    if numerator is None:
        return None  # "wages expense as a percent of net sales": a line item we do not know
    denom_key = "total_assets" if m.group(1) and "assets" in m.group(1).lower() else "revenue"
    metric = share_metric(numerator, ITEMS[denom_key], m.group(0))
    return Plan("metric", years, [metric], average=avg and len(years) > 1, decimals=decimals)


# "average total assets", "return on average equity", "average balances": the denominator is the mean of
# the two year-ends. "Three-year average ROA" averages years, and says nothing about the denominator.
_AVERAGE_BALANCE = re.compile(
    r"(?i)\b(?:average|avg\.?|mean)\s+(?:of\s+)?(?:the\s+)?(?:[\w'’&]+\s+){0,2}(?:assets|equity|balances?)\b"
)
_YEAR_END_BALANCE = re.compile(r"(?i)\b(?:year[- ]end|end[- ]of[- ](?:the[- ])?(?:fiscal[- ])?year)\b")


def convention(metric: Metric, text: str) -> Metric:
    """The metric in the denominator convention `text` asks for: over average balances when it says so
    ("average total assets"), else over year-end balances, for metrics computed both ways (`YEAR_END`)."""
    if metric.key in YEAR_END and not _AVERAGE_BALANCE.search(text):
        return YEAR_END[metric.key]
    if metric.key in AVERAGED and _AVERAGE_BALANCE.search(text):
        return AVERAGED[metric.key]
    return metric


def stated_convention(metric: Metric, text: str, question: str = "") -> Metric | None:
    """The other convention of `metric` when `text` (an answer) states it: "on average total assets" for a
    year-end metric, "on year-end assets" for an averaged one; None when it states none or the same, or
    the question itself asks for averaged balances (then the answer must use them)."""
    if _AVERAGE_BALANCE.search(question):
        return None
    if metric.key in AVERAGED and _AVERAGE_BALANCE.search(text):
        return AVERAGED[metric.key]
    if metric.key in YEAR_END and _YEAR_END_BALANCE.search(text) and not _AVERAGE_BALANCE.search(text):
        return YEAR_END[metric.key]
    return None


def _as_percent(metric: Metric) -> Metric:
    """A ratio metric restated in percent ("ROA in percentage terms"): one logged x100 step more, or, for a
    metric that logs its percent already (ROA, ROE), that step as the answer."""
    if metric.percent_logged:
        return replace(metric, unit="%", decimals=1)
    if metric.unit != "x":
        return metric
    last = metric.steps[-1]
    named = last.name or "ratio"
    steps = (*metric.steps[:-1], Step(last.fn, last.args, named, last.unit, last.expression, last.op, last.formula),
             Step("compute", (named,), unit="%", expression="{0} * 100", op="percent"))  # fmt: skip
    return Metric(metric.key, metric.name, metric.pattern, metric.needs, steps, metric.formula, "%", 1)


def _cagr_years(question: str, years: list[int], target: int) -> list[int]:
    """First and last fiscal year of a compound growth rate: the two years named, else "N-year" back from
    the one named."""
    if len(years) >= 2:
        return [years[0], years[-1]]
    m = _SPAN_YEARS.search(question)
    if m is None:
        return []
    raw = m.group(1).lower()
    span = _SPAN_WORDS.get(raw) or int(raw)
    return [target - span, target] if span > 0 else []


def plan_question(question: str, default_year: int | None) -> Plan | None:
    """A plan for a metric, a growth rate or a single line item; None when the question names none
    or asks for something statement rows cannot give (adjusted / non-GAAP figures, segments, regions)."""
    if _NON_GAAP.search(question):
        return _non_gaap_lookup(question, default_year)
    plan = _plan(question, default_year)
    if plan is not None and plan.metrics:
        metrics = [using_denominator(m, question) for m in plan.metrics]
        if plan.kind == "metric" and PERCENT.search(question):
            metrics = [_as_percent(m) for m in metrics]
        plan.metrics = metrics
    return plan


def _non_gaap_lookup(question: str, default_year: int | None) -> Plan | None:
    """ "Adjusted EBITDA for FY2023": the row of the company's own reconciliation table (an adjusted line
    item of items.toml), never a calculation from GAAP rows; None for any other non-GAAP or forward figure."""
    item = item_in(question)
    if item is None or not item.key.startswith("adjusted_") or _GROWTH.search(question) or _AVERAGE.search(question):
        return None
    years = _asked_years(question) or sorted(years_in(question))
    year = years[-1] if years else default_year
    if year is None:
        return None
    return Plan("lookup", [year], item=item, answer_scale=scale_from_text(question))


def _named_or_defined(question: str, target: int) -> list[Metric]:
    """The metric asked: the question's own definition when it computes something other than the textbook
    metric of that name (or the question asks no textbook metric), else the textbook metric's alternatives."""
    named = [m for m in METRICS if m.pattern.search(question)]
    if named:
        named = [m for m in named if m.key == named[0].key]
    defined = defined_metric(question, target)
    if defined is None:
        return named
    if not named or not any(m.pattern.search(ask_text(question)) for m in named):
        return [defined]  # a textbook metric named only inside the definitions ("CCC = DIO + DSO - DPO")
    same_name = any(m.pattern.search(defined.name) for m in named)
    return [defined] if same_name and not any(same_formula(defined, m) for m in named) else named


def _plan(question: str, default_year: int | None) -> Plan | None:
    years = _asked_years(question)
    avg = _AVERAGE.search(question)
    span = 1
    if avg:
        raw = (avg.group(1) or avg.group(2) or "").lower()
        span = _WORD_NUM.get(raw) or (int(raw) if raw.isdigit() else 1)
    all_years = sorted(years_in(question))
    if years:
        target = years[-1]
    elif all_years:
        target = all_years[-1]
    elif default_year is not None:
        target = default_year
    else:
        return None
    if avg:
        span_years = years if len(years) >= 2 else all_years
        eval_years = (
            list(range(span_years[0], span_years[-1] + 1))
            if len(span_years) >= 2
            else list(range(target - span + 1, target + 1))
        )
    elif len(years) >= 2:
        eval_years = years  # "FY2022 compared to FY2021": each year asked about
    else:
        eval_years = [target]
    dm = _DECIMALS.search(question)
    decimals = None
    if dm:
        raw = dm.group(1).lower()
        decimals = _DEC_WORDS.get(raw, int(raw) if raw.isdigit() else None)
    is_avg = bool(avg) and len(eval_years) > 1
    cagr = _cagr_years(question, years or all_years, target) if _CAGR.search(question) else []
    metrics = [convention(m, question) for m in _named_or_defined(question, target)]
    if metrics and not (metrics[0].key in ("cogs_pct_revenue", "capex_to_revenue") and _PART.search(question)):
        if cagr:
            return Plan("cagr", cagr, metrics, decimals=decimals)
        return Plan("metric", eval_years, metrics, average=is_avg, decimals=decimals,
                    answer_scale=scale_from_text(question))  # fmt: skip
    pw = _part_of_whole(question)
    if _SHARE_OF.search(question):
        plan = _share_plan(question, eval_years, decimals, bool(avg))
        if plan is not None or pw is None:
            return plan  # a share of an item we do not know is not the item itself
    if pw is not None:
        metric = share_metric(pw[0], pw[1], pw[2])
        return Plan("metric", eval_years, [metric], average=is_avg, decimals=decimals)
    if _PART.search(question):
        return None
    item = item_in(question)
    if item is None:
        return None
    if cagr:
        return Plan("cagr", cagr, item=item, decimals=decimals)
    if _GROWTH.search(question) and not avg:
        return Plan("growth", [target], item=item, decimals=decimals)
    return Plan("lookup", eval_years, item=item, average=is_avg, decimals=decimals,
                answer_scale=scale_from_text(question))  # fmt: skip
