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
from dataclasses import dataclass, field, replace
from typing import Any

from finrag.answer.compose import faithfulness_of, finish
from finrag.answer.context import TenantContext
from finrag.answer.ledger import Ledger
from finrag.answer.llm_answerer import Generation, LLMAnswerer, extractive_answer
from finrag.answer.registry import register
from finrag.answer.request import AnswerRequest
from finrag.finance.calculator import CalcStep, CalculatorError, pct_change
from finrag.finance.calculator import average as calc_average
from finrag.finance.calculator import difference as calc_difference
from finrag.finance.companies import LEGAL_WORDS
from finrag.finance.facts import needs_judgement
from finrag.finance.metrics import ITEMS, LineItem
from finrag.finance.plan import Plan
from finrag.finance.statements import Found, find_in_page, format_money, format_result
from finrag.finance.words import content_words
from finrag.llm.base import ContextBlock, LLMRequest
from finrag.records import Answer, Chunk, ChunkKind, Citation, Hit, Scope

log = logging.getLogger(__name__)

PLANNER_PROMPT = """\
You plan searches in financial filings. For the user's question, list the line items, disclosures or \
passages that must be looked up to answer it, one short search query per line, at most 4 lines, each \
starting with "SEARCH: ". Name the company and fiscal year in each query. Output nothing else, and ignore \
the instruction in the user message to cite sources."""


@dataclass(slots=True)
class _Page:
    hit: Hit  # a page-level hit, its chunk text the full page when read_page gave it
    rank: int
    filing_year: int | None
    company: str


@dataclass(slots=True)
class Computation:
    """A plan evaluated for one company: found inputs, calculator steps and the answer text."""

    plan: Plan
    company: str
    found: dict[tuple[str, int], Found] = field(default_factory=dict)
    missing: list[tuple[str, int]] = field(default_factory=list)
    steps: list[CalcStep] = field(default_factory=list)
    results: dict[int, float] = field(default_factory=dict)  # year -> result
    final: float | None = None
    text: str = ""

    @property
    def complete(self) -> bool:
        return not self.missing and (self.final is not None)

    def trace(self) -> dict[str, Any]:
        return {
            "company": self.company,
            "plan": {"kind": self.plan.kind, "name": self.plan.name, "years": self.plan.years},
            "inputs": [
                {
                    "item": f.item,
                    "year": f.year,
                    "value": f.value,
                    "printed": f.text,
                    "label": f.label[:120],
                    "citation": f.citation,
                    "by_column_header": f.column_by_header,
                }
                for f in self.found.values()
            ],
            "missing": [f"{ITEMS[k].name} FY{y}" for k, y in self.missing],
            "result": self.final,
        }


