"""The agentic pipeline: questions whose answer must be put together from several figures.

Tools: `search(query, scope)`, `read_page(doc_id, page)` and the calculator. The loop is bounded
(`max_iterations` LLM steps):

1. plan: the question in generic finance terms (`finance.plan_question`: metric -> line items x
   fiscal years); with an LLM and no recognizable metric, the model proposes search queries;
2. retrieve: each line item from the hits already retrieved, else by a search of its own; its value
   is read from the statement row in the fiscal year's column and cited;
3. calculate: the metric's formula with the logged calculator (every step re-checkable);
4. draft (LLM, only when needed): sources + a calculator block; check: numeric grounding + lexical
   support; correct: the unsupported figures are sent back, with the same (cached) sources.

Without an LLM the calculator answer (result, formula in words, each input with its citation) is
the answer; questions needing judgement get it plus the most relevant quotes."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import replace
from itertools import pairwise
from typing import Any

from finrag.answer.compose import faithfulness_of, finish
from finrag.answer.computation import (
    Computation,
    ItemFinder,
    compute,
    distinct_companies,
    prior_year,
    sentence_answer,
)
from finrag.answer.context import TenantContext
from finrag.answer.extractive import EXCERPT_LABEL, which_company
from finrag.answer.ledger import Ledger
from finrag.answer.llm_answerer import Generation, LLMAnswerer, extractive_answer
from finrag.answer.registry import register
from finrag.answer.request import AnswerRequest
from finrag.finance.calculator import CalcStep
from finrag.finance.calculator import difference as calc_difference
from finrag.finance.facts import needs_judgement
from finrag.finance.judgement import Rule, decide, plan_for, rule_for
from finrag.finance.metrics import ITEMS
from finrag.finance.statements import Found, format_result
from finrag.finance.words import content_words
from finrag.llm.base import ContextBlock, LLMRequest
from finrag.records import Answer, AnswerKind, Citation, Hit, Scope

log = logging.getLogger(__name__)

PLANNER_PROMPT = """\
You plan searches in financial filings. For the user's question, list the line items, disclosures or \
passages that must be looked up to answer it, one short search query per line, at most 4 lines, each \
starting with "SEARCH: ". Name the company and fiscal year in each query. Output nothing else, and ignore \
the instruction in the user message to cite sources."""


