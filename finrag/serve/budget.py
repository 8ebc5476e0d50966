"""Per-tenant LLM budgets: a monthly amount and a per-request ceiling (FINRAG_BUDGET_*).

Before a question is answered the tenant's month-to-date spend (from the answers' `cost_usd`) is read:
- budget 0: every answer is offline (extractive / calculator, no LLM call); never an error;
- spend at or over the budget: a 402 `budget_exceeded` error, or an offline answer flagged in its
  notes (`over_budget`: reject | offline);
- otherwise the request may spend up to min(per-request ceiling, what is left of the month): the
  answer engine stops escalating to costlier pipelines at that point (the trace records it).

Concurrent requests may overshoot the budget by what they spend together (it is checked before, and
counted after, each answer); the first LLM call of a request is not cut short."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from finrag.answer.request import RequestBudget
from finrag.serve.answers import AnswerStore
from finrag.serve.errors import ApiError
from finrag.settings import BudgetSettings


def usd(x: float) -> str:
    """$25.00, $0.05, $0.001: cents for budgets people set, more digits for test-sized ones."""
    return f"${x:,.2f}" if x >= 0.01 or x == 0 else f"${x:.2g}"


def _next_month(month: str) -> str:
    year, mon = (int(x) for x in month.split("-"))
    year, mon = (year + 1, 1) if mon == 12 else (year, mon + 1)
    return datetime(year, mon, 1, tzinfo=UTC).date().isoformat()


class BudgetGuard:
    def __init__(self, settings: BudgetSettings, store: AnswerStore, gauge: Any = None) -> None:
        self.settings = settings
        self.store = store
        self.gauge = gauge  # finrag_tenant_spend_usd{tenant}

    def observe(self, tenant: str, spent: float) -> None:
        if self.gauge is not None:
            self.gauge.labels(tenant=tenant).set(round(spent, 6))

    def status(self, tenant: str) -> dict[str, Any]:
        b = self.settings.for_tenant(tenant)
        month = self.store.month()
        spent = self.store.spend(tenant, month)
        return {
            "tenant": tenant,
            "month": month,
            "spent_usd": round(spent, 6),
            "monthly_usd": b.monthly_usd,
            "per_query_usd": b.per_query_usd,
            "over_budget": b.over_budget,
            "renews_on": _next_month(month),
        }

    def check(self, tenant: str) -> RequestBudget:
        """The budget of one request, or ApiError 402 when the month's budget is spent and the
        tenant's policy is to reject."""
        b = self.settings.for_tenant(tenant)
        if b.monthly_usd is None and b.per_query_usd is None:
            return RequestBudget()  # unlimited: no spend lookup on the request path
        st = self.status(tenant)
        spent = st["spent_usd"]
        self.observe(tenant, spent)
        if b.monthly_usd == 0:
            return RequestBudget(
                offline=True, reason="this tenant's LLM budget is $0: offline answer (extractive, no LLM call)"
            )
        if b.monthly_usd is not None and spent >= b.monthly_usd:
            if b.over_budget == "reject":
                raise ApiError(
                    402,
                    "budget_exceeded",
                    f"the monthly LLM budget of {usd(b.monthly_usd)} is spent (${spent:,.4f} in {st['month']}); "
                    f"it renews on {st['renews_on']} (UTC)",
                    extra={k: st[k] for k in ("month", "spent_usd", "monthly_usd", "renews_on")},
                )
            return RequestBudget(
                offline=True,
                reason=f"monthly LLM budget of {usd(b.monthly_usd)} reached (${spent:,.4f} spent in {st['month']}): "
                "offline answer (extractive, no LLM call)",
            )
        ceiling = b.per_query_usd
        if b.monthly_usd is not None:
            left = b.monthly_usd - spent
            ceiling = left if ceiling is None else min(ceiling, left)
        if ceiling is not None and ceiling <= 0:
            return RequestBudget(offline=True, reason="the per-request LLM ceiling is $0: offline answer (no LLM call)")
        return RequestBudget(ceiling_usd=ceiling)
