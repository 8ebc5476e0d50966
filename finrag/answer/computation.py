"""Computing a question's plan from the tenant's filings: each line item read from its statement row
in the fiscal year's column (from the retrieved pages, else a search of its own), cited, and the
metric calculated with the logged calculator. Used by the agentic pipeline (and, offline, by the
easy pipeline's single line-item lookup)."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from finrag.answer.compose import finish
from finrag.answer.context import TenantContext
from finrag.answer.grounding import page_rows
from finrag.answer.llm_answerer import Generation
from finrag.finance.assemble import asks_assembly, assemble
from finrag.finance.calculator import CalcStep, CalculatorError, pct_change
from finrag.finance.calculator import average as calc_average
from finrag.finance.calculator import cagr as calc_cagr
from finrag.finance.calculator import difference as calc_difference
from finrag.finance.companies import LEGAL_WORDS
from finrag.finance.metrics import ITEMS, LineItem
from finrag.finance.plan import Plan
from finrag.finance.scales import off_scale_years, reconcile_scales
from finrag.finance.statements import Found, format_money, format_result
from finrag.finance.text import page_label
from finrag.records import Answer, AnswerKind, Chunk, ChunkKind, Citation, Hit, Scope
from finrag.retrieve.retriever import page_key

log = logging.getLogger(__name__)


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
    months: int | None = None  # the period asked, when shorter than a year
    rescaled: list[str] = field(default_factory=list)  # inputs restated at the scale of the others

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
            "rescaled": self.rescaled,
            "result": self.final,
        }


class ItemFinder:
    """Finds line items for fiscal years on statement pages: the hits at hand first, a search of
    its own only when they do not show the row (each search is one retrieval round trip)."""

    def __init__(
        self,
        hits: Sequence[Hit],
        ctx: TenantContext,
        scope: Scope | None,
        search_k: int = 4,
        target_year: int = 0,
        months: int | None = None,
    ) -> None:
        self.ctx = ctx
        self.scope = scope
        self.search_k = search_k
        self.target_year = target_year
        self.months = months  # the period asked: columns of other periods are not read
        self.pages: dict[tuple[str, int], _Page] = {}
        self.searches: list[dict[str, Any]] = []
        self._searched: set[tuple[str, str]] = set()
        self._searched_years: set[tuple[str, str, int]] = set()
        self.add(hits)

    def add(self, hits: Sequence[Hit]) -> None:
        texts = self._read_pages(hits)
        for h in hits:
            key = page_key(h.chunk)
            if key in self.pages:
                continue
            text = texts.get(key)
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

    def _read_pages(self, hits: Sequence[Hit]) -> dict[tuple[str, int], str | None]:
        """The whole text of each new hit's page: in one round trip when the tools can (a search's hits
        are a few pages of one or two filings), else page by page."""
        keys = list(dict.fromkeys(k for h in hits if (k := page_key(h.chunk)) not in self.pages))
        if not keys or self.ctx.read_page is None:
            return {}
        if self.ctx.read_pages is not None:
            try:
                return dict(zip(keys, self.ctx.read_pages(keys), strict=True))
            except Exception as e:  # read them one by one: a page that fails alone is only that page
                log.warning("read_pages failed: %s", e)
        texts: dict[tuple[str, int], str | None] = {}
        for doc_id, page in keys:
            try:
                texts[doc_id, page] = self.ctx.read_page(doc_id, page)
            except Exception as e:  # a missing page must not sink the answer
                log.warning("read_page %s p%s failed: %s", doc_id, page, e)
                texts[doc_id, page] = None
        return texts

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
            for score, value, printed, label, scale, by_header in page_rows(
                item, year, p.hit.chunk.text, p.filing_year, self.months
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
        if (found is None or found.score < 1.25) and year < self.target_year - 1:
            # a year older than the target filing's comparative column (a CAGR's first year, a
            # three-year average): it is printed in an earlier filing, which the target-year search missed
            found = self._search_year(item, year, company) or found
        if found is None and self.months is not None:
            found = self._next_pages(item, year, company)
        return found if found is not None and found.score > 0.3 else None

    NEXT_PAGES = 3  # pages whose table shows the row for another period, whose next page is read

    def _next_pages(self, item: LineItem, year: int, company: str) -> Found | None:
        """The row is printed, but in a table of another period (a quarter where the year is asked): the
        table for the other period often continues on the next page, which retrieval ranks low because it
        repeats no title."""
        if self.ctx.read_page is None:
            return None
        other_period = [
            p
            for p in sorted(self.pages.values(), key=lambda p: p.rank)
            if (not company or not p.company or _same_company(company, p.company))
            and any(c[0] >= 0.9 for c in page_rows(item, year, p.hit.chunk.text, p.filing_year, None))
            and (p.hit.chunk.doc_id, p.hit.chunk.page_start + 1) not in self.pages
        ][: self.NEXT_PAGES]
        added = False
        for p in other_period:
            nxt = p.hit.chunk.page_start + 1
            try:
                text = self.ctx.read_page(p.hit.chunk.doc_id, nxt)
            except Exception as e:  # a missing page must not sink the answer
                log.warning("read_page %s p%s failed: %s", p.hit.chunk.doc_id, nxt, e)
                text = None
            if text:
                chunk = replace(p.hit.chunk, text=text, page_start=nxt, page_end=nxt, kind=ChunkKind.PAGE)
                self.add([Hit(chunk=chunk, score=p.hit.score, source="next page")])
                added = True
        return self.best(item, year, company) if added else None

    def _search_year(self, item: LineItem, year: int, company: str) -> Found | None:
        if self.ctx.search is None or (item.key, company, year) in self._searched_years:
            return None
        self._searched_years.add((item.key, company, year))
        # the filing of `year + 1` prints `year` as its comparative column, and is the one more often indexed
        query = " ".join(p for p in (company, item.query, f"fiscal {year + 1} {year}") if p)
        scope = Scope(companies=[company]) if company and self._multi_company() else self.scope
        if scope is not None and scope.fiscal_years:
            # the question's years name the span's ends; the filings printing `year` are of `year`/`year + 1`
            scope = scope.model_copy(update={"fiscal_years": sorted({year, year + 1})})
        try:
            hits = self.ctx.search(query, scope)[: self.search_k]
        except Exception as e:  # the search tool failing leaves us with what we have
            log.warning("agentic search failed: %s", e)
            return None
        self.searches.append({"query": query, "hits": len(hits)})
        self.add(hits)
        return self.best(item, year, company)

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
    comp = Computation(plan=plan, company=company, months=finder.months)
    alternatives = range(len(plan.metrics)) if plan.metrics else range(1)
    for alt in alternatives:
        comp.found, comp.missing, comp.rescaled = {}, [], []
        for key, year in plan.needs(alt):
            f = finder.find(ITEMS[key], year, company)
            if f is None:
                comp.missing.append((key, year))
            else:
                comp.found[(key, year)] = f
        if not comp.missing:
            _reconcile(comp)
            try:
                _run(plan, comp, alt)
            except CalculatorError as e:
                comp.missing.append(("revenue", plan.years[-1]))  # keeps `complete` false
                log.warning("calculation failed: %s", e)
                continue
            break
    return comp


def _reconcile(comp: Computation) -> None:
    """Inputs read at a scale that cannot be right (`finance.scales.reconcile_scales`) restated at the
    scale of the others, before any division; each restatement is noted in the computation's trace."""
    keys = list(comp.found)
    fixes = reconcile_scales([(k[0], comp.found[k].value, comp.found[k].scale) for k in keys])
    for i, scale in fixes.items():
        f = comp.found[keys[i]]
        comp.rescaled.append(f"{ITEMS[f.item].name} FY{f.year}: read at {f.scale:g}, restated at {scale:g}")
        comp.found[keys[i]] = replace(f, value=f.value * scale / f.scale, scale=scale)


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
            main = year_steps[0] if plan.metrics[alt].percent_logged else year_steps[-1]
            comp.results[year] = main.result
        elif plan.kind == "growth":
            s = pct_change(get(plan.item.key, 0), get(plan.item.key, -1))  # type: ignore[union-attr]
            steps.append(s)
            comp.results[year] = s.result
        else:
            comp.results[year] = get(plan.item.key, 0).value  # type: ignore[union-attr]
    if plan.kind == "cagr":
        first, last = plan.years[0], plan.years[-1]
        step = calc_cagr(comp.results[first], comp.results[last], last - first)
        steps.append(step)
        comp.final = step.result
    elif plan.average and len(plan.years) > 1:
        # per-year results are logged steps (or cited values), so the average chains back to the pages
        unit = plan.metrics[alt].unit if plan.metrics else "USD"
        _one_scale(plan, comp, unit)
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


