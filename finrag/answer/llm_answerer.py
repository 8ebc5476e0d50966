"""LLM answering over retrieved hits: provider fallback (FallbackChain), the extractive answerer as the
offline last resort, a context budget, and citations resolved back to the hits that were shown.

`LLMAnswerer.generate` is the one place every pipeline sends an answer request through, so cost,
usage and the provider that answered are recorded the same way for each."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from finrag.answer import drafts
from finrag.answer.extractive import ExtractiveAnswerer
from finrag.answer.support import redact_hits
from finrag.finance.text import page_label
from finrag.finance.words import search_terms
from finrag.llm.base import AllProvidersFailedError, ContextBlock, LLMRequest, LLMResponse, Usage
from finrag.llm.fallback import FallbackChain, build_chain
from finrag.llm.prompting import SYSTEM_PROMPT, blocks_from_hits, build_request, resolve_citations
from finrag.records import Answer, Citation, Hit, Scope
from finrag.settings import LLMSettings, ModelPrice, price_for

log = logging.getLogger(__name__)

EXTRACTIVE = "extractive"


@dataclass(slots=True)
class Generation:
    """One answer attempt: text, resolved citations, and what it cost."""

    text: str
    citations: list[Citation]
    unknown_citations: list[str]
    provider: str  # "anthropic" | "openai" | "extractive"
    model: str
    sources: dict[str, str]  # label -> text shown, for every block sent (or quoted, offline)
    response: LLMResponse | None = None
    offline_answer: Answer | None = None  # the extractive answer, when it answered
    injection_flags: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    prompt: dict[str, Any] = field(default_factory=dict)  # what was sent: blocks, characters, cache marks

    @property
    def offline(self) -> bool:
        return self.provider == EXTRACTIVE

    @property
    def cited_sources(self) -> dict[str, str]:
        """Text of the sources the answer cites (label -> text), in citation order."""
        out: dict[str, str] = {}
        for c in self.citations:
            label = page_label(c.doc_name, c.page)
            if label in self.sources:
                out[label] = self.sources[label]
            elif self.offline:
                out[label] = c.quote
        return out

    @property
    def usage(self) -> Usage:
        return self.response.usage if self.response else Usage()

    @property
    def cost_usd(self) -> float:
        return self.response.cost_usd if self.response else 0.0

    def trace(self) -> dict[str, Any]:
        if self.response is not None:
            return self.response.trace()
        return {"provider": EXTRACTIVE, "model": EXTRACTIVE, "usage": Usage().as_dict(), "cost_usd": 0.0}


def _lines_relevant(text: str, question: str, max_chars: int) -> str:
    """The page's most relevant lines within `max_chars`, in page order.

    Long statement pages cost tokens on every call; the head (title, "(In millions)", column years)
    and the lines sharing the most terms with the question (each with its neighbours, so a table row
    keeps the label line above it) carry the answer."""
    if len(text) <= max_chars:
        return text
    lines = text.split("\n")
    q = search_terms(question)
    keep: set[int] = set(range(min(6, len(lines))))
    header = re.compile(r"(?i)\b(?:in\s+(?:thousands|millions|billions)|(?:19|20)\d{2}\s+(?:19|20)\d{2})\b")
    keep |= {i for i, ln in enumerate(lines) if header.search(ln)}
    scored = sorted(
        ((len(q & search_terms(ln)), -i) for i, ln in enumerate(lines) if ln.strip()),
        reverse=True,
    )

    def size(ids: set[int]) -> int:
        return sum(len(lines[i]) + 1 for i in ids)

    for score, neg_i in scored:
        if score == 0:
            break
        i = -neg_i
        cand = keep | {j for j in (i - 1, i, i + 1) if 0 <= j < len(lines)}
        if size(cand) > max_chars:
            continue
        keep = cand
    out: list[str] = []
    prev = -2
    for i in sorted(keep):
        if i != prev + 1 and out:
            out.append("[...]")
        out.append(lines[i])
        prev = i
    return "\n".join(out)[:max_chars]


def context_blocks(
    question: str,
    hits: Sequence[Hit],
    *,
    max_chars: int = 6_000,
    block_chars: int = 2_500,
    doc_names: Mapping[str, str] | None = None,
) -> list[ContextBlock]:
    """Blocks for the request within a character budget: pages in rank order, long ones focused on
    the question's lines, the first always kept."""
    blocks = blocks_from_hits(list(hits), doc_names, max_chars_per_block=200_000)
    out: list[ContextBlock] = []
    used = 0
    for b in blocks:
        text = _lines_relevant(b.text, question, block_chars)
        if out and used + len(text) > max_chars:
            continue  # a smaller later page may still fit
        if not out and len(text) > max_chars:
            text = text[:max_chars]
        out.append(ContextBlock(id=b.id, text=text, title=b.title))
        used += len(text)
    return out


