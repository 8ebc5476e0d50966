"""The long-context route: the scoped filing's pages sent as ONE prompt-cached source block.

Retrieval shows the model a few pages; some questions ("what are the main risks and how did
management respond?") need the filing read more widely. When the question is scoped to one filing
(or a few) and the pages fit the model's window (settings), the filing is sent whole, or, when too
long, the aligned window of consecutive pages that holds the retrieved ones. The block's text depends
only on the filing(s) and the window, never on the question, so a follow-up question on the same
filing re-sends an identical prefix and Anthropic serves it from the prompt cache (cache reads cost
0.1x input; the first write 1.25x).

Pages are marked `=== DOC p.N ===` inside the block; the model cites pages, and citations resolve
against page-level hits as usual, and each cited page is checked on its own text."""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from finrag.answer.compose import finish
from finrag.answer.context import TenantContext
from finrag.answer.llm_answerer import LLMAnswerer
from finrag.answer.registry import register
from finrag.answer.request import AnswerRequest
from finrag.llm.base import ContextBlock
from finrag.llm.prompting import SYSTEM_PROMPT, hit_doc_name, source_label
from finrag.records import Answer, Chunk, Hit, Scope

log = logging.getLogger(__name__)

LONG_CONTEXT_SYSTEM_PROMPT = (
    SYSTEM_PROMPT
    + """6. The source below holds whole sections of the filing, page by page. Each page starts with a line \
`=== DOC p.N ===`; cite the page a fact is printed on as [DOC p.N], never the source's own id.
"""
)
BLOCK_ID = "filing pages"
PAGE_MARK = "=== {label} ==="
# System prompt, preamble, question and answer besides the filing text.
RESERVED_TOKENS = 2_000


def estimate_tokens(text: str) -> int:
    """~4 characters a token, the convention every estimate here uses."""
    return math.ceil(len(text) / 4)


@dataclass(slots=True)
class Selection:
    """The pages sent and the block built from them."""

    doc_ids: list[str]
    pages: list[Chunk]
    block: ContextBlock
    tokens: int
    whole: bool  # every page of every scoped filing
    key: str  # sha256 of the block text: its identity in the prompt cache

    def labels(self, doc_names: dict[str, str] | None = None) -> list[str]:
        return [_label(p, doc_names) for p in self.pages]

    def trace(self) -> dict[str, Any]:
        ranges: dict[str, list[int]] = {}
        for p in self.pages:
            ranges.setdefault(_doc_name(p), []).append(p.page_start + 1)
        return {
            "docs": self.doc_ids,
            "pages": {name: _ranges(nums) for name, nums in ranges.items()},
            "tokens": self.tokens,
            "whole_filings": self.whole,
            "block_key": self.key[:16],
        }


def _doc_name(chunk: Chunk, doc_names: dict[str, str] | None = None) -> str:
    return hit_doc_name(Hit(chunk=chunk, score=0.0), doc_names)


def _label(chunk: Chunk, doc_names: dict[str, str] | None = None) -> str:
    return source_label(_doc_name(chunk, doc_names), chunk.page_start)