def _one_scale(plan: Plan, comp: Computation, unit: str) -> None:
    """The years of an average must be read on one scale and in one unit (`scales.off_scale_years`): a
    year whose percent was read as a ratio is restated (x100, noted in the trace); any other year off
    the others' scale refuses the average (CalculatorError) rather than averaging a reading slip."""
    for key in dict.fromkeys(k for k, _ in comp.found):
        found = sorted((y, f) for (k, y), f in comp.found.items() if k == key)
        for i in off_scale_years([f.value for _, f in found], ratio=False):
            raise CalculatorError(f"{ITEMS[key].name} FY{found[i][0]} is not on the scale of its other years")
    years = list(plan.years)
    values = [comp.results[y] for y in years]
    off = off_scale_years(values, ratio=unit in ("%", "x", "days"))
    if not off:
        return
    fixed = list(values)
    for i in off:
        fixed[i] = values[i] * 100
    if unit == "%" and not off_scale_years(fixed, ratio=True):
        for i in off:
            comp.results[years[i]] = fixed[i]
            comp.rescaled.append(f"{plan.name} FY{years[i]}: a ratio among percentages, restated in percent")
        return
    raise CalculatorError(f"{plan.name}: FY{', FY'.join(str(years[i]) for i in off)} not on the others' scale")


