"""The financial model: a few drivers per company and year -> income statement, balance sheet and cash
flow, derived with accounting identities so they tie out by construction (and interim periods from them)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields, replace

from finrag.sample.companies import MODEL_YEARS, CompanySpec


@dataclass(frozen=True)
class Income:
    revenue: int
    cogs: int
    sga: int
    rd: int
    interest: int
    other_income: int
    tax: int
    shares_basic: float
    shares_diluted: float

    @property
    def gross_profit(self) -> int:
        return self.revenue - self.cogs

    @property
    def opex(self) -> int:
        return self.sga + self.rd

    @property
    def operating_income(self) -> int:
        return self.gross_profit - self.opex

    @property
    def pretax(self) -> int:
        return self.operating_income - self.interest + self.other_income

    @property
    def net_income(self) -> int:
        return self.pretax - self.tax

    @property
    def eps_basic(self) -> float:
        return round(self.net_income / self.shares_basic, 2)

    @property
    def eps_diluted(self) -> float:
        return round(self.net_income / self.shares_diluted, 2)

    def taxed(self, rate: float) -> Income:
        return replace(self, tax=round(self.pretax * rate))


@dataclass(frozen=True)
class Balance:
    cash: int
    receivables: int
    inventories: int
    other_current: int
    ppe: int
    goodwill: int
    other_assets: int
    payables: int
    accrued: int
    debt: int
    other_liabilities: int
    paid_in: int
    retained: int
    treasury: int  # positive; shown in parentheses

    @property
    def current_assets(self) -> int:
        return self.cash + self.receivables + self.inventories + self.other_current

    @property
    def total_assets(self) -> int:
        return self.current_assets + self.ppe + self.goodwill + self.other_assets

    @property
    def current_liabilities(self) -> int:
        return self.payables + self.accrued

    @property
    def total_liabilities(self) -> int:
        return self.current_liabilities + self.debt + self.other_liabilities

    @property
    def equity(self) -> int:
        return self.paid_in + self.retained - self.treasury

    @property
    def total_liabilities_equity(self) -> int:
        return self.total_liabilities + self.equity


@dataclass(frozen=True)
class CashFlow:
    """Signs are cash effects: outflows negative."""

    net_income: int
    da: int
    sbc: int
    receivables: int
    inventories: int
    payables: int
    accrued: int
    capex: int
    acquisitions: int
    borrowings: int
    repayments: int
    dividends: int
    repurchases: int
    cash_begin: int

    @property
    def operating(self) -> int:
        return self.net_income + self.da + self.sbc + self.receivables + self.inventories + self.payables + self.accrued

    @property
    def investing(self) -> int:
        return self.capex + self.acquisitions

    @property
    def financing(self) -> int:
        return self.borrowings + self.repayments + self.dividends + self.repurchases

    @property
    def net_change(self) -> int:
        return self.operating + self.investing + self.financing

    @property
    def cash_end(self) -> int:
        return self.cash_begin + self.net_change


@dataclass(frozen=True)
class YearFin:
    year: int
    inc: Income
    bal: Balance
    cf: CashFlow
    segments: tuple[tuple[str, int, int], ...]  # (name, revenue, operating income)
    corporate: int  # unallocated operating income (negative)
    tax_rec: tuple[int, int, int, int]  # state, credits, other, effective; tenths of a percent
    debt_detail: tuple[tuple[str, int], ...]
    revolver_commitment: int

    @property
    def effective_rate(self) -> str:
        return f"{self.tax_rec[3] / 10:.1f}%"


def build_financials(spec: CompanySpec) -> dict[int, YearFin]:
    """Roll the driver model forward from the opening balance; identities make everything tie out."""
    d = spec.drivers
    revenue = d.revenue_2020
    cogs = round(revenue * (1 - d.gross_margin[0]))
    opening = Balance(
        cash=d.cash_2020,
        receivables=round(revenue * d.receivables_pct),
        inventories=round(cogs * d.inventories_pct),
        other_current=d.other_current_assets,
        ppe=d.ppe_2020,
        goodwill=d.goodwill_2020,
        other_assets=d.other_assets,
        payables=round(cogs * d.payables_pct),
        accrued=round(revenue * d.accrued_pct),
        debt=d.debt_2020,
        other_liabilities=d.other_liabilities,
        paid_in=d.paid_in_2020,
        retained=0,
        treasury=d.treasury_2020,
    )
    opening = replace(opening, retained=opening.total_assets - opening.total_liabilities - opening.equity)
    assert opening.retained > 0, spec.name

    out: dict[int, YearFin] = {}
    prev = opening
    for i, year in enumerate(MODEL_YEARS):
        revenue = round(revenue * (1 + d.growth[i]))
        inc = Income(
            revenue=revenue,
            cogs=round(revenue * (1 - d.gross_margin[i])),
            sga=round(revenue * d.sga_pct[i]),
            rd=round(revenue * d.rd_pct),
            interest=round(prev.debt * d.interest_rate),
            other_income=d.other_income[i],
            tax=0,
            shares_basic=d.shares_basic[i],
            shares_diluted=round(d.shares_basic[i] + d.dilution, 1),
        ).taxed(d.tax_rate[i])
        da, sbc = round(revenue * d.da_pct), round(revenue * d.sbc_pct)
        receivables = round(revenue * d.receivables_pct)
        inventories = round(inc.cogs * d.inventories_pct)
        payables = round(inc.cogs * d.payables_pct)
        accrued = round(revenue * d.accrued_pct)
        cf = CashFlow(
            net_income=inc.net_income,
            da=da,
            sbc=sbc,
            receivables=prev.receivables - receivables,
            inventories=prev.inventories - inventories,
            payables=payables - prev.payables,
            accrued=accrued - prev.accrued,
            capex=-d.capex[i],
            acquisitions=-d.acquisitions[i],
            borrowings=d.borrowings[i],
            repayments=-d.repayments[i],
            dividends=-d.dividends[i],
            repurchases=-d.repurchases[i],
            cash_begin=prev.cash,
        )
        bal = replace(
            prev,
            cash=cf.cash_end,
            receivables=receivables,
            inventories=inventories,
            ppe=prev.ppe + d.capex[i] - da,  # D&A is charged against PP&E
            goodwill=prev.goodwill + d.acquisitions[i],
            payables=payables,
            accrued=accrued,
            debt=prev.debt + d.borrowings[i] - d.repayments[i],
            paid_in=prev.paid_in + sbc,
            retained=prev.retained + inc.net_income - d.dividends[i],
            treasury=prev.treasury + d.repurchases[i],
        )
        # The identities above guarantee these; assert so a bad driver edit fails loudly.
        assert bal.total_assets == bal.total_liabilities_equity, (spec.name, year)
        assert bal.cash > 50 and cf.operating > 0 and cf.investing < 0, (spec.name, year)

        # Segments: revenue by share, operating income by relative margin scaled so that segments plus
        # unallocated corporate cost add up to consolidated operating income; the last segment is the plug.
        seg_revs = [round(revenue * s.share[i]) for s in spec.segments[:-1]]
        seg_revs.append(revenue - sum(seg_revs))
        corporate = -round(revenue * d.corporate_pct)
        weights = [r * s.margin[i] for r, s in zip(seg_revs, spec.segments, strict=True)]
        scale = (inc.operating_income - corporate) / sum(weights)
        seg_ois = [round(w * scale) for w in weights[:-1]]
        seg_ois.append(inc.operating_income - corporate - sum(seg_ois))
        seg_rows = [(s.name, r, oi) for s, r, oi in zip(spec.segments, seg_revs, seg_ois, strict=True)]

        # Rate reconciliation in tenths of a percent, so the items add up exactly to the effective rate.
        effective = round(inc.tax * 1000 / inc.pretax)
        state, credits = round(d.state_tax_pct[i] * 10), round(d.credits_pct[i] * 10)
        other = effective - 210 - state - credits

        outstanding = [n for n in d.notes if n.issued <= year]
        revolver = bal.debt - sum(n.principal for n in outstanding)
        assert revolver >= 0, (spec.name, year)
        debt_detail = (
            *((n.title, n.principal) for n in outstanding),
            ("Revolving credit facility", revolver),
        )
        out[year] = YearFin(
            year=year,
            inc=inc,
            bal=bal,
            cf=cf,
            segments=tuple(seg_rows),
            corporate=corporate,
            tax_rec=(state, credits, other, effective),
            debt_detail=debt_detail,
            revolver_commitment=d.revolver_commitment[i],
        )
        prev = bal
    return out


QUARTER_WEIGHTS = (0.23, 0.245, 0.25)  # Q1-Q3 share of annual amounts; Q4 is the rest


def quarter_income(fy: YearFin, rate: float, quarters: Sequence[int]) -> Income:
    """Income for the given quarters (0-based) of a fiscal year, each quarter computed then summed."""
    parts = []
    for q in quarters:
        w = QUARTER_WEIGHTS[q]
        parts.append(
            Income(
                revenue=round(fy.inc.revenue * w),
                cogs=round(fy.inc.cogs * w),
                sga=round(fy.inc.sga * w),
                rd=round(fy.inc.rd * w),
                interest=round(fy.inc.interest / 4),
                other_income=round(fy.inc.other_income / 4),
                tax=0,
                shares_basic=fy.inc.shares_basic,
                shares_diluted=fy.inc.shares_diluted,
            ).taxed(rate)
        )
    summed = {
        f.name: sum(getattr(p, f.name) for p in parts)
        for f in fields(Income)
        if f.name not in ("shares_basic", "shares_diluted")
    }
    return Income(**summed, shares_basic=fy.inc.shares_basic, shares_diluted=fy.inc.shares_diluted)


def interim_balance(start: Balance, end: Balance, fraction: float) -> Balance:
    """A quarter-end balance sheet between two year ends; retained earnings is the plug."""
    mid = Balance(
        **{
            f.name: round(getattr(start, f.name) + fraction * (getattr(end, f.name) - getattr(start, f.name)))
            for f in fields(Balance)
        }
    )
    return replace(mid, retained=mid.total_assets - mid.total_liabilities - mid.paid_in + mid.treasury)