def _ranges(nums: list[int]) -> str:
    out: list[str] = []
    start = prev = nums[0]
    for n in [*nums[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        out.append(f"{start}" if start == prev else f"{start}-{prev}")
        if n is not None:
            start = prev = n
    return ", ".join(out)


def _windows(pages: Sequence[Chunk], budget_tokens: int) -> list[list[Chunk]]:
    """Consecutive pages packed from the first page on: fixed windows, so every question whose pages
    fall in one window sends the same block (and hits the same cache entry)."""
    out: list[list[Chunk]] = []
    cur: list[Chunk] = []
    size = 0
    for p in pages:
        t = estimate_tokens(p.text) + 12  # + the page marker
        if cur and size + t > budget_tokens:
            out.append(cur)
            cur, size = [], 0
        cur.append(p)
        size += t
    if cur:
        out.append(cur)
    return out


class LongContextPipeline:
    name = "long_context"

    def __init__(
        self,
        llm: LLMAnswerer,
        *,
        max_tokens: int = 60_000,
        window_tokens: int = 200_000,
        max_docs: int = 2,
        answer_tokens: int = 512,
    ) -> None:
        self.llm = llm
        self.max_tokens = max_tokens
        self.window_tokens = window_tokens
        self.max_docs = max_docs
        self.answer_tokens = answer_tokens

    @property
    def budget_tokens(self) -> int:
        """Filing tokens per request: the setting, within what the model's window leaves."""
        return max(0, min(self.max_tokens, self.window_tokens - RESERVED_TOKENS - self.answer_tokens))

    def candidate_docs(self, scope: Scope, hits: Sequence[Hit]) -> tuple[list[str], str]:
        """The filings the question is about, or [] and why not."""
        if scope.applied and scope.doc_ids:
            ids = sorted(set(scope.doc_ids))
            if len(ids) <= self.max_docs:
                return ids, f"scoped to {len(ids)} filing(s)"
            return [], f"scoped to {len(ids)} filings (the long-context route takes at most {self.max_docs})"
        docs = sorted({h.chunk.doc_id for h in hits})
        if len(docs) == 1:
            return docs, "every retrieved page is from one filing"
        return [], "the question is not scoped to one filing"

    def select(
        self, question: str, hits: Sequence[Hit], scope: Scope, ctx: TenantContext
    ) -> tuple[Selection | None, str]:
        """The pages to send, or None and the reason the route does not apply."""
        if ctx.read_document is None:
            return None, "no reader for whole filings"
        ids, why = self.candidate_docs(scope, hits)
        if not ids:
            return None, why
        budget = self.budget_tokens
        per_doc = budget // len(ids)
        if per_doc < 500:
            return None, f"the model's window ({self.window_tokens:,} tokens) leaves too little room"
        # Retrieval rank decides which window of a long filing to send (1/rank: scores of different
        # rerankers are not comparable).
        weight: dict[tuple[str, int], float] = {}
        for rank, h in enumerate(hits):
            for page in range(h.chunk.page_start, h.chunk.page_end + 1):
                key = (h.chunk.doc_id, page)
                weight[key] = weight.get(key, 0.0) + 1.0 / (rank + 1)
        chosen: list[Chunk] = []
        whole = True
        for doc_id in ids:
            try:
                pages = [p for p in ctx.read_document(doc_id) if p.text.strip()]
            except Exception as e:  # a store error means: no long context, not no answer
                log.warning("read_document %s failed: %s", doc_id, e)
                return None, f"could not read {doc_id}: {type(e).__name__}"
            if not pages:
                return None, f"no pages stored for {doc_id}"
            windows = _windows(pages, per_doc)
            if len(windows) > 1:
                whole = False
            best = max(
                range(len(windows)),
                key=lambda i: (sum(weight.get((doc_id, p.page_start), 0.0) for p in windows[i]), -i),
            )
            chosen += windows[best]
        parts = []
        for p in chosen:
            text = p.text if estimate_tokens(p.text) <= per_doc else p.text[: per_doc * 4]  # one giant page
            parts.append(f"{PAGE_MARK.format(label=_label(p, _names(ctx)))}\n{text}")
        text = "\n\n".join(parts)
        names = list(dict.fromkeys(_doc_name(p, _names(ctx)) for p in chosen))
        title = f"{', '.join(names)}: " + (
            "whole filing" if whole else "pages " + _ranges([p.page_start + 1 for p in chosen])
        )
        block = ContextBlock(id=BLOCK_ID, title=title, text=text)
        tokens = estimate_tokens(text)
        key = hashlib.sha256(f"{title}\n{text}".encode()).hexdigest()
        return Selection(ids, chosen, block, tokens, whole, key), why

    def answer(
        self,
        question: str,
        hits: Sequence[Hit],
        scope: Scope,
        ctx: TenantContext | None = None,
        selection: Selection | None = None,
    ) -> Answer:
        return self.run(AnswerRequest.of(question, hits, scope, ctx, selection=selection))

    def run(self, request: AnswerRequest) -> Answer:
        question, hits, scope, ctx = request.question, request.hits, request.scope, request.ctx
        sel = request.selection
        if sel is None:
            sel, why = self.select(question, hits, scope, ctx)
            if sel is None:
                raise ValueError(f"the long-context route does not apply: {why}")
        page_hits = [Hit(chunk=p, score=1.0, source="long-context") for p in sel.pages]
        gen = self.llm.generate(
            question,
            page_hits,
            scope=scope,
            system=LONG_CONTEXT_SYSTEM_PROMPT,
            blocks=[sel.block],
            cache_context=True,  # the point of the route: follow-ups read the filing from the cache
            doc_names=_names(ctx),
        )
        if not gen.offline:
            # Check each cited page against its own text, not against the whole filing.
            gen.sources = {_label(p, _names(ctx)): p.text for p in sel.pages}
        trace = {"long_context": sel.trace()}
        return finish(question, scope, gen, pipeline="long_context", hits=page_hits, trace=trace)


def _names(ctx: TenantContext) -> dict[str, str] | None:
    return dict(ctx.doc_names) if ctx.doc_names else None


register(
    "long_context",
    lambda llm, s, _built: LongContextPipeline(
        llm,
        max_tokens=s.long_context_max_tokens,
        window_tokens=s.long_context_window_tokens,
        max_docs=s.long_context_max_docs,
        answer_tokens=s.max_answer_tokens,
    ),
)