def _change_line(step: CalcStep, years: Sequence[int]) -> str:
    word = "up" if step.result >= 0 else "down"
    size = f"{abs(step.result):.1f} percentage points" if step.op == "difference" else f"{abs(step.result):.1f}%"
    return f"Change from FY{years[0]} to FY{years[-1]}: {word} {size}."


_SHORT_PERIODS = {3: "the three months", 6: "the six months", 9: "the nine months"}


def _period(months: int | None, year: int, word: str) -> str:
    """ "in FY2023", or "for the nine months of FY2023" when a shorter period was asked (and read)."""
    if months in _SHORT_PERIODS:
        return f"for {_SHORT_PERIODS[months]} of FY{year}"
    return f"{word} FY{year}"


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
    if plan.kind == "cagr":
        return _compose_cagr(plan, comp, alt, who, cites)
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
            lines.append(f"{who} {m.name} {_period(comp.months, y, 'for')} was {res} {cites}.")
            if m.percent_logged:
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
            return f"{who} {item.name} {_period(comp.months, y, 'in')} was {shown}{_label_note(f)} [{f.citation}]."
    lines.append("Inputs:")
    for (key, year), f in sorted(comp.found.items(), key=lambda kv: (kv[0][1], kv[0][0]), reverse=True):
        value = f"${f.value:.2f} per share" if ITEMS[key].per_share else format_money(f.value)
        lines.append(f"- FY{year} {ITEMS[key].name}{_label_note(f)}: {value} [{f.citation}]")
    return "\n".join(lines)


def _shown(value: float, unit: str) -> str:
    return format_money(value) if unit == "USD" else format_result(value, unit, 2)


def _compose_cagr(plan: Plan, comp: Computation, alt: int, who: str, cites: str) -> str:
    first, last = plan.years[0], plan.years[-1]
    dec = plan.decimals if plan.decimals is not None else 1
    base = plan.metrics[alt].name if plan.metrics else plan.item.name if plan.item else ""
    unit = plan.metrics[alt].unit if plan.metrics else "USD/share" if plan.item and plan.item.per_share else "USD"
    lines = [
        f"{who} {base} compound annual growth rate (CAGR) from FY{first} to FY{last} was "
        f"{comp.final or 0.0:.{dec}f}% {cites}.",
        f"Formula: CAGR = (FY{last} {base} / FY{first} {base}) to the power of one over the number of years "
        f"between them, minus one.",
        f"FY{first}: {_shown(comp.results[first], unit)}; FY{last}: {_shown(comp.results[last], unit)}.",
    ]
    if plan.item is not None and not plan.metrics:
        return "\n".join(lines)
    lines.append("Inputs:")
    for (key, year), f in sorted(comp.found.items(), key=lambda kv: (kv[0][1], kv[0][0]), reverse=True):
        value = f"${f.value:.2f} per share" if ITEMS[key].per_share else format_money(f.value)
        lines.append(f"- FY{year} {ITEMS[key].name}{_label_note(f)}: {value} [{f.citation}]")
    return "\n".join(lines)


