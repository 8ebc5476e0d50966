"""Multi-query rewrite: a question that spans several line items, fiscal years or filings is split into
sub-queries, each retrieved on its own and fused with the question's own results by RRF.

A fixed-asset turnover question needs the income statement (revenue) and the balance sheet (PP&E) of
two years; one query tends to find one of them. The offline rules read the question's facts once
(`finance.facts.read_question`): one sub-query per line item the plan needs, one per fiscal year asked
(restricted to that year's filings when the scope has them), one per company when the scope holds
several companies' filings. With an LLM configured (`FINRAG_RETRIEVAL_MULTI_QUERY_LLM=true`) the model
writes the sub-queries instead; the rules are the fallback when the call fails or returns nothing.

Sub-queries are only made for questions with at least `min_parts` items / years / companies, so a
one-figure lookup is retrieved exactly as before."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from finrag.finance.facts import QuestionFacts
from finrag.finance.metrics import ITEMS
from finrag.records import DocumentRecord, Scope

log = logging.getLogger(__name__)

# (system, user prompt) -> reply text, or None when no model answered. Built from the LLM settings by
# `llm_rewrite_fn`; the retriever never sees providers.
CompleteFn = Callable[[str, str], "str | None"]

REWRITE_SYSTEM = (
    "You split questions about financial filings into short search queries for a retrieval system. "
    "Write one query per line, nothing else: no numbering, no explanations. Each query names one "
    "company, one fiscal year and one figure or topic the answer needs (a line item of a financial "
    "statement, a segment, a disclosure). Write at most {n} queries. If the question needs only one "
    "search, write that one query."
)
_LINE_PREFIX = re.compile(r"^\s*(?:[-*•]|\d{1,2}[.)])\s*")


@dataclass(frozen=True, slots=True)
class SubQuery:
    text: str
    reason: str  # "line item: revenue", "fiscal year 2021", "company: Acme", "llm"
    doc_ids: tuple[str, ...] = ()  # searched only in these filings; () = the question's scope

    def trace(self) -> dict[str, object]:
        out: dict[str, object] = {"query": self.text, "reason": self.reason}
        if self.doc_ids:
            out["docs"] = len(self.doc_ids)
        return out


@dataclass(slots=True)
class Decomposition:
    subqueries: list[SubQuery] = field(default_factory=list)
    source: str = "rules"  # "rules" | "llm" | "llm failed: rules"

    def __bool__(self) -> bool:
        return bool(self.subqueries)


def _subject(facts: QuestionFacts) -> str:
    """What the question asks about, without its years: the plan's name, else the question itself."""
    if facts.plan is not None:
        return facts.plan.name
    bare = re.sub(r"\b(?:FY\s?)?(?:19|20)\d{2}\b|\bFY\s?\d{2}\b", " ", facts.question, flags=re.I)
    return _words(re.sub(r"[,;:?!]+", " ", bare))


def _words(text: str) -> str:
    """`text` with each word once (an item's name and its search words repeat each other)."""
    seen: set[str] = set()
    out = []
    for w in text.split():
        if w.lower() not in seen:
            seen.add(w.lower())
            out.append(w)
    return " ".join(out)


def asked_years(facts: QuestionFacts) -> list[int]:
    """Years the question asks about: the plan's (a definition's "average between FY2018 and FY2019"
    is not a second year asked), else the years named."""
    if facts.plan is not None and facts.plan.years:
        return sorted(set(facts.plan.years))
    return list(facts.years)