class AgenticPipeline:
    name = "agentic"

    def __init__(
        self,
        llm: LLMAnswerer,
        *,
        max_iterations: int = 3,
        threshold: float = 0.7,
        search_k: int = 4,
        llm_for_metrics: bool = False,
    ) -> None:
        self.llm = llm
        self.max_iterations = max_iterations
        self.threshold = threshold
        self.search_k = search_k
        self.llm_for_metrics = llm_for_metrics

    # -------------------------------------------------------------------------------------------
    def answer(self, question: str, hits: Sequence[Hit], scope: Scope, ctx: TenantContext | None = None) -> Answer:
        return self.run(AnswerRequest.of(question, hits, scope, ctx))

    def run(self, request: AnswerRequest) -> Answer:
        question, hits, scope, ctx, facts = request.question, request.hits, request.scope, request.ctx, request.facts
        if not self.llm.has_llm:
            ask = which_company(question, list(hits), scope)
            if ask is not None:
                ask.pipeline = "agentic"
                return ask
        ledger = Ledger()
        default_year = facts.default_year
        plan = facts.plan
        rule = rule_for(question) if facts.yes_no else None
        if rule is not None:
            # a yes/no question is decided on the figure its rule names ("capital-intensive": capex / revenue)
            plan = plan_for(rule, plan, facts.years[-1] if facts.years else default_year)
        target = plan.years[-1] if plan else (default_year or 0)
        finder = ItemFinder(hits, ctx, scope, self.search_k, target, months=facts.months)
        names = distinct_companies(scope.companies)
        companies = names if len(names) > 1 else [names[0] if names else ""]
        comps: list[Computation] = []
        trend: list[tuple[Computation, Computation]] = []
        trace: dict[str, Any] = {"agentic": {"plan": None, "iterations": 0}}
        if plan is not None:
            for company in companies:
                comp = compute(plan, finder, company)
                if not comp.complete and not facts.years and _only_latest_missing(comp):
                    # the question names no year and the default one is not printed yet: the latest that is
                    earlier = compute(replace(plan, years=[y - 1 for y in plan.years]), finder, company)
                    comp = earlier if earlier.complete else comp
                comps.append(comp)
                if comp.complete and (
                    (rule is not None and rule.directional)
                    or (
                        facts.needs_judgement
                        and re.search(r"(?i)improv|chang|trend|declin|increas|decreas|compare", question)
                    )
                ):
                    t = prior_year(plan, finder, company)
                    if t:
                        trend.append(t)
        elif self.llm.has_llm:
            for q in self._plan_searches(question, ledger):
                if ctx.search is not None:
                    try:
                        finder.add(ctx.search(q, scope)[: self.search_k])
                        finder.searches.append({"query": q, "from": "llm plan"})
                    except Exception as e:
                        log.warning("agentic search failed: %s", e)
        complete = bool(comps) and all(c.complete for c in comps)
        steps = [s for c in comps for s in c.steps]
        for prior, _cur in trend:
            steps += prior.steps
        calc_text = self._calc_text(comps, trend)
        trace["agentic"] = {
            "plan": comps[0].trace()["plan"] if comps else ("llm search plan" if finder.searches else None),
            "computations": [c.trace() for c in comps],
            "searches": finder.searches,
            "complete": complete,
            "iterations": 0,
        }

        judgement = facts.needs_judgement
        use_llm = self.llm.has_llm and (not complete or judgement or self.llm_for_metrics)
        if not use_llm:
            decided = _yes_no(rule, question, comps, trend)
            return self._deterministic(
                question, scope, comps, trend, finder, steps, calc_text, trace, ledger, decided=decided
            )
        return self._llm_loop(question, scope, comps, finder, steps, calc_text, trace, ledger, complete)

    def lookup(self, request: AnswerRequest) -> Answer | None:
        """A single line item for one fiscal year read from its statement row, or None. The easy
        pipeline uses it offline: a cited row beats the best-matching sentence."""
        question, hits, scope, ctx = request.question, request.hits, request.scope, request.ctx
        plan = request.facts.plan
        names = distinct_companies(scope.companies)
        if plan is None or plan.kind != "lookup" or len(plan.years) != 1 or len(names) > 1:
            return None
        finder = ItemFinder(hits, ctx, scope, self.search_k, plan.years[-1], months=request.facts.months)
        comp = compute(plan, finder, names[0] if names else "")
        if not comp.complete:
            return None
        trace: dict[str, Any] = {"lookup": comp.trace()}
        rule = rule_for(question) if request.facts.yes_no else None
        return self._deterministic(
            question,
            scope,
            [comp],
            [],
            finder,
            comp.steps,
            comp.text,
            trace,
            Ledger(),
            decided=_yes_no(rule, question, [comp], []),
        )

    # -------------------------------------------------------------------------------------------
    def _plan_searches(self, question: str, ledger: Ledger) -> list[str]:
        resp = self.llm.complete(LLMRequest(system=PLANNER_PROMPT, question=question, max_tokens=200))
        ledger.add(resp, "plan")
        if resp is None:
            return []
        return [m.group(1).strip() for m in re.finditer(r"(?im)^\s*SEARCH:\s*(.+)$", resp.text)][:4]

    @staticmethod
    def _calc_text(comps: Sequence[Computation], trend: Sequence[tuple[Computation, Computation]]) -> str:
        parts = [c.text for c in comps if c.complete]
        for prior, cur in trend:
            m = cur.plan.metrics[0]
            dec = cur.plan.decimals if cur.plan.decimals is not None else m.decimals
            y = cur.plan.years[-1]
            parts.append(
                f"FY{y - 1} {m.name} was {format_result(prior.final or 0.0, m.unit, dec)} "
                + "".join(f"[{c}]" for c in dict.fromkeys(f.citation for f in prior.found.values()))
                + "."
            )
        return "\n".join(parts)

    def _deterministic(
        self,
        question: str,
        scope: Scope,
        comps: list[Computation],
        trend: list[tuple[Computation, Computation]],
        finder: ItemFinder,
        steps: list[CalcStep],
        calc_text: str,
        trace: dict[str, Any],
        ledger: Ledger,
        decided: str | None = None,
    ) -> Answer:
        """No LLM (or none needed): the calculator's answer, plus quotes when judgement is asked for.
        `decided`: a yes/no question's "Yes." / "No." line, from a rule of `finance.judgement`."""
        trend_steps: list[CalcStep] = []
        text = calc_text
        for prior, cur in trend:
            m = cur.plan.metrics[0]
            if m.unit == "%":
                d = calc_difference(cur.final or 0.0, prior.final or 0.0, unit="%")
                trend_steps.append(d)
                word = "up" if d.result >= 0 else "down"
                text += f"\nChange from FY{cur.plan.years[-1] - 1}: {word} {abs(d.result):.1f} percentage points."
        notes: list[str] = []
        citations: list[Citation] = []
        sources: dict[str, str] = {}
        for c in [*comps, *(p for p, _ in trend)]:
            for f in c.found.values():
                if f.citation not in sources:
                    page = finder.pages[(f.doc_id, f.page)]
                    sources[f.citation] = page.hit.chunk.text
                    citations.append(
                        Citation(
                            doc_id=f.doc_id,
                            doc_name=f.doc_name,
                            page=f.page + 1,
                            chunk_id=f.chunk_id,
                            quote=_row_quote(page.hit.chunk.text, f),
                            score=round(f.score, 4),
                        )
                    )
        offline_quotes: Answer | None = None
        if text and decided:
            text = f"{decided}\n{text}"
            kind = AnswerKind.YES_NO
        elif (
            comps
            and all(c.complete for c in comps)
            and (
                len(comps) > 1
                or any(len(c.plan.years) > 1 and not c.plan.average and c.plan.kind != "cagr" for c in comps)
                or trend
            )
        ):
            kind = AnswerKind.COMPARISON
        else:
            kind = AnswerKind.COMPUTED if steps else AnswerKind.FIGURE
        if not text and not self.llm.has_llm:
            assembled = sentence_answer(question, finder.page_hits(), scope, finder.ctx, "agentic")
            if assembled is not None:
                return assembled
        if not text or (needs_judgement(question) and not decided):
            offline_quotes, _ = extractive_answer(question, finder.page_hits() or [], scope)
            if not text:
                missing = [f"{ITEMS[k].name} FY{y}" for c in comps for k, y in c.missing]
                if missing:
                    notes.append("could not find " + ", ".join(missing) + " in the filings; showing the best quotes")
                elif not comps:
                    notes.append("no calculation recognized in the question; showing the best quotes")
                gen = Generation(
                    text=offline_quotes.text,
                    citations=offline_quotes.citations,
                    unknown_citations=[],
                    provider="extractive",
                    model="extractive",
                    sources={},
                    offline_answer=offline_quotes,
                    notes=notes,
                )
                hits = finder.page_hits()
                return finish(question, scope, gen, pipeline="agentic", ledger=ledger, trace=trace, hits=hits)
        gen = Generation(
            text=text,
            citations=citations,
            unknown_citations=[],
            provider="calculator",
            model="calculator",
            sources=sources,
            notes=notes,
        )
        # Input lines name line items generically ("cost of goods sold") next to the printed label
        # ("Cost of sales"); their figures are checked numerically, so those names are not claims.
        names = frozenset().union(*(content_words(ITEMS[k].name) for c in comps for k, _ in c.found))
        answer = finish(
            question,
            scope,
            gen,
            pipeline="agentic",
            calculations=steps + trend_steps,
            ledger=ledger,
            trace=trace,
            ignore_words=names,
            kind=kind,
        )
        answer.citations = citations  # exact row quotes, not re-picked lines
        if offline_quotes is not None and offline_quotes.kind == AnswerKind.EXCERPTS:
            # Verbatim quotes, appended after grounding: they are checked by being quotes, and their
            # bare table numbers ("1,468") would otherwise read as unscaled figures.
            quotes = [ln for ln in offline_quotes.text.split("\n") if ln.strip() and ln != EXCERPT_LABEL]
            answer.text += "\nRelevant passages:\n" + "\n".join(f"- {q}" for q in quotes)
            answer.citations += [
                c for c in offline_quotes.citations if all((c.doc_id, c.page) != (x.doc_id, x.page) for x in citations)
            ]
        answer.trace["answered_by"] = "calculator"
        return answer

    def _llm_loop(
        self,
        question: str,
        scope: Scope,
        comps: list[Computation],
        finder: ItemFinder,
        steps: list[CalcStep],
        calc_text: str,
        trace: dict[str, Any],
        ledger: Ledger,
        complete: bool,
    ) -> Answer:
        hits = finder.page_hits()
        blocks = self.llm.blocks(question, hits, self._doc_names(finder))
        # Pages holding the calculator's inputs must be shown whatever the budget, or the draft
        # cannot cite them.
        shown = {b.id for b in blocks}
        for c in comps:
            for f in c.found.values():
                if f.citation not in shown:
                    page = finder.pages[(f.doc_id, f.page)]
                    blocks.append(ContextBlock(id=f.citation, text=_row_window(page.hit.chunk.text, f)))
                    shown.add(f.citation)
        extra: list[ContextBlock] = []
        if calc_text:
            extra.append(
                ContextBlock(
                    id="calculator",
                    title="results computed from the cited figures",
                    text=calc_text + "\n(Each input above is cited to the source it was read from.)",
                )
            )
        attempts: list[tuple[float, bool, Generation, dict[str, Any], list[str]]] = []
        prompt: str | None = None
        for it in range(self.max_iterations):
            gen = self.llm.generate(
                question, hits, scope=scope, blocks=blocks, extra_blocks=extra, prompt=prompt, cache_context=True
            )
            ledger.add(gen.response, "draft" if it == 0 else f"correct {it}")
            if gen.offline:
                break
            score, supported, fdict, unsupported = faithfulness_of(question, gen, steps)
            attempts.append((score, supported, gen, fdict, unsupported))
            trace["agentic"]["iterations"] = it + 1
            if supported and score >= self.threshold:
                break
            prompt = _correction(question, gen, unsupported, fdict)
        trace["agentic"]["attempts"] = [
            {"faithfulness": round(a[0], 4), "supported": a[1], "unsupported_figures": a[4]} for a in attempts
        ]
        if not attempts:  # every provider failed: the offline answer
            return self._deterministic(question, scope, comps, [], finder, steps, calc_text, trace, ledger)
        score, supported, gen, _, _ = max(attempts, key=lambda a: (a[1], a[0]))
        if (not supported or score < self.threshold) and complete:
            trace["agentic"]["fallback"] = "LLM drafts were not grounded; the calculator's answer is returned"
            ans = self._deterministic(question, scope, comps, [], finder, steps, calc_text, trace, ledger)
            ans.notes.append(
                f"the LLM's best draft scored {score:.2f} faithfulness; answered with the calculator's result instead"
            )
            return ans
        return finish(
            question, scope, gen, pipeline="agentic", calculations=steps, ledger=ledger, trace=trace, hits=hits
        )

    @staticmethod
    def _doc_names(finder: ItemFinder) -> dict[str, str] | None:
        return dict(finder.ctx.doc_names) if finder.ctx.doc_names else None


