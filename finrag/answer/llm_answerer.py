"""LLM answering over retrieved hits: provider fallback (FallbackChain), the extractive answerer as the
offline last resort, a context budget, and citations resolved back to the hits that were shown.

`LLMAnswerer.generate` is the one place every pipeline sends an answer request through, so cost,
usage and the provider that answered are recorded the same way for each."""

from __future__ import annotations

import hashlib
import logging
import math
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from finrag.answer import drafts
from finrag.answer.context import TenantContext
from finrag.answer.extractive import ExtractiveAnswerer
from finrag.answer.support import redact_hits
from finrag.finance.text import page_label
from finrag.finance.words import search_terms
from finrag.llm.base import AllProvidersFailedError, ContextBlock, LLMRequest, LLMResponse, Usage
from finrag.llm.fallback import FallbackChain, build_chain
from finrag.llm.prompting import (
    SOURCES_PREAMBLE,
    SYSTEM_PROMPT,
    blocks_from_hits,
    build_request,
    resolve_citations,
    source_label,
)
from finrag.records import Answer, Chunk, Citation, Hit, Scope
from finrag.retrieve.statements import STATEMENTS, is_statement_page
from finrag.settings import LLMSettings, ModelPrice, price_for

log = logging.getLogger(__name__)

EXTRACTIVE = "extractive"
CACHE_TTL_S = 300.0  # Anthropic's ephemeral cache: 5 minutes, refreshed by each read
COVER_CHARS = 1_500  # the cover page's head: company, form, fiscal year end
PAGE_CHARS = 6_000  # one statement page at most


class PromptCacheTracker:
    """Keys sent with cache_control recently: key -> expiry. An in-process guess at
    what the provider's prompt cache holds, used for cost estimates and for the filing prefix."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._warm: dict[str, float] = {}
        self._lock = threading.Lock()

    def is_warm(self, key: str) -> bool:
        with self._lock:
            exp = self._warm.get(key)
            return exp is not None and exp > self.clock()

    def mark_warm(self, key: str) -> None:
        with self._lock:
            now = self.clock()
            self._warm = {k: v for k, v in self._warm.items() if v > now}
            self._warm[key] = now + CACHE_TTL_S


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / 4)


@dataclass(slots=True)
class FilingPrefix:
    """A filing's question-independent pages (cover, then its primary statements), as source blocks
    whose text never depends on the question: the same prefix for every question on the filing."""

    doc_id: str
    blocks: list[ContextBlock]
    pages: list[Chunk]
    key: str  # sha256 of the blocks' text
    whole: set[str] = field(default_factory=set)  # labels of pages sent whole (a cut page is still retrieved)

    @property
    def tokens(self) -> int:
        return sum(estimate_tokens(b.text) + 12 for b in self.blocks)  # + the source tags

    def hits(self) -> list[Hit]:
        """The pages as hits, so citations of them resolve like any retrieved page's."""
        return [Hit(chunk=p, score=0.0, source="prefix") for p in self.pages]


