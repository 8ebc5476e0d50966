"""The primary financial statements: how analysts ask for them, how filings title them, and the
line items printed on them. Metric questions (ratios, margins, turnover, capex) are answered from
these pages, which a passage retriever often ranks below prose that merely mentions the metric."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Statement:
    name: str
    asked: re.Pattern[str]  # the question implies this statement
    title: re.Pattern[str]  # how a filing titles it
    vocabulary: str  # its typical line items (a sparse query for the statement page itself)


STATEMENTS: tuple[Statement, ...] = (
    Statement(
        "cash_flow",
        re.compile(r"cash flow|capex|capital expenditure|capital.intensive|operating activities|free cash|"
                   r"dividends paid|depreciation|ebitda", re.I),
        re.compile(r"statements? of (?:consolidated )?cash flows?|cash flows? statements?", re.I),
        "consolidated statements of cash flows net cash provided by operating activities investing activities "
        "financing activities purchases of property plant and equipment depreciation and amortization dividends paid",
    ),
    Statement(
        "balance_sheet",
        re.compile(r"balance sheet|financial position|working capital|total assets|inventor|accounts payable|"
                   r"receivable|current liabilities|current assets|pp&e|ppne|fixed asset|quick ratio|current ratio|"
                   r"return on assets|\broa\b|capital.intensive|\bdpo\b|days payable", re.I),
        re.compile(r"balance sheets?|statements? of (?:consolidated )?financial position", re.I),
        "consolidated balance sheets total current assets inventories accounts receivable property plant and "
        "equipment net total assets accounts payable total current liabilities total liabilities shareholders equity",
    ),
    Statement(
        "income",
        re.compile(r"income statement|statement of income|statement of operations|revenue|net sales|operating income|"
                   r"operating margin|gross margin|net income|\bcogs\b|cost of goods|\beps\b|earnings per share|ebitda|"
                   r"turnover|profit|\bdpo\b|days payable|return on assets|\broa\b|capital.intensive", re.I),
        re.compile(r"statements? of (?:consolidated )?(?:income|operations|earnings)|income statements?", re.I),
        "consolidated statements of income operations net sales revenues cost of sales gross profit operating "
        "income income before income taxes provision for income taxes net income earnings per share basic diluted",
    ),
)  # fmt: skip

_NUMBER_RE = re.compile(r"\(?\d[\d,]*(?:\.\d+)?\)?")


def statements_asked(question: str) -> list[Statement]:
    return [s for s in STATEMENTS if s.asked.search(question)]


def is_statement_page(text: str, statement: Statement, section: str = "") -> bool:
    """Titled as the statement near the top, and mostly figures (not an index page or a note that
    merely refers to the statement)."""
    head = f"{section}\n{text[:400]}"
    if not statement.title.search(head):
        return False
    return len(_NUMBER_RE.findall(text)) >= 40
