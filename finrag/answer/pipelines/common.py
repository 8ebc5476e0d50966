"""What every pipeline shares: the tenant's tools, cost accounting across calls, and turning a
generation into an `Answer` with citations, grounding and a faithfulness score."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from finrag.answer.llm_answerer import Generation
from finrag.answer.support import Faithfulness, claim_sentences, redact_hits, score_answer
from finrag.finance.calculator import CalcStep
from finrag.llm.base import LLMResponse, Usage
from finrag.records import Answer, Chunk, Citation, Hit, Scope
from finrag.retrieve.rerank import content_terms

SearchFn = Callable[[str, Scope | None], list[Hit]]
ReadPageFn = Callable[[str, int], "str | None"]  # (doc_id, zero-based page) -> page text
PageImageFn = Callable[[str, int], bytes]  # (doc_id, zero-based page) -> PNG
ReadDocumentFn = Callable[[str], "list[Chunk]"]  # doc_id -> its page chunks, in page order


@dataclass(slots=True)
class TenantContext:
    """The tools pipelines may use for one tenant's question. All optional: without `search` the
    agentic pipeline works from the retrieved hits only; without `page_image` vision answers from text."""

    tenant: str = "default"
    search: SearchFn | None = None
    read_page: ReadPageFn | None = None
    page_image: PageImageFn | None = None
    doc_names: Mapping[str, str] | None = None  # doc_id -> name, when chunks lack it
    read_document: ReadDocumentFn | None = None  # whole filings, for the long-context route


class _ServiceLike(Protocol):
    """What `service_context` needs from a QAService (duck-typed to keep this module import-light)."""

    c: Any

    def retrieve(self, question: str, tenant: str | None = ..., top_k: int | None = ..., filters: Any = ...) -> Any: ...


def service_context(service: _ServiceLike, tenant: str, *, render_scale: float = 1.5) -> TenantContext:
    """Tools backed by a QAService: search = its retriever, pages from the store's parent chunks,
    page images rendered from the registry's source PDF."""
    from finrag.answer.vision import render_page_png

    def search(query: str, scope: Scope | None) -> list[Hit]:
        return list(service.retrieve(query, tenant, filters=scope).hits)

    def read_page(doc_id: str, page: int) -> str | None:
        chunks = service.c.store.page_chunks(tenant, doc_id, [page])
        return chunks[0].text if chunks else None

    def page_image(doc_id: str, page: int) -> bytes:
        rec = service.c.registry.get(tenant, doc_id)
        if rec is None:
            raise LookupError(f"document {doc_id} not found for tenant {tenant}")
        return render_page_png(rec.source_path, page, scale=render_scale)

    def read_document(doc_id: str) -> list[Chunk]:
        rec = service.c.registry.get(tenant, doc_id)
        if rec is None or rec.pages <= 0:
            return []
        pages = service.c.store.page_chunks(tenant, doc_id, range(rec.pages))
        return sorted(pages, key=lambda c: c.page_start)

    return TenantContext(
        tenant=tenant, search=search, read_page=read_page, page_image=page_image, read_document=read_document
    )


@dataclass(slots=True)
class Ledger:
    """Usage and cost summed over every LLM call of one answer, with each call's trace."""

    usage: Usage = field(default_factory=Usage)
    cost_usd: float = 0.0
    calls: list[dict[str, Any]] = field(default_factory=list)

    def add(self, resp: LLMResponse | None, step: str) -> None:
        if resp is None:
            return
        u = resp.usage
        self.usage = Usage(
            self.usage.input_tokens + u.input_tokens,
            self.usage.output_tokens + u.output_tokens,
            self.usage.cache_creation_input_tokens + u.cache_creation_input_tokens,
            self.usage.cache_read_input_tokens + u.cache_read_input_tokens,
        )
        self.cost_usd += resp.cost_usd
        self.calls.append({"step": step, **resp.trace()})

    def merge(self, other: Ledger) -> None:
        self.usage = Usage(
            self.usage.input_tokens + other.usage.input_tokens,
            self.usage.output_tokens + other.usage.output_tokens,
            self.usage.cache_creation_input_tokens + other.usage.cache_creation_input_tokens,
            self.usage.cache_read_input_tokens + other.usage.cache_read_input_tokens,
        )
        self.cost_usd += other.cost_usd
        self.calls += other.calls

    def apply(self, answer: Answer) -> Answer:
        answer.usage = self.usage.as_dict()
        answer.cost_usd = round(self.cost_usd, 6)
        answer.trace["llm_calls"] = self.calls
        llm = [c for c in self.calls if c.get("provider") != "extractive"]
        if self.calls:
            # the last call that produced the answer; the serve layer labels token metrics with its model
            answer.trace["llm"] = (llm or self.calls)[-1]
        return answer


