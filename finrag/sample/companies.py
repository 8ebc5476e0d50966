"""The fictional sample companies: their specs (read from companies.toml, a table of facts) and the
years the sample covers."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MODEL_YEARS = (2021, 2022, 2023)  # years the driver model computes; 2020 is the opening balance
FILING_YEARS = (2022, 2023)  # years with a 10-K; each shows the current and the prior year
DATA_FILE = Path(__file__).with_name("companies.toml")


@dataclass(frozen=True)
class SegmentSpec:
    name: str
    description: str
    share: tuple[float, ...]  # revenue share per model year; the last segment takes the remainder
    margin: tuple[float, ...]  # relative operating margin per model year (scaled to tie out)


@dataclass(frozen=True)
class NoteSpec:
    """A senior note tranche; the revolver is whatever debt is not in notes."""

    title: str
    principal: int
    issued: int  # first year-end it is outstanding


@dataclass(frozen=True)
class Drivers:
    """The few numbers per year that every statement is derived from ($ millions unless noted)."""

    revenue_2020: int
    growth: tuple[float, ...]
    gross_margin: tuple[float, ...]
    sga_pct: tuple[float, ...]
    rd_pct: float
    tax_rate: tuple[float, ...]
    state_tax_pct: tuple[float, ...]  # rate reconciliation items, in percent
    credits_pct: tuple[float, ...]
    other_income: tuple[int, ...]
    interest_rate: float  # on opening debt
    da_pct: float  # depreciation and amortization, % of revenue
    sbc_pct: float  # stock-based compensation, % of revenue
    corporate_pct: float  # unallocated corporate costs, % of revenue
    receivables_pct: float  # of revenue
    inventories_pct: float  # of cost of sales
    payables_pct: float  # of cost of sales
    accrued_pct: float  # of revenue
    capex: tuple[int, ...]
    acquisitions: tuple[int, ...]
    dividends: tuple[int, ...]
    repurchases: tuple[int, ...]
    borrowings: tuple[int, ...]
    repayments: tuple[int, ...]
    shares_basic: tuple[float, ...]  # weighted-average, millions
    dilution: float  # diluted minus basic shares, millions
    revolver_commitment: tuple[int, ...]
    notes: tuple[NoteSpec, ...]
    # Opening balance sheet (end of 2020); retained earnings is the plug that makes it balance.
    cash_2020: int
    ppe_2020: int
    goodwill_2020: int
    other_current_assets: int
    other_assets: int
    other_liabilities: int
    debt_2020: int
    paid_in_2020: int
    treasury_2020: int


DEFAULT_LABELS = {
    "revenue": "Revenue",
    "cogs": "Cost of revenue",
    "sga": "Selling, general and administrative",
    "rd": "Research and development",
    "capex": "Purchases of property, plant and equipment",
}


@dataclass(frozen=True)
class CompanySpec:
    name: str  # legal name
    short: str  # how analysts refer to it (the golden `company` field)
    key: str  # FinanceBench-style doc name prefix
    ticker: str
    exchange: str
    security: str
    state: str
    irs_number: str
    file_number: str
    address: str
    phone: str
    fy_end_month: int  # 12 or 6
    sector: str
    founded: int
    employees: int
    ceo: str
    cfo: str
    overview: str
    customers: str
    competition: str
    seasonality: str
    supply: str
    regulation: str
    properties: str
    industry_risks: tuple[tuple[str, str], ...]
    segments: tuple[SegmentSpec, ...]
    drivers: Drivers
    labels: dict[str, str] = field(default_factory=dict)
    former_name: str = ""
    name_change: str = ""  # when the former name was dropped, in prose

    def label(self, key: str) -> str:
        return self.labels.get(key, DEFAULT_LABELS[key])

    def fy_end(self, year: int) -> str:
        return f"June 30, {year}" if self.fy_end_month == 6 else f"December 31, {year}"

    def fy_caption(self) -> str:
        return "Fiscal Year Ended June 30," if self.fy_end_month == 6 else "Year Ended December 31,"

    def bs_caption(self) -> str:
        return "June 30," if self.fy_end_month == 6 else "December 31,"

    def filed_on(self, year: int) -> str:
        # 10-Ks are filed about six weeks after year end.
        return f"August 18, {year}" if self.fy_end_month == 6 else f"February 16, {year + 1}"

    def second_quarter_end(self, year: int) -> str:
        return f"December 31, {year - 1}" if self.fy_end_month == 6 else f"June 30, {year}"


def _company(data: dict[str, Any]) -> CompanySpec:
    """One `[[company]]` table of companies.toml; TOML arrays become the specs' tuples."""
    data = dict(data)
    drivers = dict(data.pop("drivers"))
    notes = tuple(NoteSpec(**n) for n in drivers.pop("notes", ()))
    segments = tuple(
        SegmentSpec(s["name"], s["description"], tuple(s["share"]), tuple(s["margin"])) for s in data.pop("segments")
    )
    risks = tuple((title, text) for title, text in data.pop("industry_risks"))
    return CompanySpec(
        **data,
        industry_risks=risks,
        segments=segments,
        drivers=Drivers(**{k: tuple(v) if isinstance(v, list) else v for k, v in drivers.items()}, notes=notes),
    )


def load_companies(path: Path = DATA_FILE) -> dict[str, CompanySpec]:
    """The sample companies by key (the FinanceBench-style doc name prefix), in file order."""
    with path.open("rb") as fh:
        return {spec.key: spec for spec in map(_company, tomllib.load(fh)["company"])}


_BY_KEY = load_companies()
NORTHWIND = _BY_KEY["NORTHWINDROBOTICS"]
BLUEFIN = _BY_KEY["BLUEFINFOODS"]
CEDAR_RIDGE = _BY_KEY["CEDARRIDGEENERGY"]
COMPANIES: tuple[CompanySpec, ...] = (NORTHWIND, BLUEFIN, CEDAR_RIDGE)
INJECTED = BLUEFIN  # whose FY2023 MD&A carries the prompt-injection sentence
TEN_Q_COMPANY = NORTHWIND  # Q3 FY2023 10-Q
EIGHT_K_COMPANY = CEDAR_RIDGE  # credit agreement amendment, matching its FY2023 debt note
EIGHT_K_DATE = "November 14, 2023"
