"""What one request may spend, handed from the gateway to the answer engine.

The gateway knows the tenant's monthly budget and per-request ceiling; the engine knows what each
pipeline step costs. `QAService.ask` does not take a budget, so the gateway sets it for the duration
of the call (`with request_budget(...)`) and the engine reads it (`current_budget()`); an explicit
`budget=` argument to `AnswerEngine.answer` wins over it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class RequestBudget:
    """`ceiling_usd`: no escalation step (easy -> agentic -> long context / vision) starts once the
    answer has cost this much or the step's estimate would take it over; None = no ceiling, 0 = no
    LLM call at all. `offline`: answer without any LLM call (extractive / calculator). `reason` goes
    into the answer's notes when it changed the answer."""

    ceiling_usd: float | None = None
    offline: bool = False
    reason: str = ""

    @property
    def no_llm(self) -> bool:
        return self.offline or (self.ceiling_usd is not None and self.ceiling_usd <= 0)

    @property
    def limited(self) -> bool:
        return self.no_llm or self.ceiling_usd is not None

    def as_dict(self) -> dict[str, Any]:
        return {"ceiling_usd": self.ceiling_usd, "offline": self.no_llm, "reason": self.reason}


_current: ContextVar[RequestBudget | None] = ContextVar("finrag_request_budget", default=None)


@contextmanager
def request_budget(budget: RequestBudget | None) -> Iterator[None]:
    """The budget for answers computed inside the block (this thread / task only)."""
    token = _current.set(budget)
    try:
        yield
    finally:
        _current.reset(token)


def current_budget() -> RequestBudget | None:
    return _current.get()