_FIGURE = re.compile(r"\d[\d,]*(?:\.\d+)?")
_CITE = re.compile(r"\[([^\[\]\n]{1,400})\]")


def refine_quotes(answer_text: str, citations: Sequence[Citation], sources: Mapping[str, str]) -> list[Citation]:
    """Quote, for each citation, the source line that best supports the sentences citing it (shared
    terms, and the answer's figures found on the line) instead of the chunk's first characters."""
    sentences: dict[str, list[str]] = {}
    for raw in re.split(r"(?<=[.!?])\s+|\n+", answer_text):
        for m in _CITE.finditer(raw):
            for part in re.split(r"[;,]", m.group(1)):
                sentences.setdefault(part.strip().lower(), []).append(raw)
    out: list[Citation] = []
    for c in citations:
        label = f"{c.doc_name} p.{c.page}"
        text = sources.get(label)
        said = " ".join(sentences.get(label.lower(), [])) or answer_text
        if not text:
            out.append(c)
            continue
        terms = content_terms(said)
        figures = {f.replace(",", "") for f in _FIGURE.findall(_CITE.sub(" ", said)) if len(f) > 1}
        best, best_score = "", 0.0
        for line in (ln.strip() for ln in re.split(r"\n|(?<=[.!?])\s+", text)):
            if len(line) < 3:
                continue
            score = len(terms & content_terms(line)) + 2.0 * len(
                figures & {f.replace(",", "") for f in _FIGURE.findall(line)}
            )
            if score > best_score:
                best, best_score = line, score
        out.append(c.model_copy(update={"quote": best[:300]}) if best else c)
    return out


def faithfulness_of(
    question: str, gen: Generation, calculations: Sequence[CalcStep] = (), ignore: frozenset[str] = frozenset()
) -> tuple[float, bool, dict[str, Any], list[str]]:
    """(score, supported, trace dict, unsupported figures) of a generation. With calculations, metric
    names ("working capital") are not expected on the pages."""
    from finrag.finance.metrics import CALC_VOCABULARY

    return _faithfulness_of(question, gen, calculations, (CALC_VOCABULARY | ignore) if calculations else ignore)


def _faithfulness_of(
    question: str, gen: Generation, calculations: Sequence[CalcStep], ignore: frozenset[str]
) -> tuple[float, bool, dict[str, Any], list[str]]:
    if gen.offline:
        ans = gen.offline_answer
        # Extractive lines are verbatim quotes of their cited pages: nothing in them is unsupported.
        matched = ans is not None and bool(ans.citations) and not any("no sentence matched" in n for n in ans.notes)
        score = 1.0 if matched else 0.0
        return score, matched, {"score": score, "verbatim_quotes": True}, []
    sources = gen.cited_sources or gen.sources
    f: Faithfulness = score_answer(
        gen.text, sources, calculations, question=question, cited=bool(gen.citations), ignore_words=ignore
    )
    return f.score, f.supported_answer, f.to_dict(), f.unsupported_figures


def finish(
    question: str,
    scope: Scope,
    gen: Generation,
    *,
    pipeline: str,
    calculations: Sequence[CalcStep] = (),
    ledger: Ledger | None = None,
    trace: dict[str, Any] | None = None,
    hits: Sequence[Hit] = (),
    ignore_words: frozenset[str] = frozenset(),
) -> Answer:
    """An `Answer` from a generation: citations with focused quotes, numeric + lexical faithfulness,
    usage and cost (of every call in `ledger`, else of this generation)."""
    score, supported, fdict, unsupported = faithfulness_of(question, gen, calculations, ignore_words)
    citations = gen.citations if gen.offline else refine_quotes(gen.text, gen.citations, gen.sources)
    notes = list(gen.notes)
    if unsupported:
        notes.append("figures not found on the cited pages: " + ", ".join(unsupported))
    if not gen.offline and not gen.citations and claim_sentences(gen.text) != []:
        notes.append("the answer cites no source")
    answer = Answer(
        question=question,
        text=gen.text,
        citations=citations,
        pipeline=pipeline,
        scope=scope,
        faithfulness=round(score, 4),
        unsupported_figures=unsupported,
        notes=notes,
        trace={
            **(trace or {}),
            "answered_by": f"{gen.provider}:{gen.model}" if not gen.offline else "extractive",
            "supported": supported,
            "faithfulness": fdict,
        },
    )
    if calculations:
        answer.trace["calculations"] = [s.model_dump(mode="json") for s in calculations]
    if gen.prompt:
        answer.trace["prompt"] = gen.prompt
    flags = gen.injection_flags or (redact_hits(hits)[1] if hits else [])
    if flags:
        answer.trace["injection_flags"] = flags
    if ledger is None:
        ledger = Ledger()
        ledger.add(gen.response, pipeline)
    return ledger.apply(answer)
