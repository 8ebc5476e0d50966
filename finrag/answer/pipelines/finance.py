"""Generic finance definitions: line items as filings print them, metrics as formulas over line items,
and reading a line item's value for a fiscal year from a statement page.

Nothing here is specific to a company or a question: a metric is its textbook (FinanceBench)
definition, e.g. DPO = days x average accounts payable / (COGS + change in inventory), and a line
item is the set of row labels filings use for it ("Net sales", "Total net revenues", ...)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from finrag.answer import calculator as calc
from finrag.answer.calculator import CalcInput, CalcStep
from finrag.answer.numbers import analyze_page, content_words, scale_from_text, years_in


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


def _li(
    key: str, name: str, labels: str, query: str, statement: str, avoid: str = "", **kw: bool
) -> tuple[str, LineItem]:
    split = tuple(s.strip() for s in labels.split("|") if s.strip())
    avoid_t = tuple(s.strip() for s in avoid.split("|") if s.strip())
    return key, LineItem(key, name, split, query, statement, avoid=avoid_t, **kw)


_CHANGE = "increase|decrease|change in|changes in|growth|%|percent"
ITEMS: dict[str, LineItem] = dict(
    [
        _li(
            "revenue",
            "revenue",
            "total net revenues|total net revenue|total revenues|total revenue|net revenues|net revenue|"
            "total net sales|net sales|revenues|revenue|net operating revenues|operating revenues|sales|"
            "total revenues and other income",
            "total revenue net sales income statement",
            "income",
            "cost|costs|deferred|unearned|per share|expense|" + _CHANGE,
        ),
        _li(
            "cogs",
            "cost of goods sold",
            "cost of sales|cost of goods sold|cost of revenues|cost of revenue|cost of products sold|"
            "costs of goods sold|cost of goods and services sold|total cost of revenues|total cost of sales|"
            "cost of merchandise sold|cost of net revenues",
            "cost of sales cost of goods sold income statement",
            "income",
            "excluding|exclusive|" + _CHANGE,
        ),
        _li(
            "gross_profit",
            "gross profit",
            "gross profit|gross margin",
            "gross profit income statement",
            "income",
            "%|percent|rate",
        ),
        _li(
            "operating_income",
            "operating income",
            "operating income|income from operations|operating profit|operating income (loss)|"
            "income (loss) from operations|earnings from operations|total operating income",
            "operating income income statement",
            "income",
            "non-operating|nonoperating|other operating|margin|before|%|per share|expenses",
        ),
        _li(
            "net_income",
            "net income",
            "net income|net earnings|net income (loss)|net income attributable to|net earnings attributable to|"
            "net income (loss) attributable to",
            "net income income statement",
            "income",
            "per share|noncontrolling|non-controlling|comprehensive|adjustments|margin|%|before|continuing",
        ),
        _li(
            "pretax_income",
            "income before income taxes",
            "income before income taxes|earnings before income taxes|income before provision for income taxes|"
            "income (loss) before income taxes|income before taxes|income before income tax expense|"
            "income from continuing operations before income taxes|loss before income taxes|"
            "(loss)/income before income taxes|income/(loss) before income taxes|earnings (loss) before income taxes|"
            "(loss) income before income taxes|loss from continuing operations before income taxes|"
            "income before income tax provision|income (loss) before provision for income taxes",
            "income before income taxes",
            "income",
            "per share|%",
        ),
        _li(
            "income_tax",
            "provision for income taxes",
            "provision for income taxes|income tax expense|income tax provision|provision for taxes on income|"
            "income taxes|provision for (benefit from) income taxes|income tax expense (benefit)",
            "provision for income taxes income tax expense",
            "income",
            "before|deferred|paid|payable|net of|rate|receivable",
        ),
        _li(
            "interest_expense",
            "interest expense",
            "interest expense|interest expense, net|interest and debt expense|interest expense net",
            "interest expense",
            "income",
            "paid|income and|rate",
        ),
        _li(
            "da",
            "depreciation and amortization",
            "depreciation and amortization|depreciation, depletion and amortization|depreciation & amortization|"
            "depreciation, amortization and other|depreciation and amortization expense|depreciation",
            "depreciation and amortization cash flows operating activities",
            "cash",
            "accumulated|net of|less",
        ),
        _li(
            "capex",
            "capital expenditures",
            "purchases of property, plant and equipment|purchases of property and equipment|capital expenditures|"
            "additions to property, plant and equipment|payments for property, plant and equipment|"
            "capital spending|expenditures for property, plant and equipment|additions to property and equipment|"
            "payments for acquisition of property, plant and equipment|purchase of property and equipment",
            "purchases of property, plant and equipment capital expenditures cash flows investing",
            "cash",
            "proceeds|sale|sales of|disposal",
        ),
        _li(
            "cfo",
            "cash from operations",
            "net cash provided by operating activities|net cash provided by (used in) operating activities|"
            "net cash from operating activities|cash provided by operations|net cash flows from operating activities|"
            "net cash provided by operations|cash flows from operating activities|net cash provided by operating",
            "net cash provided by operating activities cash flows",
            "cash",
            "investing|financing|discontinued",
            absolute=False,
        ),
        _li(
            "dividends",
            "dividends paid",
            "dividends paid|cash dividends paid|dividends paid to shareholders|payments of dividends|"
            "cash dividends|dividends paid to common shareholders|dividends",
            "dividends paid cash flows financing activities",
            "cash",
            "per share|declared per|noncontrolling|non-controlling|received",
        ),
        _li("total_assets", "total assets", "total assets", "total assets balance sheet", "balance", "current"),
        _li(
            "current_assets",
            "total current assets",
            "total current assets",
            "total current assets balance sheet",
            "balance",
        ),
        _li(
            "current_liabilities",
            "total current liabilities",
            "total current liabilities",
            "total current liabilities balance sheet",
            "balance",
        ),
        _li(
            "inventory",
            "inventories",
            "inventories|inventory|merchandise inventories|inventories, net|inventory, net|total inventories",
            "inventories balance sheet",
            "balance",
            "turnover|reserve|" + _CHANGE,
        ),
        _li(
            "accounts_payable",
            "accounts payable",
            "accounts payable|trade accounts payable|accounts payable, trade|trade payables|accounts payable - trade",
            "accounts payable balance sheet current liabilities",
            "balance",
            "days|" + _CHANGE,
        ),
        _li(
            "accounts_receivable",
            "accounts receivable",
            "accounts receivable, net|accounts receivable|trade receivables|receivables, net|trade accounts receivable|"
            "receivables",
            "accounts receivable balance sheet current assets",
            "balance",
            "days|allowance for|" + _CHANGE,
        ),
        _li(
            "ppe",
            "net property plant and equipment",
            "property, plant and equipment, net|property and equipment, net|net property, plant and equipment|"
            "property, plant and equipment|property and equipment|property, plant, and equipment, net|"
            "plant, property and equipment, net",
            "property, plant and equipment net balance sheet",
            "balance",
            "purchases|additions|proceeds|gross|payments|sale",
        ),
        _li(
            "total_equity",
            "total shareholders' equity",
            "total shareholders' equity|total stockholders' equity|total equity|total shareholders equity|"
            "total stockholders equity|total shareowners' equity",
            "total shareholders equity balance sheet",
            "balance",
            "liabilities and",
        ),
        _li(
            "cash",
            "cash and cash equivalents",
            "cash and cash equivalents|cash and equivalents|cash",
            "cash and cash equivalents balance sheet",
            "balance",
            "beginning|end of|increase|decrease|restricted|provided|used|flows",
        ),
        _li(
            "short_term_investments",
            "short-term investments",
            "short-term investments|marketable securities|short-term marketable securities",
            "short-term investments marketable securities balance sheet",
            "balance",
            "purchases|proceeds|sales|maturities|unrealized|realized|gain|gains|loss|losses|income",
        ),
        _li(
            "long_term_debt",
            "long-term debt",
            "total long-term debt|long-term debt|long-term debt, net|long-term debt, excluding current portion",
            "long-term debt balance sheet",
            "balance",
            "proceeds|repayments|issuance|payments|current portion|due within",
        ),
        _li(
            "sga",
            "selling general and administrative expenses",
            "selling, general and administrative|selling, general and administrative expenses|"
            "selling, general and administrative expense",
            "selling general administrative expenses",
            "income",
            _CHANGE,
        ),
        _li(
            "rd",
            "research and development expense",
            "research and development|research and development expenses|research, development and related expenses",
            "research and development expense",
            "income",
            _CHANGE,
        ),
        _li(
            "eps_diluted",
            "diluted earnings per share",
            "diluted|diluted earnings per share|earnings per share diluted|diluted net income per share",
            "diluted earnings per share",
            "income",
            "shares|weighted",
            per_share=True,
            absolute=False,
        ),
    ]
)

# How questions name line items (first match wins; specific before general).
ITEM_MENTIONS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (k, re.compile(p, re.I))
    for k, p in (
        ("cogs", r"\b(?:cogs|cost of (?:goods|sales|revenues?|products))\b"),
        ("gross_profit", r"\bgross profit\b"),
        ("operating_income", r"\b(?:operating income|operating profit|income from operations|ebit)\b(?!da)"),
        ("pretax_income", r"\b(?:pre-?tax income|income before (?:income )?taxes)\b"),
        ("net_income", r"\b(?:net income|net earnings|net profit|bottom line)\b"),
        ("income_tax", r"\b(?:income tax expense|provision for income taxes|tax provision)\b"),
        ("interest_expense", r"\binterest expense\b"),
        ("da", r"\b(?:depreciation|d&a)\b"),
        ("capex", r"\b(?:capex|capital expenditures?|capital spending|purchases? of (?:property|pp&e))\b"),
        ("cfo", r"\b(?:cash (?:flow )?from operat\w+|operating cash flows?|cash provided by operating)\b"),
        ("dividends", r"\bdividends?\b"),
        ("current_assets", r"\b(?:total )?current assets\b"),
        ("current_liabilities", r"\b(?:total )?current liabilities\b"),
        ("total_assets", r"\btotal assets\b"),
        ("inventory", r"\binventor(?:y|ies)\b"),
        ("accounts_payable", r"\b(?:accounts payable|payables)\b"),
        ("accounts_receivable", r"\b(?:accounts receivable|receivables)\b"),
        ("ppe", r"\b(?:pp&e|ppne|ppe|fixed assets?|property,? plant(?:,)? (?:and|&) equipment)\b"),
        ("total_equity", r"\b(?:shareholders'?|stockholders'?|total) equity\b"),
        ("long_term_debt", r"\b(?:long-term debt|total debt)\b"),
        ("cash", r"\bcash and (?:cash )?equivalents\b"),
        ("sga", r"\b(?:sg&a|selling, general)\b"),
        ("rd", r"\b(?:r&d|research and development)\b"),
        ("eps_diluted", r"\b(?:diluted eps|diluted earnings per share|eps)\b"),
        ("revenue", r"\b(?:revenues?|net sales|sales|top[- ]?line|turnover)\b"),
    )
)


# ---------------------------------------------------------------------------------------------
# Metrics

Get = Callable[[str, int], CalcInput]  # (item key, year offset) -> input


@dataclass(frozen=True, slots=True)
class Metric:
    key: str
    name: str
    pattern: re.Pattern[str]
    needs: tuple[tuple[str, int], ...]  # (item, year offset: 0 = the fiscal year asked, -1 = the year before)
    build: Callable[[Get], list[CalcStep]]  # the last step is the answer
    formula: str  # in words: figures in it would be checked against the filing
    unit: str  # "%", "x", "days", "USD"
    decimals: int = 2


def _m(
    key: str,
    name: str,
    pattern: str,
    needs: str,
    build: Callable[[Get], list[CalcStep]],
    formula: str,
    unit: str,
    decimals: int = 2,
) -> Metric:
    parsed = tuple((n.split("@")[0], int(n.split("@")[1]) if "@" in n else 0) for n in needs.split())
    return Metric(key, name, re.compile(pattern, re.I), parsed, build, formula, unit, decimals)


def _ebitda(g: Get) -> CalcStep:
    s = calc.total(g("operating_income", 0), g("da", 0), unit="USD")
    return s.model_copy(update={"op": "ebitda", "formula": "operating income + depreciation and amortization"})


def _pct(step: CalcStep, name: str) -> CalcStep:
    """A ratio restated in percent (ROA 0.084 -> 8.4%), logged so the percent figure is checkable."""
    return calc.compute("{0} * 100", [CalcInput(name=name, value=step.result)], unit="%")


# Specific before general: "EBITDA less capex" before "EBITDA margin" before "EBITDA".
METRICS: tuple[Metric, ...] = (
    _m(
        "ebitda_less_capex",
        "EBITDA less capital expenditures",
        r"\bebitda\s+(?:less|minus)\s+(?:capex|capital expenditures?)\b",
        "operating_income da capex",
        lambda g: [
            s1 := _ebitda(g),
            calc.difference(CalcInput(name="EBITDA", value=s1.result), g("capex", 0), unit="USD"),
        ],
        "operating income + depreciation and amortization - capital expenditures",
        "USD",
        0,
    ),
    _m(
        "ebitda_margin",
        "EBITDA margin",
        r"\bebitda\b[^.?]{0,20}\bmargin\b",
        "operating_income da revenue",
        lambda g: [s1 := _ebitda(g), calc.margin(CalcInput(name="EBITDA", value=s1.result), g("revenue", 0))],
        "(operating income + depreciation and amortization) / revenue",
        "%",
        1,
    ),
    _m(
        "ebitda",
        "EBITDA",
        r"\bebitda\b",
        "operating_income da",
        lambda g: [_ebitda(g)],
        "operating income + depreciation and amortization",
        "USD",
        0,
    ),
    _m(
        "gross_margin",
        "gross margin",
        r"\bgross (?:profit )?margin\b",
        "gross_profit revenue",
        lambda g: [calc.margin(g("gross_profit", 0), g("revenue", 0))],
        "gross profit / revenue",
        "%",
        1,
    ),
    _m(
        "gross_margin",
        "gross margin",
        r"\bgross (?:profit )?margin\b",
        "revenue cogs",
        lambda g: [
            s1 := calc.difference(g("revenue", 0), g("cogs", 0), unit="USD"),
            calc.margin(CalcInput(name="gross profit", value=s1.result), g("revenue", 0)),
        ],
        "(revenue - cost of goods sold) / revenue",
        "%",
        1,
    ),
    _m(
        "operating_margin",
        "operating margin",
        r"\boperating (?:income |profit )?(?:%\s*)?margin\b|\bebit margin\b",
        "operating_income revenue",
        lambda g: [calc.margin(g("operating_income", 0), g("revenue", 0))],
        "operating income / revenue",
        "%",
        1,
    ),
    _m(
        "net_margin",
        "net profit margin",
        r"\b(?:net (?:profit |income )?margin|profit margin)\b",
        "net_income revenue",
        lambda g: [calc.margin(g("net_income", 0), g("revenue", 0))],
        "net income / revenue",
        "%",
        1,
    ),
    _m(
        "cogs_pct_revenue",
        "cost of goods sold as a share of revenue",
        r"\b(?:cogs|cost of (?:goods sold|sales|revenues?))\b[^.?]{0,30}(?:%|percent(?:age)?|share)\s+of\s+"
        r"(?:total\s+)?(?:revenue|net sales|sales)",
        "cogs revenue",
        lambda g: [calc.margin(g("cogs", 0), g("revenue", 0))],
        "cost of goods sold / revenue",
        "%",
        1,
    ),
    _m(
        "capex_to_revenue",
        "capital expenditures as a share of revenue",
        r"\b(?:capex|capital expenditures?)\b\s*(?:/|to|as\s+a\s+(?:%|percent(?:age)?)\s+of|-to-)\s*"
        r"(?:total\s+)?(?:revenue|net sales|sales)",
        "capex revenue",
        lambda g: [calc.margin(g("capex", 0), g("revenue", 0))],
        "capital expenditures / revenue",
        "%",
        1,
    ),
    _m(
        "fixed_assets_to_total_assets",
        "fixed assets as a share of total assets",
        r"\bfixed assets?\s*(?:/|to)\s*total assets\b",
        "ppe total_assets",
        lambda g: [calc.margin(g("ppe", 0), g("total_assets", 0))],
        "net property, plant and equipment / total assets",
        "%",
        1,
    ),
    _m(
        "fixed_asset_turnover",
        "fixed asset turnover ratio",
        r"\bfixed[- ]asset turnover\b|\bppe turnover\b",
        "revenue ppe@-1 ppe",
        lambda g: [calc.turnover(g("revenue", 0), g("ppe", -1), g("ppe", 0))],
        "revenue / average net property, plant and equipment of the two year-ends",
        "x",
    ),
    _m(
        "inventory_turnover",
        "inventory turnover ratio",
        r"\binventory turnover\b|\btimes\b[^.?]{0,40}\bsold its inventory\b|\bsold its inventory\b",
        "cogs inventory@-1 inventory",
        lambda g: [calc.inventory_turnover(g("cogs", 0), g("inventory", -1), g("inventory", 0))],
        "cost of goods sold / average inventories of the two year-ends",
        "x",
    ),
    _m(
        "asset_turnover",
        "asset turnover ratio",
        r"\b(?:total )?asset turnover\b",
        "revenue total_assets@-1 total_assets",
        lambda g: [calc.turnover(g("revenue", 0), g("total_assets", -1), g("total_assets", 0))],
        "revenue / average total assets of the two year-ends",
        "x",
    ),
    _m(
        "roa",
        "return on assets (ROA)",
        r"\breturn on (?:average )?(?:total )?assets\b|\broa\b",
        "net_income total_assets@-1 total_assets",
        lambda g: [
            s := calc.turnover(g("net_income", 0), g("total_assets", -1), g("total_assets", 0)),
            _pct(s, "ROA"),
        ],
        "net income / average total assets of the two year-ends",
        "x",
    ),
    _m(
        "roe",
        "return on equity (ROE)",
        r"\breturn on (?:average )?(?:shareholders'?|stockholders'?|total )?equity\b|\broe\b",
        "net_income total_equity@-1 total_equity",
        lambda g: [
            s := calc.turnover(g("net_income", 0), g("total_equity", -1), g("total_equity", 0)),
            _pct(s, "ROE"),
        ],
        "net income / average shareholders' equity of the two year-ends",
        "x",
    ),
    _m(
        "dpo",
        "days payable outstanding (DPO)",
        r"\bdays payables? outstanding\b|\bdpo\b",
        "accounts_payable@-1 accounts_payable cogs inventory@-1 inventory",
        lambda g: [
            calc.dpo(
                g("accounts_payable", -1), g("accounts_payable", 0), g("cogs", 0), g("inventory", -1), g("inventory", 0)
            )
        ],
        "days in the year x average accounts payable / (cost of goods sold + change in inventories)",
        "days",
    ),
    _m(
        "dso",
        "days sales outstanding (DSO)",
        r"\bdays sales outstanding\b|\bdso\b",
        "accounts_receivable@-1 accounts_receivable revenue",
        lambda g: [calc.days_ratio(g("accounts_receivable", -1), g("accounts_receivable", 0), g("revenue", 0))],
        "days in the year x average accounts receivable / revenue",
        "days",
    ),
    _m(
        "dio",
        "days inventory outstanding (DIO)",
        r"\bdays (?:inventory|in inventory) outstanding\b|\bdio\b|\bdays of inventory\b",
        "inventory@-1 inventory cogs",
        lambda g: [calc.days_ratio(g("inventory", -1), g("inventory", 0), g("cogs", 0))],
        "days in the year x average inventories / cost of goods sold",
        "days",
    ),
    _m(
        "quick_ratio",
        "quick ratio",
        r"\bquick ratio\b|\bacid[- ]test\b",
        "cash short_term_investments accounts_receivable current_liabilities",
        lambda g: [
            calc.compute(
                "({0} + {1} + {2}) / {3}",
                [
                    g("cash", 0),
                    g("short_term_investments", 0),
                    g("accounts_receivable", 0),
                    g("current_liabilities", 0),
                ],
                unit="x",
            )
        ],
        "(cash and cash equivalents + short-term investments + accounts receivable) / total current liabilities",
        "x",
    ),
    _m(
        "quick_ratio",
        "quick ratio",
        r"\bquick ratio\b|\bacid[- ]test\b",
        "cash accounts_receivable current_liabilities",
        lambda g: [
            calc.compute(
                "({0} + {1}) / {2}", [g("cash", 0), g("accounts_receivable", 0), g("current_liabilities", 0)], unit="x"
            )
        ],
        "(cash and cash equivalents + accounts receivable) / total current liabilities",
        "x",
    ),
    _m(
        "current_ratio",
        "current ratio",
        r"\b(?:current|working capital) ratio\b",
        "current_assets current_liabilities",
        lambda g: [calc.ratio(g("current_assets", 0), g("current_liabilities", 0))],
        "total current assets / total current liabilities",
        "x",
    ),
    _m(
        "working_capital",
        "working capital",
        r"\b(?:net )?working capital\b",
        "current_assets current_liabilities",
        lambda g: [calc.difference(g("current_assets", 0), g("current_liabilities", 0), unit="USD")],
        "total current assets - total current liabilities",
        "USD",
        0,
    ),
    _m(
        "debt_to_equity",
        "debt-to-equity ratio",
        r"\bdebt[- ]to[- ]equity\b|\bd/e\b",
        "long_term_debt total_equity",
        lambda g: [calc.ratio(g("long_term_debt", 0), g("total_equity", 0))],
        "long-term debt / total shareholders' equity",
        "x",
    ),
    _m(
        "effective_tax_rate",
        "effective tax rate",
        r"\beffective (?:income )?tax rate\b",
        "income_tax pretax_income",
        lambda g: [calc.margin(g("income_tax", 0), g("pretax_income", 0))],
        "provision for income taxes / income before income taxes",
        "%",
        1,
    ),
    _m(
        "interest_coverage",
        "interest coverage ratio",
        r"\binterest coverage\b|\btimes interest earned\b",
        "operating_income interest_expense",
        lambda g: [calc.ratio(g("operating_income", 0), g("interest_expense", 0))],
        "operating income / interest expense",
        "x",
    ),
    _m(
        "payout_ratio",
        "dividend payout ratio",
        r"\b(?:dividend )?payout ratio\b",
        "dividends net_income",
        lambda g: [calc.margin(g("dividends", 0), g("net_income", 0))],
        "dividends paid / net income",
        "%",
        1,
    ),
    _m(
        "fcf",
        "free cash flow",
        r"\bfree cash flows?\b|\bfcf\b",
        "cfo capex",
        lambda g: [calc.difference(g("cfo", 0), g("capex", 0), unit="USD")],
        "cash from operations - capital expenditures",
        "USD",
        0,
    ),
)

_GROWTH = re.compile(
    r"(?i)\b(?:growth|grow|grew|growing|change[sd]?|increase[sd]?|decrease[sd]?|decline[sd]?|yoy|"
    r"year[\s-]+over[\s-]+year|improv\w*|trend)\b"
)
_AVERAGE = re.compile(r"(?i)\b(?:(two|three|four|five|\d)[\s-]+years?\s+average|average\s+of\s+(?:the\s+)?"
                      r"(?:last\s+)?(two|three|four|five|\d)\s+years)\b")  # fmt: skip
_WORD_NUM = {"two": 2, "three": 3, "four": 4, "five": 5}
_DECIMALS = re.compile(r"(?i)\bround(?:ed)?\b[^.?]{0,60}?\b(one|two|three|four|zero|no|\d)\s+decimal")
_DEC_WORDS = {"zero": 0, "no": 0, "one": 1, "two": 2, "three": 3, "four": 4}


@dataclass(slots=True)
class Plan:
    """What a question asks for, in generic terms."""

    kind: str  # "metric" | "growth" | "lookup"
    years: list[int]  # fiscal years to evaluate (several for averages and trends)
    metrics: list[Metric] = field(default_factory=list)  # alternatives of one metric, tried in order
    item: LineItem | None = None
    average: bool = False
    decimals: int | None = None
    answer_scale: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        if self.metrics:
            return self.metrics[0].name
        assert self.item is not None
        return f"{self.item.name} growth" if self.kind == "growth" else self.item.name

    @property
    def unit(self) -> str:
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


def item_in(question: str) -> LineItem | None:
    for key, rx in ITEM_MENTIONS:
        if rx.search(question):
            return ITEMS[key]
    return None


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
_DEFINITION = re.compile(r"(?i)\b(?:is\s+)?defined\s+as\b.*|\bdefine\b.*|\baverage\b[^.?]{0,60}?\bbetween\b[^.?]*")
_SHARE_OF = re.compile(
    r"(?i)(?:%|percent(?:age)?|share|proportion)\s+of\s+(?:total\s+|net\s+)?(revenues?|net\s+sales|sales|"
    r"total\s+assets)|%\s*margin\b|\bmargin\s*%"
)


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
    denom = ITEMS[denom_key]
    metric = Metric(
        key=f"{numerator.key}_share",
        name=f"{numerator.name} as a share of {denom.name}",
        pattern=re.compile(re.escape(m.group(0))),
        needs=((numerator.key, 0), (denom_key, 0)),
        build=lambda g: [calc.margin(g(numerator.key, 0), g(denom_key, 0))],
        formula=f"{numerator.name} / {denom.name}",
        unit="%",
        decimals=1,
    )
    return Plan("metric", years, [metric], average=avg and len(years) > 1, decimals=decimals)


def plan_question(question: str, default_year: int | None) -> Plan | None:
    """A plan for a metric, a growth rate or a single line item; None when the question names none
    or asks for something statement rows cannot give (adjusted / non-GAAP figures, segments, regions)."""
    if _NON_GAAP.search(question):
        return None
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
    metrics = [m for m in METRICS if m.pattern.search(question)]
    if metrics and not (metrics[0].key in ("cogs_pct_revenue", "capex_to_revenue") and _PART.search(question)):
        key = metrics[0].key
        alternatives = [m for m in metrics if m.key == key]
        return Plan("metric", eval_years, alternatives, average=is_avg, decimals=decimals,
                    answer_scale=scale_from_text(question))  # fmt: skip
    if _SHARE_OF.search(question):
        return _share_plan(question, eval_years, decimals, bool(avg))
    if _PART.search(question):
        return None
    item = item_in(question)
    if item is None:
        return None
    if _GROWTH.search(question) and not avg:
        return Plan("growth", [target], item=item, decimals=decimals)
    return Plan("lookup", eval_years, item=item, average=is_avg, decimals=decimals,
                answer_scale=scale_from_text(question))  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Reading line items from pages

_NOTE_REF = re.compile(r"(?i)\((?:note|notes)\s*[\d\s,and]+\)|\(\d\)|\([a-z]\)")


def squash(text: str) -> str:
    """Lower-case letters only: PDF text may drop spaces ("Totalcurrentassets")."""
    return re.sub(r"[^a-z]", "", _NOTE_REF.sub("", text.lower()).replace("&", "and"))


_KIND_TITLES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("cash", re.compile(r"(?i)statements?\s+of\s+(?:consolidated\s+)?cash\s*flows?|cash\s*flows?\s+statements?")),
    ("balance", re.compile(r"(?i)balance\s*sheets?|statements?\s+of\s+(?:consolidated\s+)?financial\s+position")),
    (
        "income",
        re.compile(
            r"(?i)statements?\s+of\s+(?:consolidated\s+)?(?:income|operations|earnings)|income\s+statements?|"
            r"statements?\s+of\s+(?:comprehensive\s+)?(?:income|loss)"
        ),
    ),
)


def page_kind(text: str) -> str:
    """Which statement a page is, from its title: one of its first lines, without figures (a table row
    "Statement of operations: Net sales $ 816" in a note is not a title)."""
    lines = [ln.strip() for ln in text.split("\n") if ln.strip()][:7]
    for line in lines:
        if re.search(r"\d{2}", line) or len(line.split()) > 14:
            continue
        squashed = squash(line)
        for kind, rx in _KIND_TITLES:
            if rx.search(line):
                return kind
        # squashed titles: "CONSOLIDATEDSTATEMENTSOFCASHFLOWS"
        if "statementsofcashflows" in squashed or "statementofcashflows" in squashed:
            return "cash"
        if "balancesheet" in squashed or "financialposition" in squashed:
            return "balance"
        if re.search(r"statements?of(?:consolidated)?(?:income|operations|earnings)", squashed):
            return "income"
    return "other"


_PARTIAL_STATEMENT = re.compile(
    r"(?i)\b(?:condensed\s+(?:consolidating|financial\s+information)|consolidating|parent\s+company|"
    r"of\s+(?:the\s+)?registrant|guarantor|quarterly\s+(?:financial\s+)?(?:data|results)|unaudited|"
    r"selected\s+financial\s+data|pro\s+forma|equity\s+method|affiliated\s+companies|exhibit\s+\d+(?:\.\d+)?)\b"
)
_PROSE_END = re.compile(
    r"(?i)\b(?:totaled|totalled|was|were|is|are|of|to|and|by|from|at|approximately|about|reached|increased|"
    r"decreased|compared\s+with)\s*$"
)
_YEAR_TOKEN = re.compile(r"(?<![\d,.$])((?:19|20)\d{2})(?![\d,.%])")


def header_years_before(text: str, pos: int, max_lines: int = 40) -> list[int]:
    """Column years from the nearest line above `pos` that lists two or more years and no other figures
    ("(In millions, except per share amounts) 2021 2020 2019"): headers the page analysis missed."""
    end = text.rfind("\n", 0, pos)
    for _ in range(max_lines):
        if end <= 0:
            break
        start = text.rfind("\n", 0, end) + 1
        line = text[start:end]
        end = start - 1
        years = [int(y) for y in _YEAR_TOKEN.findall(line)]
        others = re.findall(r"\d[\d,.]*", _YEAR_TOKEN.sub(" ", line))
        if len(years) >= 2 and len(set(years)) == len(years) and not others:
            return years
    return []


def row_label(text: str, start: int) -> str:
    """The row's own label: the line text before its first cell, else the nearest line above with
    words (PDFs that put every cell on its own line print the label above the numbers)."""
    ls = text.rfind("\n", 0, start) + 1
    own = text[ls:start].strip(" $\t(")
    if re.search(r"[A-Za-z]{2}", own):
        return own
    pos = ls - 1
    for _ in range(4):
        if pos <= 0:
            break
        prev = text.rfind("\n", 0, pos) + 1
        line = text[prev:pos].strip()
        pos = prev - 1
        if re.search(r"[A-Za-z]{2}", line):
            return re.sub(r"[\s$()\d,.\-–—]+$", "", line)
    return own


def label_score(item: LineItem, label: str, context: str = "") -> float:
    """How well a row label names the line item: 1 exact, 0.8 prefix, 0.55 contained, 0 not at all.
    `context` (the label with its section heading, "Current liabilities: Total") helps only when the
    label itself says too little."""
    main = label.split(":")[-1] if ":" in label else label
    sq_main, sq_ctx = squash(main), squash(context or label)
    if not sq_main:
        return 0.0
    low = f" {main.lower()} "
    for a in item.avoid:
        if (a.isalpha() and re.search(rf"\b{re.escape(a)}\b", low)) or (not a.isalpha() and a in low):
            return 0.0
        if len(a) > 6 and squash(a) in sq_main:
            return 0.0
    best = 0.0
    for i, lab in enumerate(item.labels):
        s = squash(lab)
        penalty = 0.01 * i
        if sq_main == s:
            best = max(best, 1.0 - penalty)
        elif sq_main.startswith(s):
            best = max(best, 0.8 - penalty)
        elif s in sq_main and len(s) >= 0.5 * len(sq_main):
            best = max(best, 0.55 - penalty)
        elif sq_ctx.endswith(s):  # "Operating expenses: Total" style headings
            best = max(best, 0.4 - penalty)
    return best


@dataclass(slots=True)
class Found:
    """A line item's value for one fiscal year, and where it is printed."""

    item: str
    year: int
    value: float  # base units (dollars), signed as reported unless the item is absolute
    text: str  # as printed: "(230)"
    label: str
    doc_id: str
    doc_name: str
    page: int  # zero-based
    score: float
    chunk_id: str = ""
    scale: float = 1.0
    column_by_header: bool = True

    @property
    def citation(self) -> str:
        return f"{self.doc_name} p.{self.page + 1}"

    def as_input(self, name: str) -> CalcInput:
        return CalcInput(name=name, value=self.value, citation=self.citation, year=self.year)


