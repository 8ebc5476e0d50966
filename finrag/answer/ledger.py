"""The one usage and cost ledger: every LLM call of an answer (route classifier, pipeline calls, each
escalation step, the inline judge) is added here, and the answer's usage, cost and call trace come
from it. Nothing else sums usage."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from finrag.llm.base import LLMResponse, Usage
from finrag.records import Answer

_FIELDS = ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")


def _plus(a: Usage, b: Mapping[str, int]) -> Usage:
    return Usage(*(getattr(a, k) + int(b.get(k, 0)) for k in _FIELDS))


@dataclass(slots=True)
class Ledger:
    """Usage and cost summed over LLM calls, with each call's trace."""

    usage: Usage = field(default_factory=Usage)
    cost_usd: float = 0.0
    calls: list[dict[str, Any]] = field(default_factory=list)

    def add(self, resp: LLMResponse | None, step: str) -> None:
        """One LLM call."""
        if resp is None:
            return
        self.add_usage(resp.usage.as_dict(), resp.cost_usd)
        self.calls.append({"step": step, **resp.trace()})

    def add_usage(self, usage: Mapping[str, int], cost_usd: float) -> None:
        """Usage counted elsewhere (a judge's verdict)."""
        self.usage = _plus(self.usage, usage)
        self.cost_usd += cost_usd

    def merge(self, other: Ledger) -> None:
        self.add_usage(other.usage.as_dict(), other.cost_usd)
        self.calls += other.calls

    def add_answer(self, answer: Answer) -> None:
        """Everything one pipeline run spent (its usage, cost and calls, labelled with the pipeline)."""
        self.add_usage(answer.usage, answer.cost_usd)
        self.calls += [{**c, "pipeline": answer.pipeline} for c in answer.trace.get("llm_calls", [])]

    def apply(self, answer: Answer) -> Answer:
        """The ledger's totals onto the answer; `trace["llm"]` is the last LLM call (the serve layer
        labels token and cost metrics with its model)."""
        answer.usage = self.usage.as_dict()
        answer.cost_usd = round(self.cost_usd, 6)
        answer.trace["llm_calls"] = self.calls
        llm = [c for c in self.calls if c.get("provider") not in (None, "extractive")]
        if llm:
            answer.trace["llm"] = llm[-1]
        elif self.calls:
            answer.trace["llm"] = self.calls[-1]
        return answer
