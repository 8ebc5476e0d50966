"""The easy pipeline: one lookup. Retrieved hits -> one LLM call (or extractive quotes) -> citations
resolved to pages -> numeric grounding + lexical support -> faithfulness."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from finrag.answer.llm_answerer import LLMAnswerer
from finrag.answer.pipelines.common import TenantContext, finish
from finrag.records import Answer, Hit, Scope

Lookup = Callable[[str, Sequence[Hit], Scope, "TenantContext | None"], "Answer | None"]


class EasyPipeline:
    """`lookup` (optional, offline only): reads a named line item from its statement row, e.g.
    `AgenticPipeline.lookup`; without an LLM a cited row answers "what was X in FY2022" better than
    the best-matching sentence."""

    def __init__(self, llm: LLMAnswerer, lookup: Lookup | None = None) -> None:
        self.llm = llm
        self.lookup = lookup

    def answer(self, question: str, hits: Sequence[Hit], scope: Scope, ctx: TenantContext | None = None) -> Answer:
        if not self.llm.has_llm and self.lookup is not None:
            found = self.lookup(question, hits, scope, ctx)
            if found is not None:
                found.pipeline = "easy"
                found.notes.append("no LLM provider configured: the line item was read from its statement row")
                return found
        doc_names = ctx.doc_names if ctx is not None else None
        # A one-off question: caching its sources would cost a cache write that is never read.
        gen = self.llm.generate(question, list(hits), scope=scope, doc_names=doc_names, cache_context=False)
        return finish(question, scope, gen, pipeline="easy", hits=hits)