def find_in_page(
    item: LineItem, year: int, text: str, *, filing_year: int | None = None
) -> list[tuple[float, float, str, str, float, bool]]:
    """Candidates (score, value, printed text, label, scale, by_header) for `item` in fiscal `year` on a page.

    A cell counts when its column header says `year`; rows without a resolved header fall back to
    column order (current year first, as statements print it) when the filing's year is known."""
    page = analyze_page(text)
    kind = page_kind(text)
    kind_bonus = 0.0
    if item.statement != "any" and kind != "other":
        kind_bonus = 0.3 if kind == item.statement else -0.6
    if _PARTIAL_STATEMENT.search(text[:800]):
        kind_bonus -= 0.25  # parent-only, consolidating or quarterly tables repeat the labels with other values
    out: list[tuple[float, float, str, str, float, bool]] = []
    for row_id, cells in page.rows.items():
        idxs = [i for i in cells if i is not None]
        if not idxs:
            continue
        context = page.contexts[idxs[0]]
        label = row_label(text, page.figures[idxs[0]].start) or context
        if len(label.split()) > 12 or _PROSE_END.search(label):
            continue  # a sentence broken across lines ("... totaled $1.6\nbillion"), not a table row
        ls = label_score(item, label, context)
        if ls <= 0:
            continue
        pick: int | None = None
        by_header = True
        for i in idxs:
            cell = page.cells.get(i)
            if cell is not None and cell.year == year:
                pick = i
                break
        if pick is None and not any(page.cells.get(i) for i in idxs):
            money = [i for i in idxs if page.figures[i].unit not in ("%",)]
            years = header_years_before(text, page.figures[idxs[0]].start)
            if years and year in years and len(money) >= len(years):
                pick = money[years.index(year)]
            elif filing_year is not None and 0 <= filing_year - year < len(money):
                # no header at all: statements print the current year first
                pick, by_header = money[filing_year - year], False
        if pick is None:
            continue
        fig = page.figures[pick]
        if fig.unit in ("%", "bps", "x"):
            continue
        if fig.scale_word:
            scale = fig.scale
        elif item.per_share or (fig.unit or "").endswith("/share"):
            scale = 1.0
        else:
            scale = page.scales[0] if page.scales else 1e6  # statements without a stated scale: millions
        value = float(f"{fig.number!r}") * scale
        if fig.negative and not item.absolute:
            value = -value
        score = ls + kind_bonus - (0.0 if by_header else 0.25) - 0.002 * row_id
        out.append((score, value, fig.text, label, scale, by_header))
    return out