def rule_subqueries(
    facts: QuestionFacts,
    scope_docs: Sequence[DocumentRecord] = (),
    *,
    min_parts: int = 2,
    max_queries: int = 4,
) -> list[SubQuery]:
    """Sub-queries from the question's facts; [] when it names fewer than `min_parts` line items,
    years and companies each (a single lookup: the question alone retrieves it)."""
    out: list[SubQuery] = []
    years = asked_years(facts)
    year_words = " ".join(f"FY{y}" for y in years)
    if facts.plan is not None:
        keys: list[str] = []
        for key, _ in facts.plan.needs():
            if key not in keys:
                keys.append(key)
        if len(keys) >= min_parts:
            for key in keys:
                item = ITEMS[key]
                out.append(SubQuery(_words(f"{item.name} {item.query} {year_words}"), f"line item: {key}"))
    if len(years) >= min_parts:
        subject = _subject(facts)
        for y in years:
            docs = tuple(d.doc_id for d in scope_docs if d.filing.fiscal_year == y)
            out.append(SubQuery(f"{subject} FY{y}", f"fiscal year {y}", docs))
    companies: dict[str, list[str]] = {}
    for d in scope_docs:
        if d.filing.company:
            companies.setdefault(d.filing.company, []).append(d.doc_id)
    if len(companies) >= min_parts:
        subject = _subject(facts)
        for name, ids in companies.items():
            out.append(SubQuery(f"{name} {subject} {year_words}".strip(), f"company: {name}", tuple(ids)))
    seen: set[tuple[str, tuple[str, ...]]] = set()
    unique = []
    for q in out:
        key = (q.text.lower(), q.doc_ids)
        if key not in seen and q.text.lower() != facts.question.lower():
            seen.add(key)
            unique.append(q)
    return unique[:max_queries]


def parse_llm_queries(reply: str, question: str, max_queries: int) -> list[str]:
    """One query a line, bullets and numbers stripped; the question itself and duplicates dropped."""
    out: list[str] = []
    for line in reply.splitlines():
        text = _LINE_PREFIX.sub("", line).strip().strip('"').strip()
        if len(text) < 3 or len(text) > 300 or text.lower() == question.lower().strip():
            continue
        if text.lower() not in (q.lower() for q in out):
            out.append(text)
    return out[:max_queries]


class MultiQueryRewriter:
    """Decomposes a question into sub-queries: the LLM's when `complete` is given and answers, the
    rules' otherwise. The gate (`min_parts`) is the rules' in both cases: the LLM is asked only about
    questions the facts show to span several items, years or companies (a call per lookup would cost
    more than it finds)."""

    def __init__(self, *, min_parts: int = 2, max_queries: int = 4, complete: CompleteFn | None = None) -> None:
        self.min_parts = min_parts
        self.max_queries = max_queries
        self.complete = complete

    def decompose(self, facts: QuestionFacts, scope: Scope, scope_docs: Sequence[DocumentRecord] = ()) -> Decomposition:
        in_scope = [d for d in scope_docs if d.doc_id in set(scope.doc_ids)]
        rules = rule_subqueries(facts, in_scope, min_parts=self.min_parts, max_queries=self.max_queries)
        if not rules or self.complete is None:
            return Decomposition(rules, "rules")
        try:
            reply = self.complete(REWRITE_SYSTEM.format(n=self.max_queries), facts.question)
        except Exception as e:  # a rewrite is an optimisation: never fail retrieval for it
            log.warning("multi-query LLM rewrite failed: %s", e)
            reply = None
        texts = parse_llm_queries(reply or "", facts.question, self.max_queries)
        if not texts:
            return Decomposition(rules, "llm failed: rules")
        return Decomposition([SubQuery(t, "llm") for t in texts], "llm")


def llm_complete_fn(llm_settings: object, max_tokens: int = 200) -> CompleteFn | None:
    """A `CompleteFn` over the configured providers (no offline answerer); None when none is usable."""
    from finrag.llm.base import AllProvidersFailedError, LLMRequest
    from finrag.llm.fallback import build_chain

    try:
        chain, _notes = build_chain(llm_settings)  # type: ignore[arg-type]
    except ValueError:  # no provider usable (no key, no SDK)
        return None
    if not chain.providers:
        return None

    def complete(system: str, question: str) -> str | None:
        request = LLMRequest(system=system, question=question, max_tokens=max_tokens, cache=False, cache_context=False)
        try:
            return chain.complete(request).text
        except AllProvidersFailedError as e:
            log.warning("multi-query LLM rewrite: %s", e)
            return None

    return complete
