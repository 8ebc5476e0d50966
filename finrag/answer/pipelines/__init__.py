"""Answer pipelines (easy, agentic, vision, long context) behind one facade, `AnswerEngine`.

`finrag.settings` imports `AnswerSettings` from `.config`; everything else is loaded on first use
(PEP 562) so that importing the settings does not pull in the LLM and retrieval stack."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from finrag.settings import AnswerSettings

if TYPE_CHECKING:
    from finrag.answer.pipelines.agentic import AgenticPipeline
    from finrag.answer.pipelines.budget import RequestBudget, current_budget, request_budget
    from finrag.answer.pipelines.common import Ledger, TenantContext, service_context
    from finrag.answer.pipelines.easy import EasyPipeline
    from finrag.answer.pipelines.engine import AnswerEngine
    from finrag.answer.pipelines.long_context import LongContextPipeline

_LAZY = {
    "AnswerEngine": "finrag.answer.pipelines.engine",
    "AgenticPipeline": "finrag.answer.pipelines.agentic",
    "EasyPipeline": "finrag.answer.pipelines.easy",
    "LongContextPipeline": "finrag.answer.pipelines.long_context",
    "RequestBudget": "finrag.answer.pipelines.budget",
    "current_budget": "finrag.answer.pipelines.budget",
    "request_budget": "finrag.answer.pipelines.budget",
    "Ledger": "finrag.answer.pipelines.common",
    "TenantContext": "finrag.answer.pipelines.common",
    "service_context": "finrag.answer.pipelines.common",
}

__all__ = [
    "AgenticPipeline",
    "AnswerEngine",
    "AnswerSettings",
    "EasyPipeline",
    "Ledger",
    "LongContextPipeline",
    "RequestBudget",
    "TenantContext",
    "current_budget",
    "request_budget",
    "service_context",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