def extractive_answer(question: str, hits: Sequence[Hit], scope: Scope | None = None) -> tuple[Answer, list[dict]]:
    """The offline answer, from hits with instruction-like sentences removed: a verbatim quote of an
    injected sentence would repeat the attacker's claim with a real citation."""
    clean, flags = redact_hits(hits)
    ans = ExtractiveAnswerer().answer(question, clean, scope or Scope())
    return ans, flags


def _offline_response(text: str) -> LLMResponse:
    return LLMResponse(text=text, usage=Usage(), cost_usd=0.0, provider=EXTRACTIVE, model=EXTRACTIVE, latency_ms=0.0)


class LLMAnswerer:
    """Answers from hits with the configured providers; extractive when none is configured or all fail."""

    def __init__(
        self,
        chain: FallbackChain | None,
        *,
        context_chars: int = 6_000,
        block_chars: int = 2_500,
        max_tokens: int = 512,
        prompt_cache: bool = True,
        chain_notes: Sequence[str] = (),
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.chain = chain
        self.context_chars = context_chars
        self.block_chars = block_chars
        self.max_tokens = max_tokens
        self.prompt_cache = prompt_cache
        self.chain_notes = list(chain_notes)
        self.clock = clock

    @classmethod
    def from_settings(
        cls,
        llm: LLMSettings,
        *,
        context_chars: int = 6_000,
        block_chars: int = 2_500,
        max_tokens: int | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> LLMAnswerer:
        # The real offline answerer needs the hits, so each call rebinds it (see `_chain_for`); this
        # placeholder only records whether "extractive" is in the provider list.
        chain, notes = build_chain(llm, offline=lambda r: _offline_response(""), sleep=sleep)
        return cls(
            chain,
            context_chars=context_chars,
            block_chars=block_chars,
            max_tokens=max_tokens or min(llm.max_tokens, 1024),
            prompt_cache=llm.prompt_cache,
            chain_notes=notes,
        )

    @property
    def has_llm(self) -> bool:
        return self.chain is not None and bool(self.chain.providers)

    def price(self) -> ModelPrice | None:
        """The first provider's price (the one that normally answers), for cost estimates; None when
        unpriced (a local server) or offline."""
        if not self.has_llm:
            return None
        assert self.chain is not None
        p = self.chain.providers[0]
        return price_for(getattr(p, "prices", None) or {}, str(getattr(p, "model", "")))

    def describe(self) -> list[str]:
        return self.chain.describe() if self.chain is not None else [EXTRACTIVE]

    def _chain_for(self, offline: Callable[[LLMRequest], LLMResponse] | None) -> FallbackChain:
        c = self.chain
        assert c is not None
        return FallbackChain(
            c.providers,
            retries=c.retries,
            backoff_base=c.backoff_base,
            backoff_max=c.backoff_max,
            offline=offline if c.offline is not None else None,
            sleep=c.sleep,
            rand=c.rand,
        )

    def complete(self, request: LLMRequest) -> LLMResponse | None:
        """A helper call (planner, classifier) without the offline answerer; None when all fail."""
        if not self.has_llm:
            return None
        try:
            return self._chain_for(None).complete(request)
        except AllProvidersFailedError as e:
            log.warning("LLM helper call failed: %s", e)
            return None

    def blocks(
        self, question: str, hits: Sequence[Hit], doc_names: Mapping[str, str] | None = None
    ) -> list[ContextBlock]:
        return context_blocks(
            question, hits, max_chars=self.context_chars, block_chars=self.block_chars, doc_names=doc_names
        )

    def offline(self, question: str, hits: Sequence[Hit], scope: Scope | None = None, note: str = "") -> Generation:
        ans, flags = extractive_answer(question, hits, scope)
        return Generation(
            text=ans.text,
            citations=ans.citations,
            unknown_citations=[],
            provider=EXTRACTIVE,
            model=EXTRACTIVE,
            sources={page_label(c.doc_name, c.page): c.quote for c in ans.citations},
            offline_answer=ans,
            injection_flags=flags,
            notes=[n for n in (note, *ans.notes) if n],
        )

    def generate(
        self,
        question: str,
        hits: Sequence[Hit],
        *,
        scope: Scope | None = None,
        system: str = SYSTEM_PROMPT,
        extra_blocks: Sequence[ContextBlock] = (),
        blocks: Sequence[ContextBlock] | None = None,
        images: Sequence[bytes] = (),
        prompt: str | None = None,
        cache_context: bool = False,
        doc_names: Mapping[str, str] | None = None,
    ) -> Generation:
        """Answer `question` from `hits` (or the given `blocks`). `prompt` replaces the question text
        sent to the model (a correction request); citations are resolved against `hits`.

        `cache_context`: mark the sources for prompt caching. Worth it only when the same sources
        are sent again within minutes (the agentic draft -> correct loop): a one-off cache write
        costs 25% more than plain input."""
        if not self.has_llm:
            return self.offline(question, hits, scope, "no LLM provider configured: extractive answer")
        if not hits and not blocks:
            return self.offline(question, hits, scope)  # nothing retrieved: no call to pay for
        shown = list(blocks) if blocks is not None else self.blocks(question, hits, doc_names)
        shown += list(extra_blocks)
        request = build_request(
            prompt or question,
            shown,
            system=system,
            max_tokens=self.max_tokens,
            images=images,
            cache=self.prompt_cache,
            cache_context=self.prompt_cache and cache_context,
        )
        prompt_stats = {
            "blocks": len(shown),
            "source_chars": sum(len(b.text) for b in shown),
            "question_chars": len(prompt or question),
            "system_chars": len(system),
            "images": len(images),
            "est_input_tokens": (sum(len(b.text) for b in shown) + len(prompt or question) + len(system)) // 4,
            "cache_context": request.cache_context,
        }
        holder: dict[str, Generation] = {}

        def offline(_: LLMRequest) -> LLMResponse:
            gen = self.offline(question, hits, scope, "all LLM providers failed: extractive answer")
            holder["gen"] = gen
            return _offline_response(gen.text)

        try:
            resp = drafts.complete(self._chain_for(offline), request)  # streamed when a caller shows drafts
        except AllProvidersFailedError as e:
            # No offline answerer configured; quotes are still better than an error page.
            gen = self.offline(question, hits, scope, f"all LLM providers failed ({e.message}): extractive answer")
            gen.response = _offline_response(gen.text)
            gen.response.attempts = e.attempts
            return gen
        if resp.provider == EXTRACTIVE and "gen" in holder:
            gen = holder["gen"]
            gen.response = resp  # keeps the failed attempts for the trace
            gen.prompt = prompt_stats
            return gen
        citations, unknown = resolve_citations(resp.text, list(hits), doc_names)
        notes = [f"cites sources that were not shown: {', '.join(unknown)}"] if unknown else []
        return Generation(
            text=resp.text.strip(),
            citations=citations,
            unknown_citations=unknown,
            provider=resp.provider,
            model=resp.model,
            sources={b.id: b.text for b in shown},
            response=resp,
            notes=notes,
            prompt=prompt_stats,
        )