def format_money(value: float, scale: float | None = None, decimals: int | None = None) -> str:
    """'$1,468 million', '-$1,561 million', '$0.40 billion', '$3.45' (per share)."""
    sign = "-" if value < 0 else ""
    v = abs(value)
    if scale is None:
        scale = 1e9 if v >= 1e11 else 1e6 if v >= 1e5 else 1.0
    word = {1e3: " thousand", 1e6: " million", 1e9: " billion"}.get(scale, "")
    shown = v / scale
    if decimals is None:
        decimals = 0 if (scale > 1 and abs(shown - round(shown)) < 1e-9) else 2
    return f"{sign}${shown:,.{decimals}f}{word}"


def format_result(value: float, unit: str, decimals: int, answer_scale: float | None = None) -> str:
    if unit == "%":
        return f"{value:.{decimals}f}%"
    if unit == "days":
        return f"{value:.{decimals}f} days"
    if unit == "x":
        return f"{value:.{decimals}f}"
    if unit == "USD/share":
        return f"${value:.2f} per share"
    scale = answer_scale or (1e6 if abs(value) >= 1e5 else None)
    return format_money(value, scale, None if decimals == 0 else decimals)


def input_names(steps: Sequence[CalcStep]) -> list[str]:
    return [i.name for s in steps for i in s.inputs]


# Words of metric names ("working capital", "turnover"): a calculated answer uses them, filings rarely
# print them. Line-item words stay checkable.
CALC_VOCABULARY: frozenset[str] = frozenset().union(*(content_words(m.name) for m in METRICS)) - frozenset().union(
    *(content_words(" ".join(i.labels)) for i in ITEMS.values())
)

# Generic line-item names ("cost of goods sold") that calculator answers print next to the filing's label.
ITEM_NAME_WORDS: frozenset[str] = frozenset().union(*(content_words(i.name) for i in ITEMS.values()))
