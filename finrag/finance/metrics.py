"""Line items and metrics, read from `data/items.toml` and `data/metrics.toml`.

Nothing here is specific to a company or a question: a metric is its textbook (FinanceBench)
definition, e.g. DPO = days x average accounts payable / (COGS + change in inventory), and a line
item is the set of row labels filings use for it ("Net sales", "Total net revenues", ...).
A new metric is a `[[metrics]]` entry in the data file; code changes only for a new calculator function."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from finrag.finance import calculator as calc
from finrag.finance.calculator import CalcInput, CalcStep
from finrag.finance.data import load
from finrag.finance.words import content_words


@dataclass(frozen=True, slots=True)
class LineItem:
    key: str
    name: str  # how the answer names it
    labels: tuple[str, ...]  # row labels, most specific first
    query: str  # search words
    statement: str  # "income" | "balance" | "cash" | "any"
    absolute: bool = True  # report the magnitude: capex is printed "(230)" on the cash flow statement
    avoid: tuple[str, ...] = ()  # label words that make a row a different item
    per_share: bool = False


Get = Callable[[str, int], CalcInput]  # (item key, year offset) -> input


@dataclass(frozen=True, slots=True)
class Step:
    """One calculator call: `fn` over `args` (line items "key" / "key@-1", or an earlier step's name)."""

    fn: str
    args: tuple[str, ...]
    name: str = ""
    unit: str | None = None
    expression: str = ""  # for fn = "compute"
    op: str = ""  # renames the step in the log ("ebitda" for a total)
    formula: str = ""


# Calculator functions a step may call; `unit` is passed only to those that take it.
_FUNCTIONS: dict[str, tuple[Callable[..., CalcStep], bool]] = {
    "margin": (calc.margin, False),
    "ratio": (calc.ratio, False),
    "difference": (calc.difference, True),
    "total": (calc.total, True),
    "turnover": (calc.turnover, False),
    "inventory_turnover": (calc.inventory_turnover, False),
    "days_ratio": (calc.days_ratio, False),
    "dpo": (calc.dpo, False),
}


def _item_ref(arg: str) -> tuple[str, int]:
    key, _, off = arg.partition("@")
    return key, int(off) if off else 0


def run_steps(steps: tuple[Step, ...], get: Get) -> list[CalcStep]:
    """Evaluate a metric's steps; the last one is the answer."""
    out: list[CalcStep] = []
    named: dict[str, CalcStep] = {}
    for st in steps:
        inputs = [CalcInput(name=a, value=named[a].result) if a in named else get(*_item_ref(a)) for a in st.args]
        if st.fn == "compute":
            res = calc.compute(st.expression, inputs, unit=st.unit)
        else:
            fn, takes_unit = _FUNCTIONS[st.fn]
            res = fn(*inputs, unit=st.unit) if takes_unit else fn(*inputs)
        if st.op or st.formula:
            res = res.model_copy(update={k: v for k, v in (("op", st.op), ("formula", st.formula)) if v})
        if st.name:
            named[st.name] = res
        out.append(res)
    return out


@dataclass(frozen=True, slots=True)
class Metric:
    key: str
    name: str
    pattern: re.Pattern[str]
    needs: tuple[tuple[str, int], ...]  # (item, year offset: 0 = the fiscal year asked, -1 = the year before)
    steps: tuple[Step, ...]
    formula: str  # in words: figures in it would be checked against the filing
    unit: str  # "%", "x", "days", "USD"
    decimals: int = 2

    def build(self, get: Get) -> list[CalcStep]:
        """The calculation over the inputs `get` finds; the last step is the answer."""
        return run_steps(self.steps, get)

    @property
    def percent_logged(self) -> bool:
        """A ratio metric whose last step restates it in percent (ROA, ROE): the ratio is the answer,
        the percent a second way of writing it."""
        return self.unit == "x" and self.steps[-1].unit == "%"


def _step(raw: Mapping[str, Any]) -> Step:
    if raw["fn"] != "compute" and raw["fn"] not in _FUNCTIONS:
        raise ValueError(f"metrics.toml: unknown calculator function {raw['fn']!r}")
    return Step(
        fn=raw["fn"],
        args=tuple(raw["args"]),
        name=raw.get("name", ""),
        unit=raw.get("unit"),
        expression=raw.get("expression", ""),
        op=raw.get("op", ""),
        formula=raw.get("formula", ""),
    )


def _load_items() -> dict[str, LineItem]:
    return {
        key: LineItem(
            key=key,
            name=v["name"],
            labels=tuple(v["labels"]),
            query=v["query"],
            statement=v["statement"],
            absolute=v.get("absolute", True),
            avoid=tuple(v.get("avoid", ())),
            per_share=v.get("per_share", False),
        )
        for key, v in load("items")["items"].items()
    }


def _metric(m: Mapping[str, Any], pattern: str) -> Metric:
    return Metric(
        key=m["key"],
        name=m["name"],
        pattern=re.compile(pattern, re.I),
        needs=tuple(_item_ref(n) for n in m["needs"].split()),
        steps=tuple(_step(s) for s in m["steps"]),
        formula=m["formula"],
        unit=m["unit"],
        decimals=m.get("decimals", 2),
    )


def _load_metrics() -> tuple[Metric, ...]:
    return tuple(_metric(m, m["pattern"]) for m in load("metrics")["metrics"])


def _load_year_end(metrics: tuple[Metric, ...]) -> dict[str, Metric]:
    """{averaged metric's key: its year-end convention} (`[[year_end]]` of metrics.toml)."""
    patterns = {m.key: m.pattern.pattern for m in metrics}
    return {y["of"]: _metric(y, patterns[y["of"]]) for y in load("metrics").get("year_end", [])}


ITEMS: dict[str, LineItem] = _load_items()
# How questions name line items (first match wins; specific before general).
ITEM_MENTIONS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (m["item"], re.compile(m["pattern"], re.I)) for m in load("items")["mentions"]
)
# Specific before general: "EBITDA less capex" before "EBITDA margin" before "EBITDA".
METRICS: tuple[Metric, ...] = _load_metrics()
# The year-end convention of metrics whose textbook denominator is an average balance (ROA, ROE, ...).
YEAR_END: dict[str, Metric] = _load_year_end(METRICS)
AVERAGED: dict[str, Metric] = {y.key: next(m for m in METRICS if m.key == of) for of, y in YEAR_END.items()}