def _only_latest_missing(comp: Computation) -> bool:
    """Every missing input is of the plan's last year (its column is not printed in the filings)."""
    last = comp.plan.years[-1]
    return bool(comp.missing) and all(y == last for _, y in comp.missing)


def _yes_no(
    rule: Rule | None,
    question: str,
    comps: Sequence[Computation],
    trend: Sequence[tuple[Computation, Computation]],
) -> str | None:
    """The "Yes." / "No." line when one company's computed figure decides the question, else None."""
    if rule is None or len(comps) != 1 or not comps[0].complete:
        return None
    comp = comps[0]
    years = comp.plan.years
    change: float | None = None
    if comp.plan.kind == "growth":
        change = comp.final
    elif len(years) > 1 and not comp.plan.average:
        change = comp.results[years[-1]] - comp.results[years[0]]
    elif trend:
        prior, cur = trend[0]
        change = (cur.final or 0.0) - (prior.final or 0.0)
    value = comp.final
    if rule.test == "stable":
        if len(years) < 2 or comp.plan.average:
            return None
        value = max(abs(comp.results[b] - comp.results[a]) for a, b in pairwise(years))
    answer = decide(rule, value, change, rule.threshold_in(question))
    if answer is None:
        return None
    return f"{'Yes' if answer else 'No'}. Decided on the {comp.plan.name}: {rule.basis}."


