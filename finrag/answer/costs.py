"""Cost estimates for the engine's choices (long context vs retrieval, whether an escalation step fits
the request's ceiling), and a guess at what the provider's prompt cache holds."""

from __future__ import annotations

from collections.abc import Sequence

from finrag.answer.llm_answerer import CACHE_TTL_S, LLMAnswerer, PromptCacheTracker
from finrag.answer.pipelines.long_context import LONG_CONTEXT_SYSTEM_PROMPT, Selection, estimate_tokens
from finrag.finance.facts import QuestionFacts
from finrag.llm.base import Usage
from finrag.llm.prompting import SYSTEM_PROMPT
from finrag.records import Hit
from finrag.settings import ModelPrice

__all__ = ["CACHE_TTL_S", "CostEstimator", "PromptCacheTracker", "usd"]

EXPECTED_OUTPUT_TOKENS = 250  # a concise cited answer; estimates only
IMAGE_TOKENS = 1_500  # one rendered 10-K page at scale 1.5


def usd(price: ModelPrice | None, *, input_tokens: int = 0, cache_write: int = 0, cache_read: int = 0) -> float:
    if price is None:
        return 0.0
    return price.cost(Usage(input_tokens, EXPECTED_OUTPUT_TOKENS, cache_write, cache_read))


class CostEstimator:
    def __init__(self, cache: PromptCacheTracker, vision_max_pages: int) -> None:
        self.cache = cache
        self.vision_max_pages = vision_max_pages

    def long_context(self, sel: Selection, llm: LLMAnswerer) -> float:
        price = llm.price()
        if price is None:
            return 0.0
        fixed = estimate_tokens(LONG_CONTEXT_SYSTEM_PROMPT) + 150
        if not llm.prompt_cache:
            return usd(price, input_tokens=sel.tokens + fixed)
        if self.cache.is_warm(sel.key):
            return usd(price, input_tokens=fixed, cache_read=sel.tokens)
        return usd(price, input_tokens=fixed, cache_write=sel.tokens)

    def rag(self, question: str, hits: Sequence[Hit], llm: LLMAnswerer) -> float:
        """One retrieval-sized call: the sources within the context budget, system prompt, question."""
        price = llm.price()
        if price is None:
            return 0.0
        chars = min(llm.context_chars, sum(len(h.chunk.text) for h in hits))
        return usd(price, input_tokens=(chars + len(SYSTEM_PROMPT) + len(question) + 600) // 4)

    def step(
        self, step: str, facts: QuestionFacts, hits: Sequence[Hit], llm: LLMAnswerer, sel: Selection | None
    ) -> float:
        """What running `step` next is expected to cost."""
        if step == "long_context" and sel is not None:
            return self.long_context(sel, llm)
        rag = self.rag(facts.question, hits, llm)
        if step == "agentic":
            # a recognized metric is computed (no call) unless reading around is asked for
            return 0.0 if facts.computed else rag
        if step == "vision":
            price = llm.price()
            images = self.vision_max_pages * IMAGE_TOKENS
            return rag + (usd(price, input_tokens=images) if price else 0.0)
        return rag