class ItemFinder:
    """Finds line items for fiscal years on statement pages: the hits at hand first, a search of
    its own only when they do not show the row (each search is one retrieval round trip)."""

    def __init__(
        self, hits: Sequence[Hit], ctx: TenantContext, scope: Scope | None, search_k: int = 4, target_year: int = 0
    ) -> None:
        self.ctx = ctx
        self.scope = scope
        self.search_k = search_k
        self.target_year = target_year
        self.pages: dict[tuple[str, int], _Page] = {}
        self.searches: list[dict[str, Any]] = []
        self._searched: set[tuple[str, str]] = set()
        self.add(hits)

    def add(self, hits: Sequence[Hit]) -> None:
        for h in hits:
            key = (h.chunk.doc_id, h.chunk.page_start)
            if key in self.pages:
                continue
            text = None
            if self.ctx.read_page is not None:
                try:
                    text = self.ctx.read_page(h.chunk.doc_id, h.chunk.page_start)
                except Exception as e:  # a missing page must not sink the answer
                    log.warning("read_page %s p%s failed: %s", h.chunk.doc_id, h.chunk.page_start, e)
            chunk = h.chunk
            if text:
                chunk = replace(h.chunk, text=text, kind=ChunkKind.PAGE, page_end=h.chunk.page_start)
            fy = chunk.metadata.get("fiscal_year")
            self.pages[key] = _Page(
                Hit(chunk=chunk, score=h.score, source=h.source),
                len(self.pages),
                int(fy) if fy is not None else None,
                str(chunk.metadata.get("company") or ""),
            )

    def page_hits(self) -> list[Hit]:
        return [p.hit for p in sorted(self.pages.values(), key=lambda p: p.rank)]

    def _doc_name(self, chunk: Chunk) -> str:
        if self.ctx.doc_names and chunk.doc_id in self.ctx.doc_names:
            return self.ctx.doc_names[chunk.doc_id]
        return str(chunk.metadata.get("doc_name") or chunk.doc_id)

    def best(self, item: LineItem, year: int, company: str = "") -> Found | None:
        best: Found | None = None
        for p in self.pages.values():
            if company and p.company and not _same_company(company, p.company):
                continue
            if p.filing_year is not None and p.filing_year < year:
                continue  # a filing cannot report a later year
            other_entity = company and _other_entity(p.hit.chunk.text, company)
            for score, value, printed, label, scale, by_header in find_in_page(
                item, year, p.hit.chunk.text, filing_year=p.filing_year
            ):
                if other_entity:
                    score -= 0.4  # an affiliate's or subsidiary's statements filed as an exhibit
                # the filing of the year asked about (later filings may restate), then retrieval rank
                if p.filing_year == self.target_year:
                    score += 0.15
                score -= 0.01 * p.rank
                if best is None or score > best.score:
                    best = Found(
                        item=item.key,
                        year=year,
                        value=value,
                        text=printed,
                        label=label,
                        doc_id=p.hit.chunk.doc_id,
                        doc_name=self._doc_name(p.hit.chunk),
                        page=p.hit.chunk.page_start,
                        score=score,
                        chunk_id=p.hit.chunk.id,
                        scale=scale,
                        column_by_header=by_header,
                    )
        return best

    def find(self, item: LineItem, year: int, company: str = "") -> Found | None:
        found = self.best(item, year, company)
        if found is not None and found.score >= 1.25:  # exact label on the right statement: done
            return found
        if self.ctx.search is not None and (item.key, company) not in self._searched:
            self._searched.add((item.key, company))
            query = " ".join(p for p in (company, item.query, f"fiscal {self.target_year or year}") if p)
            scope = Scope(companies=[company]) if company and self._multi_company() else self.scope
            try:
                hits = self.ctx.search(query, scope)[: self.search_k]
            except Exception as e:  # the search tool failing leaves us with what we have
                log.warning("agentic search failed: %s", e)
                hits = []
            self.searches.append({"query": query, "hits": len(hits)})
            self.add(hits)
            found = self.best(item, year, company)
        return found if found is not None and found.score > 0.3 else None

    def _multi_company(self) -> bool:
        return self.scope is not None and len(distinct_companies(self.scope.companies)) > 1


def _name_words(name: str) -> set[str]:
    return set(re.findall(r"[a-z0-9&]{2,}", LEGAL_WORDS.sub(" ", name.lower())))


def _same_company(a: str, b: str) -> bool:
    """ "Adobe" and "Adobe Systems Incorporated" are one company; "American Express" and
    "American Water Works" are not: one name's words must contain the other's."""
    wa, wb = _name_words(a), _name_words(b)
    return bool(wa and wb) and (wa <= wb or wb <= wa)


_ENTITY_LINE = re.compile(
    r"(?m)^[ \t]*([A-Z][A-Z0-9&.,' -]{2,80}\b(?:INC|LLC|L\.L\.C|CORPORATION|CORP|COMPANY|HOLDINGS|LTD|PLC|LP)\.?)"
    r"[ \t]*$"
)


def _other_entity(text: str, company: str) -> bool:
    """The page's heading names a company other than the one asked about."""
    m = _ENTITY_LINE.search(text[:400])
    return bool(m) and not _same_company(m.group(1), company) and not (_name_words(m.group(1)) & _name_words(company))


def distinct_companies(names: Sequence[str]) -> list[str]:
    """One name per company, the shortest ("Adobe" rather than "Adobe Systems Incorporated")."""
    out: list[str] = []
    for n in names:
        same = next((i for i, o in enumerate(out) if _same_company(n, o)), None)
        if same is None:
            out.append(n)
        elif len(n) < len(out[same]):
            out[same] = n
    return out


def _possessive(company: str) -> str:
    if not company:
        return "The"
    short = re.sub(r"(?i),?\s+(?:inc\.?|corporation|corp\.?|co\.?|company|plc|ltd\.?|llc|n\.v\.)$", "", company)
    return f"{short}'" if short.endswith("s") else f"{short}'s"


def compute(plan: Plan, finder: ItemFinder, company: str = "") -> Computation:
    """Find the plan's inputs and run its formula; `missing` lists what could not be found."""
    comp = Computation(plan=plan, company=company)
    alternatives = range(len(plan.metrics)) if plan.metrics else range(1)
    for alt in alternatives:
        comp.found, comp.missing = {}, []
        for key, year in plan.needs(alt):
            f = finder.find(ITEMS[key], year, company)
            if f is None:
                comp.missing.append((key, year))
            else:
                comp.found[(key, year)] = f
        if not comp.missing:
            try:
                _run(plan, comp, alt)
            except CalculatorError as e:
                comp.missing.append(("revenue", plan.years[-1]))  # keeps `complete` false
                log.warning("calculation failed: %s", e)
                continue
            break
    return comp


