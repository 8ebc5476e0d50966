"""The easy pipeline: one lookup. Retrieved hits -> one LLM call (or extractive quotes) -> citations
resolved to pages -> numeric grounding + lexical support -> faithfulness."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from finrag.answer.compose import finish
from finrag.answer.computation import sentence_answer
from finrag.answer.context import TenantContext
from finrag.answer.extractive import which_company
from finrag.answer.llm_answerer import LLMAnswerer
from finrag.answer.registry import register
from finrag.answer.request import AnswerRequest, Pipeline
from finrag.records import Answer, Hit, Scope

Lookup = Callable[[AnswerRequest], "Answer | None"]


class EasyPipeline:
    """`lookup` (optional, offline only): reads a named line item from its statement row, e.g.
    `AgenticPipeline.lookup`; without an LLM a cited row answers "what was X in FY2022" better than
    the best-matching sentence."""

    name = "easy"

    def __init__(self, llm: LLMAnswerer, lookup: Lookup | None = None) -> None:
        self.llm = llm
        self.lookup = lookup

    def answer(self, question: str, hits: Sequence[Hit], scope: Scope, ctx: TenantContext | None = None) -> Answer:
        return self.run(AnswerRequest.of(question, hits, scope, ctx))

    def run(self, request: AnswerRequest) -> Answer:
        if not self.llm.has_llm:
            ask = which_company(request.question, list(request.hits), request.scope)
            if ask is not None:
                ask.pipeline = "easy"
                return ask
        if not self.llm.has_llm and self.lookup is not None:
            found = self.lookup(request)
            if found is not None:
                found.pipeline = "easy"
                found.notes.append("no LLM provider configured: the line item was read from its statement row")
                return found
        if not self.llm.has_llm:
            assembled = sentence_answer(request.question, request.hits, request.scope, request.ctx, "easy")
            if assembled is not None:
                return assembled
        question, scope = request.question, request.scope
        # A one-off question: caching its sources would cost a cache write that is never read. A repeated
        # filing gets its cover + statement pages as a cached prefix (`LLMAnswerer.prefix_for`).
        gen = self.llm.generate(
            question,
            list(request.hits),
            scope=scope,
            doc_names=request.ctx.doc_names,
            cache_context=False,
            prefix=self.llm.prefix_for(scope, request.ctx),
        )
        return finish(question, scope, gen, pipeline="easy", hits=request.hits)


def _build(llm: LLMAnswerer, _settings: object, built: Mapping[str, Pipeline]) -> EasyPipeline:
    def lookup(request: AnswerRequest) -> Answer | None:
        agentic = built.get("agentic")
        return agentic.lookup(request) if agentic is not None else None  # type: ignore[attr-defined]

    return EasyPipeline(llm, lookup=lookup)


register("easy", _build)