def share_metric(numerator: LineItem, denom: LineItem, asked: str) -> Metric:
    """`numerator` as a share of `denom` ("D&A % margin", "wages as a percent of net sales")."""
    return Metric(
        key=f"{numerator.key}_share",
        name=f"{numerator.name} as a share of {denom.name}",
        pattern=re.compile(re.escape(asked)),
        needs=((numerator.key, 0), (denom.key, 0)),
        steps=(Step("margin", (numerator.key, denom.key)),),
        formula=f"{numerator.name} / {denom.name}",
        unit="%",
        decimals=1,
    )


def item_in(question: str) -> LineItem | None:
    for key, rx in ITEM_MENTIONS:
        if rx.search(question):
            return ITEMS[key]
    return None


# Words of metric names ("working capital", "turnover"): a calculated answer uses them, filings rarely
# print them. Line-item words stay checkable.
CALC_VOCABULARY: frozenset[str] = frozenset().union(
    *(content_words(m.name) for m in METRICS), content_words(load("metrics").get("calc_words", ""))
) - frozenset().union(*(content_words(" ".join(i.labels)) for i in ITEMS.values()))

# Generic line-item names ("cost of goods sold") that calculator answers print next to the filing's label.
ITEM_NAME_WORDS: frozenset[str] = frozenset().union(*(content_words(i.name) for i in ITEMS.values()))
