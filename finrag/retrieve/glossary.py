"""Query rewrite: analysts' shorthand -> the words filings use.

A generic finance glossary (no company, no question in it): each entry maps a pattern of how people
ask to the line items and statement names where the figure is printed. Expansions go into the
sparse (BM25) query and a second dense query; the original question is always kept."""

from __future__ import annotations

import re
from dataclasses import dataclass

# (pattern, expansion). Patterns are matched case-insensitively on word boundaries.
GLOSSARY: list[tuple[str, str]] = [
    (
        r"capex|capital expenditures?|capital spending",
        "purchases of property, plant and equipment capital expenditures cash flows investing activities",
    ),
    (r"pp&e|ppne|ppe|fixed assets?", "property, plant and equipment, net balance sheet"),
    (r"fixed asset turnover", "total revenue net sales property, plant and equipment net"),
    (
        r"operating cash flows?|cash from operations|cfo",
        "net cash provided by operating activities statement of cash flows",
    ),
    (
        r"free cash flow|fcf",
        "net cash provided by operating activities purchases of property, plant and equipment",
    ),
    (
        r"cash flow statement|statement of cash flows|cash flows?",
        "consolidated statements of cash flows operating investing financing activities",
    ),
    (
        r"working capital|current ratio|liquidity",
        "total current assets total current liabilities balance sheet",
    ),
    (
        r"quick ratio",
        "cash and cash equivalents marketable securities accounts receivable total current liabilities",
    ),
    (r"inventory turnover|inventory|inventories", "inventories cost of sales cost of goods sold"),
    (r"cogs|cost of goods sold", "cost of sales cost of revenue"),
    (r"dpo|days payable", "accounts payable cost of sales"),
    (r"dso|days sales outstanding", "accounts receivable net revenue"),
    (r"roa|return on assets", "net income total assets"),
    (r"roe|return on equity", "net income total shareholders equity"),
    (r"gross margin|gross profit", "gross profit gross margin net sales cost of sales"),
    (
        r"operating margin|operating income|operating profit|ebit",
        "operating income net sales revenue statement of income",
    ),
    (r"ebitda", "operating income depreciation and amortization"),
    (r"net margin|net income|net earnings|profit", "net income statement of income"),
    (r"revenues?|top ?line|sales", "net sales total revenues"),
    (r"eps|earnings per share", "earnings per share basic diluted"),
    (
        r"effective tax rate|tax rate",
        "effective tax rate provision for income taxes income before income taxes",
    ),
    (r"dividends?|payout", "cash dividends paid per share dividends declared"),
    (r"buybacks?|share repurchases?|repurchased?", "repurchases of common stock treasury stock"),
    (r"debt|leverage|borrowings?", "long-term debt short-term borrowings total debt"),
    (r"interest coverage", "operating income interest expense"),
    (r"restructuring", "restructuring charges costs"),
    (r"segments?|business units?|divisions?", "segment results net sales operating income by segment"),
    (
        r"geograph(?:y|ies|ic)|regions?|countries",
        "geographic information net sales by geographic area united states international",
    ),
    (r"acquisitions?|m&a|acquired", "acquisitions business combinations purchase price"),
    (r"legal|litigation|lawsuits?|legal battles?", "legal proceedings litigation contingencies"),
    (r"pensions?|retirees?|postretirement", "pension and postretirement benefit payments expected"),
    (r"credit (?:agreement|facility)|revolv\w*", "revolving credit agreement facility borrowing"),
    (
        r"shareholder vote|voting results|agm|annual meeting",
        "submission of matters to a vote of security holders votes for against abstain",
    ),
    (r"guidance|outlook|expected", "outlook guidance expects"),
]

_COMPILED = [(re.compile(rf"(?<![\w&])(?:{pat})(?![\w&])", re.I), exp) for pat, exp in GLOSSARY]


@dataclass(slots=True)
class RewrittenQuery:
    original: str
    expansions: list[str]

    @property
    def sparse_text(self) -> str:
        return " ".join([self.original, *self.expansions])

    @property
    def queries(self) -> list[str]:
        """Dense queries: the question, then the question with the filing's wording."""
        if not self.expansions:
            return [self.original]
        return [self.original, f"{self.original} {' '.join(self.expansions)}"]


class GlossaryRewriter:
    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled

    def rewrite(self, question: str) -> RewrittenQuery:
        if not self.enabled:
            return RewrittenQuery(question, [])
        expansions = [exp for pattern, exp in _COMPILED if pattern.search(question)]
        return RewrittenQuery(question, list(dict.fromkeys(expansions)))