def prior_year(plan: Plan, finder: ItemFinder, company: str) -> tuple[Computation, Computation] | None:
    """The metric for the year before too, for "has it improved / how did it change" questions."""
    if not plan.metrics or plan.average:
        return None
    prior = Plan("metric", [plan.years[-1] - 1], plan.metrics, decimals=plan.decimals)
    comp_prior = compute(prior, finder, company)
    return (comp_prior, compute(plan, finder, company)) if comp_prior.complete else None


SENTENCE_PAGES = 6  # retrieved pages read for sentences: a change or total is stated near the top hits


def sentence_answer(
    question: str, hits: Sequence[Hit], scope: Scope, ctx: TenantContext, pipeline: str
) -> Answer | None:
    """A change or total put together from sentences of the retrieved pages (`finance.assemble`), as a
    logged calculation with each sentence cited; None when the question asks neither or the pages do not
    decide it."""
    if not asks_assembly(question):
        return None  # before any page is read: most questions ask no change or total
    finder = ItemFinder(list(hits)[:SENTENCE_PAGES], ctx, scope)
    labelled: list[tuple[str, str]] = []
    by_label: dict[str, Hit] = {}
    for h in finder.page_hits():
        label = page_label(finder._doc_name(h.chunk), h.chunk.page_start + 1)
        labelled.append((label, h.chunk.text))
        by_label[label] = h
    company = frozenset(w for c in scope.companies for w in _name_words(c))
    got = assemble(question, labelled, company)
    if got is None:
        return None
    name = distinct_companies(scope.companies)[0] if scope.companies else ""
    who = _possessive(name)
    if got.kind == "change":
        old, new = got.used
        change = got.step.result
        verb = "decreased" if change < 0 else "increased"  # the sentences decide, whatever the question assumed
        text = (
            f"{name or 'The company'} {verb} its {got.subject} by {format_money(abs(change))}: from "
            f"{format_money(abs(old.figure.value))} [{old.citation}] to {format_money(abs(new.figure.value))} "
            f"[{new.citation}].\nFormula: change = new amount - previous amount, each stated in its own sentence."
        )
    else:
        parts = " + ".join(f"{format_money(abs(s.figure.value))} [{s.citation}]" for s in got.used)
        text = (
            f"{who} total {got.subject}: {format_money(got.step.result)} = {parts}.\n"
            "Formula: the sum of the amount of each one entered into, each stated in its own sentence."
        )
    citations: list[Citation] = []
    sources: dict[str, str] = {}
    for s in got.used:
        h = by_label[s.citation]
        sources[s.citation] = h.chunk.text
        citations.append(
            Citation(
                doc_id=h.chunk.doc_id,
                doc_name=finder._doc_name(h.chunk),
                page=h.chunk.page_start + 1,
                chunk_id=h.chunk.id,
                quote=s.sentence[:300],
                score=round(h.score, 4),
            )
        )
    gen = Generation(
        text=text, citations=citations, unknown_citations=[], provider="calculator", model="calculator",
        sources=sources,
    )  # fmt: skip
    trace = {"assembled": {"kind": got.kind, "subject": got.subject, "sentences": [s.sentence for s in got.used]}}
    answer = finish(question, scope, gen, pipeline=pipeline, calculations=[got.step], trace=trace,
                    kind=AnswerKind.COMPUTED)  # fmt: skip
    answer.citations = citations  # the stating sentences, not re-picked lines
    answer.trace["answered_by"] = "calculator"
    return answer