def _correction(question: str, gen: Generation, unsupported: list[str], fdict: dict[str, Any]) -> str:
    problems = []
    if unsupported:
        problems.append(
            "these figures are not printed in the cited sources and do not follow from the calculator block: "
            + ", ".join(unsupported)
        )
    if not gen.citations:
        problems.append("it cites no source id from the sources above")
    weak = [s["sentence"] for s in fdict.get("lexical", {}).get("sentences", []) if not s["supported"]]
    if weak:
        problems.append("these sentences are not supported by their sources: " + " | ".join(weak[:3]))
    if fdict.get("refusal"):
        problems.append("it says the sources do not answer, but the calculator block or the sources may")
    return (
        f"{question}\n\nA previous draft answer follows between <draft> tags; it has problems: "
        + "; ".join(problems or ["it is not grounded in the sources"])
        + ".\n<draft>\n"
        + gen.text
        + "\n</draft>\nWrite the corrected answer: use only figures printed in the sources or given in the "
        "calculator block, and cite each claim with its source id."
    )


def _row_quote(text: str, f: Found) -> str:
    """The printed line holding the value, for the citation's quote."""
    for line in text.split("\n"):
        if f.text in line and (not f.label or f.label.split(":")[-1].strip()[:12] in line):
            return line.strip()[:300]
    for line in text.split("\n"):
        if f.text in line:
            return line.strip()[:300]
    return f.label[:300]


def _row_window(text: str, f: Found, before: int = 10, after: int = 4) -> str:
    """The page's head (title, scale, column years) and the lines around the value's row."""
    lines = text.split("\n")
    idx = next((i for i, ln in enumerate(lines) if f.text in ln), 0)
    head = lines[:8]
    body = lines[max(8, idx - before) : idx + after]
    return "\n".join(head + (["[...]"] if idx - before > 8 else []) + body)


register(
    "agentic",
    lambda llm, s, _built: AgenticPipeline(
        llm,
        max_iterations=s.agentic_max_iterations,
        threshold=s.faithfulness_threshold,
        search_k=s.agentic_search_k,
        llm_for_metrics=s.agentic_llm_for_metrics,
    ),
)
