"""One answer request and the `Pipeline` protocol every answering pipeline implements.

`AnswerRequest` carries everything a pipeline may use: the question and its `QuestionFacts` (read
once), the retrieved hits and scope, the tenant's tools, and the request's budget (passed in, never
read from a global). A pipeline's one entry point is `run(request) -> Answer`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from finrag.answer.context import TenantContext
from finrag.finance.facts import QuestionFacts, read_question
from finrag.records import Answer, Hit, Scope

if TYPE_CHECKING:
    from finrag.answer.pipelines.long_context import Selection


@dataclass(frozen=True, slots=True)
class RequestBudget:
    """What one request may spend, set by the gateway (tenant budget, per-request ceiling).

    `ceiling_usd`: no escalation step (easy -> agentic -> long context / vision) starts once the
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


def top_year(hits: Sequence[Hit]) -> int | None:
    """The fiscal year of the best hit that has one: the year a question that names none is about."""
    for h in hits:
        fy = h.chunk.metadata.get("fiscal_year")
        if fy is not None:
            return int(fy)
    return None


def default_year(scope: Scope, hits: Sequence[Hit]) -> int | None:
    """The fiscal year asked about when the question names none: the scope's latest, else the top hit's."""
    return (scope.fiscal_years or [None])[-1] or top_year(hits)


@dataclass(slots=True)
class AnswerRequest:
    question: str
    hits: list[Hit]
    scope: Scope
    facts: QuestionFacts
    ctx: TenantContext = field(default_factory=TenantContext)
    budget: RequestBudget = field(default_factory=RequestBudget)
    selection: Selection | None = None  # the long-context pages, when the engine already chose them

    @classmethod
    def of(
        cls,
        question: str,
        hits: Sequence[Hit],
        scope: Scope,
        ctx: TenantContext | None = None,
        *,
        budget: RequestBudget | None = None,
        facts: QuestionFacts | None = None,
        selection: Selection | None = None,
    ) -> AnswerRequest:
        """A request; the question is read here unless `facts` are given (the default year comes
        from the scope and hits)."""
        year = default_year(scope, hits)
        facts = facts.with_default_year(year) if facts is not None else read_question(question, year)
        return cls(question, list(hits), scope, facts, ctx or TenantContext(), budget or RequestBudget(), selection)


@runtime_checkable
class Pipeline(Protocol):
    """An answering pipeline. `name` is the mode that selects it and `Answer.pipeline`."""

    name: str

    def run(self, request: AnswerRequest) -> Answer: ...