def _run(plan: Plan, comp: Computation, alt: int) -> None:
    steps: list[CalcStep] = []
    for year in plan.years:

        def get(key: str, offset: int, _y: int = year) -> Any:
            f = comp.found[(key, _y + offset)]
            return f.as_input(f"{ITEMS[key].name} FY{_y + offset}")

        if plan.metrics:
            year_steps = plan.metrics[alt].build(get)
            steps += year_steps
            # ROA/ROE log a percent restatement last; the ratio is the figure asked for
            main = year_steps[0] if plan.metrics[alt].key in ("roa", "roe") else year_steps[-1]
            comp.results[year] = main.result
        elif plan.kind == "growth":
            s = pct_change(get(plan.item.key, 0), get(plan.item.key, -1))  # type: ignore[union-attr]
            steps.append(s)
            comp.results[year] = s.result
        else:
            comp.results[year] = get(plan.item.key, 0).value  # type: ignore[union-attr]
    if plan.average and len(plan.years) > 1:
        # per-year results are logged steps (or cited values), so the average chains back to the pages
        unit = plan.metrics[alt].unit if plan.metrics else "USD"
        avg = calc_average(*[comp.results[y] for y in plan.years], unit=unit)
        steps.append(avg)
        comp.final = avg.result
    else:
        comp.final = comp.results[plan.years[-1]]
        if len(plan.years) > 1 and plan.kind != "growth":
            # years compared: the change between the first and the last, in points for percentages
            first, last = comp.results[plan.years[0]], comp.results[plan.years[-1]]
            unit = plan.metrics[alt].unit if plan.metrics else "USD"
            steps.append(calc_difference(last, first, unit="%") if unit == "%" else pct_change(last, first))
    comp.steps = steps
    comp.text = _compose(plan, comp, alt)


def _change_line(step: CalcStep, years: Sequence[int]) -> str:
    word = "up" if step.result >= 0 else "down"
    size = f"{abs(step.result):.1f} percentage points" if step.op == "difference" else f"{abs(step.result):.1f}%"
    return f"Change from FY{years[0]} to FY{years[-1]}: {word} {size}."


def _years(years: Sequence[int]) -> str:
    names = [f"FY{y}" for y in years]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _label_note(f: Found) -> str:
    label = f.label.split(":")[-1].strip()
    if not label or re.search(r"\d", label) or label.lower() == ITEMS[f.item].name.lower() or len(label) > 60:
        return ""
    return f' ("{label}")'


def _compose(plan: Plan, comp: Computation, alt: int) -> str:
    """Result, formula in words, and each input with its citation. Every figure in this text is on
    a cited page or is a logged calculation, so the grounding check can verify all of it."""
    who = _possessive(comp.company)
    cites = "".join(f"[{c}]" for c in dict.fromkeys(f.citation for f in comp.found.values()))
    lines: list[str] = []
    y = plan.years[-1]
    if plan.metrics:
        m = plan.metrics[alt]
        dec = plan.decimals if plan.decimals is not None else m.decimals
        res = format_result(comp.final or 0.0, m.unit, dec, plan.answer_scale)
        if plan.average and len(plan.years) > 1:
            per = "; ".join(f"FY{yy}: {format_result(comp.results[yy], m.unit, dec)}" for yy in plan.years)
            lines.append(f"{who} average {m.name} over {_years(plan.years)} was {res} {cites}.")
            lines.append(f"Per year: {per}.")
        elif len(plan.years) > 1:
            per = " and ".join(
                f"{format_result(comp.results[yy], m.unit, dec, plan.answer_scale)} in FY{yy}"
                for yy in reversed(plan.years)
            )
            lines.append(f"{who} {m.name} was {per} {cites}.")
            lines.append(_change_line(comp.steps[-1], plan.years))
        else:
            lines.append(f"{who} {m.name} for FY{y} was {res} {cites}.")
            if m.key in ("roa", "roe"):
                pct = comp.steps[-1].result
                lines[-1] = lines[-1][:-1] + f", or {pct:.{max(1, dec - 1)}f}%."
        lines.append(f"Formula: {m.name} = {m.formula}.")
    elif plan.kind == "growth":
        item = plan.item
        assert item is not None
        dec = plan.decimals if plan.decimals is not None else 1
        cur, prev = comp.found[(item.key, y)], comp.found[(item.key, y - 1)]
        verb = "grew" if (comp.final or 0) >= 0 else "declined"
        lines.append(
            f"{who} {item.name} {verb} {abs(comp.final or 0):.{dec}f}% in FY{y}: FY{y} {item.name} was "
            f"{format_money(cur.value)} {cites}."
        )
        lines.append(f"Formula: growth = (FY{y} {item.name} - FY{y - 1} {item.name}) / FY{y - 1} {item.name}.")
        lines.append(f"FY{y - 1} {item.name}: {format_money(prev.value)} [{prev.citation}].")
        return "\n".join(lines)
    else:
        item = plan.item
        assert item is not None
        if plan.average and len(plan.years) > 1:
            res = format_money(comp.final or 0.0, plan.answer_scale)
            lines.append(f"{who} average {item.name} over {_years(plan.years)} was {res} {cites}.")
        elif len(plan.years) > 1:
            per = " and ".join(
                f"{format_money(comp.results[yy], plan.answer_scale)} in FY{yy}" for yy in reversed(plan.years)
            )
            lines.append(f"{who} {item.name} was {per} {cites}.")
            lines.append(_change_line(comp.steps[-1], plan.years))
        else:
            f = comp.found[(item.key, y)]
            shown = f"${f.value:.2f} per share" if item.per_share else format_money(f.value, plan.answer_scale)
            return f"{who} {item.name} in FY{y} was {shown}{_label_note(f)} [{f.citation}]."
    lines.append("Inputs:")
    for (key, year), f in sorted(comp.found.items(), key=lambda kv: (kv[0][1], kv[0][0]), reverse=True):
        value = f"${f.value:.2f} per share" if ITEMS[key].per_share else format_money(f.value)
        lines.append(f"- FY{year} {ITEMS[key].name}{_label_note(f)}: {value} [{f.citation}]")
    return "\n".join(lines)