def filing_prefix(
    doc_id: str, pages: Sequence[Chunk], doc_names: Mapping[str, str] | None, max_tokens: int
) -> FilingPrefix | None:
    """The first page of each primary statement (income, balance sheet, cash flows) in page order, then
    the cover page's head, within `max_tokens` (the page that crosses the budget is cut: a prefix of
    fixed text, whatever the question); None when the filing has no statement page."""
    ordered = sorted(pages, key=lambda c: c.page_start)
    statements = {
        p.page_start: p
        for st in STATEMENTS
        if (p := next((q for q in ordered if is_statement_page(q.text, st, q.section)), None)) is not None
    }
    if not statements:
        return None
    chosen = [(statements[k], PAGE_CHARS) for k in sorted(statements)]
    if ordered and ordered[0].page_start not in statements:
        chosen.append((ordered[0], COVER_CHARS))
    blocks: list[ContextBlock] = []
    kept: list[Chunk] = []
    whole: set[str] = set()
    left = max_tokens
    for page, limit in chosen:
        room = (left - 12) * 4  # characters, after the source tags
        if room < 400:
            break
        text = page.text[: min(limit, room)]
        name = str((doc_names or {}).get(page.doc_id) or page.metadata.get("doc_name") or page.doc_id)
        label = source_label(name, page.page_start)
        blocks.append(ContextBlock(id=label, text=text, title=page.section or ""))
        kept.append(page)
        if len(text) == len(page.text):
            whole.add(label)
        left -= estimate_tokens(text) + 12
    if not blocks:
        return None
    key = hashlib.sha256("\n".join(f"{b.id}\n{b.text}" for b in blocks).encode()).hexdigest()
    return FilingPrefix(doc_id=doc_id, blocks=blocks, pages=kept, key=key, whole=whole)


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
        filing_prefix: bool = False,
        cache_min_tokens: int = 1024,
        prefix_max_tokens: int = 3000,
        prefix_after: int = 1,
        cache_clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.chain = chain
        self.context_chars = context_chars
        self.block_chars = block_chars
        self.max_tokens = max_tokens
        self.prompt_cache = prompt_cache
        self.chain_notes = list(chain_notes)
        self.clock = clock
        self.filing_prefix = filing_prefix
        self.cache_min_tokens = cache_min_tokens
        self.prefix_max_tokens = prefix_max_tokens
        self.prefix_after = prefix_after
        # Filings asked about recently (tenant/doc -> times): repeated questions within the cache's
        # lifetime is what makes caching the filing's pages pay.
        self.cache_clock = cache_clock
        self._asked: dict[str, list[float]] = {}
        self._prefixes: OrderedDict[tuple[str, str], FilingPrefix | None] = OrderedDict()
        self._prefix_lock = threading.Lock()

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
            filing_prefix=llm.prompt_cache and llm.prompt_cache_filing_prefix,
            cache_min_tokens=llm.prompt_cache_min_tokens,
            prefix_max_tokens=llm.prompt_cache_prefix_max_tokens,
            prefix_after=llm.prompt_cache_prefix_after,
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

    def _asked_before(self, key: str) -> int:
        """Questions on `key` within the cache's lifetime before this one (this one is recorded)."""
        now = self.cache_clock()
        with self._prefix_lock:
            times = [t for t in self._asked.get(key, []) if t > now - CACHE_TTL_S]
            self._asked[key] = [*times, now]
            if len(self._asked) > 4096:  # forget filings not asked about lately
                self._asked = {k: v for k, v in self._asked.items() if v[-1] > now - CACHE_TTL_S}
        return len(times)

    def prefix_for(self, scope: Scope, ctx: TenantContext, system: str = SYSTEM_PROMPT) -> FilingPrefix | None:
        """The scoped filing's cached prefix, where it saves money: the question is scoped to one filing,
        that filing was asked about `prefix_after` times within the cache's lifetime (a one-off question
        would pay the 1.25x cache write for nothing), and system prompt + pages reach the model's minimum cacheable size
        (below it nothing is cached and the pages would be paid in full on every call)."""
        if not (self.filing_prefix and self.prompt_cache and self.has_llm) or len(scope.doc_ids) != 1:
            return None
        if ctx.read_document is None:
            return None
        doc_id = scope.doc_ids[0]
        if self._asked_before(f"{ctx.tenant}/{doc_id}") < self.prefix_after:
            return None
        cache_key = (ctx.tenant, doc_id)
        with self._prefix_lock:
            found = cache_key in self._prefixes
            prefix = self._prefixes.get(cache_key)
        if not found:
            prefix = filing_prefix(doc_id, ctx.read_document(doc_id), ctx.doc_names, self.prefix_max_tokens)
            with self._prefix_lock:
                self._prefixes[cache_key] = prefix
                while len(self._prefixes) > 64:
                    self._prefixes.popitem(last=False)
        cached = estimate_tokens(system) + estimate_tokens(SOURCES_PREAMBLE) + (prefix.tokens if prefix else 0)
        if prefix is None or cached < self.cache_min_tokens:
            return None
        return prefix

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
        prefix: FilingPrefix | None = None,
    ) -> Generation:
        """Answer `question` from `hits` (or the given `blocks`). `prompt` replaces the question text
        sent to the model (a correction request); citations are resolved against `hits`.

        `cache_context`: mark the sources for prompt caching. Worth it only when the same sources
        are sent again within minutes (the agentic draft -> correct loop): a one-off cache write
        costs 25% more than plain input.

        `prefix`: the scoped filing's cached pages (`prefix_for`), sent before the retrieved sources;
        retrieved pages it already holds are not sent twice."""
        if not self.has_llm:
            return self.offline(question, hits, scope, "no LLM provider configured: extractive answer")
        if not hits and not blocks:
            return self.offline(question, hits, scope)  # nothing retrieved: no call to pay for
        shown = list(blocks) if blocks is not None else self.blocks(question, hits, doc_names)
        shown += list(extra_blocks)
        fixed: list[ContextBlock] = []
        if prefix is not None and self.prompt_cache:
            fixed = prefix.blocks
            shown = [b for b in shown if b.id not in prefix.whole]  # never the same page twice
            hits = [*hits, *prefix.hits()]
        request = build_request(
            prompt or question,
            shown,
            system=system,
            max_tokens=self.max_tokens,
            images=images,
            cache=self.prompt_cache,
            cache_context=self.prompt_cache and cache_context,
            prefix=fixed,
        )
        prompt_stats = {
            "blocks": len(shown),
            "source_chars": sum(len(b.text) for b in shown),
            "prefix_blocks": len(fixed),
            "prefix_chars": sum(len(b.text) for b in fixed),
            "question_chars": len(prompt or question),
            "system_chars": len(system),
            "images": len(images),
            "est_input_tokens": (sum(len(b.text) for b in [*fixed, *shown]) + len(prompt or question) + len(system))
            // 4,
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
            sources={b.id: b.text for b in [*fixed, *shown]},
            response=resp,
            notes=notes,
            prompt=prompt_stats,
        )