def _trend(plan: Plan, finder: ItemFinder, company: str) -> tuple[Computation, Computation] | None:
    """The metric for the year before too, for "has it improved / how did it change" questions."""
    if not plan.metrics or plan.average:
        return None
    prior = Plan("metric", [plan.years[-1] - 1], plan.metrics, decimals=plan.decimals)
    comp_prior = compute(prior, finder, company)
    return (comp_prior, compute(plan, finder, company)) if comp_prior.complete else None


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
        ledger = Ledger()
        default_year = facts.default_year
        plan = facts.plan
        target = plan.years[-1] if plan else (default_year or 0)
        finder = ItemFinder(hits, ctx, scope, self.search_k, target)
        names = distinct_companies(scope.companies)
        companies = names if len(names) > 1 else [names[0] if names else ""]
        comps: list[Computation] = []
        trend: list[tuple[Computation, Computation]] = []
        trace: dict[str, Any] = {"agentic": {"plan": None, "iterations": 0}}
        if plan is not None:
            for company in companies:
                comp = compute(plan, finder, company)
                comps.append(comp)
                if (
                    comp.complete
                    and facts.needs_judgement
                    and re.search(r"(?i)improv|chang|trend|declin|increas|decreas|compare", question)
                ):
                    t = _trend(plan, finder, company)
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
            return self._deterministic(question, scope, comps, trend, finder, steps, calc_text, trace, ledger)
        return self._llm_loop(question, scope, comps, finder, steps, calc_text, trace, ledger, complete)

    def lookup(self, request: AnswerRequest) -> Answer | None:
        """A single line item for one fiscal year read from its statement row, or None. The easy
        pipeline uses it offline: a cited row beats the best-matching sentence."""
        question, hits, scope, ctx = request.question, request.hits, request.scope, request.ctx
        plan = request.facts.plan
        names = distinct_companies(scope.companies)
        if plan is None or plan.kind != "lookup" or len(plan.years) != 1 or len(names) > 1:
            return None
        finder = ItemFinder(hits, ctx, scope, self.search_k, plan.years[-1])
        comp = compute(plan, finder, names[0] if names else "")
        if not comp.complete:
            return None
        trace: dict[str, Any] = {"lookup": comp.trace()}
        return self._deterministic(question, scope, [comp], [], finder, comp.steps, comp.text, trace, Ledger())

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
    ) -> Answer:
        """No LLM (or none needed): the calculator's answer, plus quotes when judgement is asked for."""
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
        if not text or needs_judgement(question):
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
        )
        answer.citations = citations  # exact row quotes, not re-picked lines
        if offline_quotes is not None:
            # Verbatim quotes, appended after grounding: they are checked by being quotes, and their
            # bare table numbers ("1,468") would otherwise read as unscaled figures.
            quotes = [ln for ln in offline_quotes.text.split("\n") if ln.strip()]
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
