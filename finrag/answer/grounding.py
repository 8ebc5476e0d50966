"""Numeric grounding: every figure in an answer must be on a cited page or come from a logged calculation.

- `find_support(figure, page_text)`: is the figure on the page, within the rounding the answer used?
  Statements say "(In millions)" once and then print "1,577", so bare page numbers are read at the
  page's scale (inferred, or every usual scale when the page does not say). When the figure is tied
  to a fiscal year and the page row has year columns, only the cell in that year's column counts:
  a figure from the neighbouring column is on the page too, and is the commonest extraction error.
- `check_answer(answer, sources, calculations)`: per-figure verdicts and a score for the answer.

Figures are read by `finrag.finance.figures`; words are compared with `finrag.finance.words`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from typing import Any

from finrag.finance.calculator import CalcInput, CalcStep, CalculatorError, pct_change
from finrag.finance.figures import (
    PAGE_SCALES,
    Figure,
    _sentence,
    analyze_page,
    extract_figures,
    scale_from_text,
    years_in,
)
from finrag.finance.metrics import ITEMS, LineItem
from finrag.finance.plan import Plan
from finrag.finance.statements import find_in_page
from finrag.finance.words import SYNONYMS, content_words


@dataclass(slots=True)
class Match:
    """Where a figure was found: the span on the source page and the reading that matched."""

    source_key: str | None
    start: int
    end: int
    text: str
    value: float  # the page number read in base units
    scale: float
    year: int | None = None  # column (or prose) year of the page figure
    row: int | None = None  # table row id on the page, when the figure is a table cell
    col: int | None = None


@dataclass(slots=True)
class FigureCheck:
    figure: Figure
    supported: bool
    match: Match | None = None
    calc_index: int | None = None
    reason: str = ""


@dataclass(slots=True)
class GroundingReport:
    checks: list[FigureCheck] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.checks)

    @property
    def supported(self) -> int:
        return sum(c.supported for c in self.checks)

    @property
    def score(self) -> float:
        return 1.0 if not self.checks else self.supported / self.total

    @property
    def passed(self) -> bool:
        return self.supported == self.total

    @property
    def unsupported_figures(self) -> list[str]:
        """Texts for `Answer.unsupported_figures`."""
        return [c.figure.text for c in self.checks if not c.supported]

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "supported": self.supported,
            "total": self.total,
            "unsupported_figures": self.unsupported_figures,
            "checks": [asdict(c) for c in self.checks],
        }


def _agrees(words: frozenset[str], page_context: str) -> bool:
    """True when the page figure's label/sentence shares a content word with the answer's context,
    or when either side has none (nothing to disagree about). Squashed PDF labels
    ("Netcashprovidedbyoperatingactivities") are searched by substring."""
    if not words:
        return True
    page_words = content_words(page_context)
    if not page_words:
        return True
    squashed = [w for w in page_words if len(w) > 15]
    for w in words:
        for v in (w, *SYNONYMS.get(w, ())):
            if v in page_words or (len(v) >= 4 and any(v in sq for sq in squashed)):
                return True
    return False


def _readings(sf: Figure, in_row: bool, stated: Sequence[float], scale_hint: float | None) -> list[float]:
    """Scales at which a page figure may be read. Prose writes its scale ("$1.6 billion"); a bare
    prose number is what it says. Table cells are at the page's stated scale (or a hint, or any
    usual scale when the page does not say), and also as written when they have decimals
    (per-share amounts and ratios in a table "in millions, except per share amounts")."""
    if sf.scale_word:
        return [sf.scale]
    if sf.unit in ("%", "bps", "x") or (sf.unit or "").endswith("/share"):
        return [1.0]
    if not in_row:
        return [1.0, *stated] if (sf.unit and stated) else [1.0]
    scales = [scale_hint] if scale_hint else (list(stated) or [1.0, *PAGE_SCALES])
    if sf.decimals and 1.0 not in scales:
        scales.append(1.0)
    return scales


def _find(
    figure: Figure,
    source_text: str,
    scale_hint: float | None = None,
    year: int | None = None,
    *,
    context: frozenset[str] | None = None,
    exact: bool = False,
    any_unit: bool = False,
) -> tuple[Match | None, Match | None]:
    """(match, a candidate rejected only for its year column). `exact`: compare at float precision."""
    page = analyze_page(source_text)
    target = abs(figure.value)
    tol = 1e-9 * max(1.0, target) if exact else figure.tolerance() + 1e-9 * max(1.0, target)
    best: Match | None = None
    best_rank = -1
    wrong_year: Match | None = None
    bare = figure.unit is None and figure.scale_word is None and figure.scale == 1.0
    for idx, sf in enumerate(page.figures):
        if not any_unit:
            if figure.unit == "%":
                # a table prints "(0.9)" under a "% change" header: bare numbers may be percents
                if not (sf.unit == "%" or (sf.unit is None and sf.scale_word is None)):
                    continue
            elif sf.unit in ("%", "bps"):
                continue
        in_row = idx in page.row_of
        # percents are compared as printed; other figures at each plausible page scale
        pct = figure.unit == "%" and not any_unit
        readings = [1.0] if pct else _readings(sf, in_row, page.scales, scale_hint)
        if bare and 1.0 not in readings:
            readings = [*readings, 1.0]  # a cell quoted as printed ("(9,128)" from a table in millions)
        for scale in readings:
            val = abs(sf.value) if sf.scale_word else sf.number * scale
            if abs(val - target) > tol:
                continue
            if context is not None and not _agrees(context, page.contexts[idx]):
                break  # same number, different line item
            cell = page.cells.get(idx)
            src_year = cell.year if cell else sf.year
            m = Match(
                source_key=None,
                start=sf.start,
                end=sf.end,
                text=sf.text,
                value=val,
                scale=scale,
                year=src_year,
                row=page.row_of.get(idx),
                col=cell.col if cell else None,
            )
            if year is not None and ((src_year is not None and src_year != year) or (cell and cell.year is None)):
                # the neighbouring year's column, or a "% change" column of a row with year columns
                wrong_year = wrong_year or m
                break
            # prefer a cell confirmed in the right column, then a stated (not guessed) scale
            rank = (2 if (year is not None and src_year == year) else 0) + (1 if scale in page.scales else 0)
            if rank > best_rank:
                best, best_rank = m, rank
            break
    return best, wrong_year


def find_support(
    figure: Figure,
    source_text: str,
    scale_hint: float | None = None,
    *,
    year: int | None = None,
    context: str | None = None,
) -> Match | None:
    """Where `figure` appears on the page within the answer's rounding, or None.

    Table cells are read at `scale_hint`, else at the scale the page states ("(In millions)"), else
    at any of units/thousands/millions/billions; prose numbers as written or with their scale word.
    Signs are compared by magnitude (prose says "a decline of 0.6%" where a table prints "(0.6)").
    When `year` (default: `figure.year`) is given and the cell sits in a row with year columns, it
    must be that year's column. With `context` (text about the figure: "cash dividends paid"), the
    page figure's row label or sentence must share a content word with it.
    """
    words = content_words(context) if context is not None else None
    return _find(figure, source_text, scale_hint, figure.year if year is None else year, context=words)[0]


# ---------------------------------------------------------------------------------------------
# Whole answers


_CLAUSE_BREAK = re.compile(r"(?i),|\b(?:vs\.?|versus|whereas|while|but|compared)\b")


def answer_contexts(text: str, figures: Sequence[Figure], question: str = "") -> list[frozenset[str]]:
    """Per figure, the words of the answer that say what it is: its clause ("US sales increased 3.0%"
    | "vs international sales decline of 0.6%"), else its sentence, else the question."""
    out = []
    for i, f in enumerate(figures):
        s, e = _sentence(text, f.start, f.end, left=400, right=400)
        lo = max(s, figures[i - 1].end if i else 0)
        hi = min(e, figures[i + 1].start if i + 1 < len(figures) else len(text))
        breaks_left = [m.end() for m in _CLAUSE_BREAK.finditer(text, lo, f.start)]
        lo = breaks_left[-1] if breaks_left else lo
        m = _CLAUSE_BREAK.search(text, f.end, hi)
        hi = m.start() if m else hi
        words = content_words(text[lo : f.start] + " " + text[f.end : hi])
        if not words:
            words = content_words(text[s : f.start] + " " + text[f.end : e])
        if not words:
            words = content_words(question)
        out.append(words)
    return out


def _value_figure(value: float) -> Figure:
    return Figure(text=repr(value), start=0, end=0, value=value, number=abs(value), decimals=12)


def check_answer(
    answer_text: str,
    sources: Mapping[str, str],
    calculations: Sequence[CalcStep] = (),
    *,
    question: str = "",
    answer_scale: float | None = None,
    extra_context: frozenset[str] = frozenset(),
    drop_words: frozenset[str] = frozenset(),
) -> GroundingReport:
    """Check every figure of an answer against its cited pages (`sources`: citation key -> page text)
    and its logged calculations.

    A figure is supported when a cited page has it (see `find_support`) or when a calculation step
    gives it within the answer's rounding and each of that step's inputs is on its cited page (in
    the input's year column when `year` is set) or is the result of another supported step.
    `question` lends its scale ("Answer in USD millions") to bare answer figures and, when it names
    one fiscal year only, that year to figures the answer does not tie to a year.

    `extra_context` joins each figure's own words (the question's metric in the filing's words, so
    "capital expenditure" agrees with "Purchases of property, plant and equipment"); `drop_words` are
    taken out of them (the company's name, which no row label repeats).
    """
    scale = answer_scale or scale_from_text(question)
    q_years = years_in(question) if question else []
    q_year = q_years[0] if len(q_years) == 1 else None
    step_ok: dict[int, bool] = {}

    def input_supported(value: float, citation: str | None, year: int | None, depth: int) -> bool:
        fig = _value_figure(value)
        keys = [citation] if citation is not None else list(sources)
        for k in keys:
            if k in sources and _find(fig, sources[k], None, year, exact=True, any_unit=True)[0]:
                return True
        # chained: the input is the result of another supported step
        return any(
            math.isclose(abs(s.result), abs(value), rel_tol=1e-9) and supported_step(j, depth + 1)
            for j, s in enumerate(calculations)
        )

    def supported_step(i: int, depth: int = 0) -> bool:
        if depth > len(calculations):  # a cycle of steps supporting each other
            return False
        if i not in step_ok:
            step = calculations[i]
            try:
                ok = step.verify()
            except CalculatorError:
                ok = False
            step_ok[i] = ok and all(input_supported(x.value, x.citation, x.year, depth) for x in step.inputs)
        return step_ok[i]

    report = GroundingReport()
    figures = extract_figures(answer_text)
    contexts = answer_contexts(answer_text, figures, question)
    if extra_context or drop_words:
        contexts = [(c - drop_words) | extra_context for c in contexts]
    for fig, ctx in zip(figures, contexts, strict=True):
        f = fig
        if f.year is None and q_year is not None:
            f = replace(f, year=q_year)
        if scale and not f.scale_word and f.unit in (None, "USD", "EUR", "GBP"):
            f = f.rescaled(scale)
        check = FigureCheck(figure=f, supported=False)
        wrong: tuple[str, Match] | None = None
        for key, text in sources.items():
            m, w = _find(f, text, None, f.year, context=ctx)
            if m:
                m.source_key = key
                check.supported, check.match, check.reason = True, m, f"on {key}"
                break
            if w and wrong is None:
                w.source_key = key
                wrong = (key, w)
        if not check.supported and f.unit is None and not f.scale_word and 0 < f.number < 10 and f.decimals >= 2:
            # a percentage written as a ratio ("0.218" for 21.8%): read it as the percent it states
            pct = replace(f, unit="%", value=f.value * 100, number=f.number * 100, decimals=f.decimals - 2)
            for key, text in sources.items():
                m, _ = _find(pct, text, None, pct.year, context=ctx)
                if m:
                    m.source_key = key
                    check.supported, check.match, check.reason = True, m, f"on {key} (as {pct.number:g}%)"
                    break
        if not check.supported:
            for i, step in enumerate(calculations):
                if (step.unit == "%") != (f.unit == "%"):
                    continue
                if abs(abs(step.result) - abs(f.value)) <= f.tolerance() + 1e-9 * max(1.0, abs(f.value)):
                    if supported_step(i):
                        check.supported, check.calc_index = True, i
                        check.reason = f"calculation {i} ({step.op}) with supported inputs"
                        break
                    check.reason = f"calculation {i} gives it but its inputs are not on the cited pages"
        if not check.supported and not check.reason:
            if wrong:
                check.match = wrong[1]
                col = f"the {wrong[1].year} column" if wrong[1].year else "a non-year column"
                check.reason = f"on {wrong[0]} only in {col}, not {f.year}"
            else:
                check.reason = "not on the cited pages and not a logged calculation"
        report.checks.append(check)
    return report


# ---------------------------------------------------------------------------------------------
# One arithmetic step over the cited pages

DERIVE_MAX_INPUTS = 12  # page figures tried as inputs: with more, chance pairs match altered values


def derive_inputs(
    sources: Mapping[str, str], words: frozenset[str], years: Sequence[int]
) -> list[tuple[float, str, int | None]]:
    """(value in base units, row label, column year) of the cited pages' amounts whose row label or
    sentence shares a word with `words` (the question's own line items), in the columns of `years`
    when given."""
    out: list[tuple[float, str, int | None]] = []
    seen: set[tuple[float, str]] = set()
    for text in sources.values():
        page = analyze_page(text)
        for idx, sf in enumerate(page.figures):
            if sf.unit in ("%", "bps", "x") or sf.number == 0 or (sf.unit or "").endswith("/share"):
                continue
            label = " ".join(page.contexts[idx].split())
            if not (words & content_words(label)):
                continue
            cell = page.cells.get(idx)
            year = cell.year if cell is not None else sf.year
            if years and year not in years:
                continue
            scale = _readings(sf, idx in page.row_of, page.scales, None)[0]
            val = abs(sf.value) if sf.scale_word else sf.number * scale
            if (val, label) not in seen:
                seen.add((val, label))
                out.append((val, label, year))
    return out[:DERIVE_MAX_INPUTS]


def derive_figure(figure: Figure, sources: Mapping[str, str], words: frozenset[str], years: Sequence[int] = ()) -> str:
    """How `figure` follows from two amounts of the cited pages in one step, or "". Inputs are rows the
    question names (`words`), in the columns of the years it names (`years`). Over two years of one row:
    a percent change or an average. Over two rows of the one year asked: a percent share, a ratio or
    multiple, a difference or a sum. Nothing else: each further way to combine page figures is one more
    chance for an altered value to match."""
    inputs = derive_inputs(sources, words, years)
    target = abs(figure.value)
    tol = figure.tolerance() + 1e-9 * max(1.0, target)
    pct = figure.unit == "%"
    bare = figure.unit in (None, "x") and not figure.scale_word
    for i, (a, la, ya) in enumerate(inputs):
        for j, (b, lb, yb) in enumerate(inputs):
            if i == j:
                continue
            ops: list[tuple[str, float]] = []
            if la == lb and ya is not None and yb is not None and ya > yb:
                ops = [("change", 100 * (a - b) / b)] if pct else [] if bare else [("average", (a + b) / 2)]
            elif la != lb and len(years) == 1 and ya == yb == years[0]:
                if pct:
                    ops = [("share", 100 * a / b)]
                elif bare:
                    ops = [("ratio", a / b)]
                elif i < j:
                    ops = [("difference", abs(a - b)), ("sum", a + b)]
            for name, v in ops:
                if abs(abs(v) - target) <= tol:
                    return f"one step over the cited pages: {name} of {la[:40]!r} and {lb[:40]!r}"
    return ""


# ---------------------------------------------------------------------------------------------
# The question's own calculation, redone over the cited pages

_FILING_YEAR = re.compile(r"_((?:19|20)\d{2})_")


@dataclass(slots=True)
class Recomputed:
    """A figure the cited pages give by a plan's calculation: the plan's figure in one year, its
    average over the plan's years, or the change between two years."""

    value: float
    unit: str  # the plan's unit: "%", "x", "days", "USD", "USD/share"
    how: str


def _filing_year(key: str) -> int | None:
    m = _FILING_YEAR.search(key)
    return int(m.group(1)) if m else None


@lru_cache(maxsize=4096)
def page_rows(
    item: LineItem, year: int, text: str, filing_year: int | None = None, months: int | None = None
) -> tuple[tuple[float, float, str, str, float, bool], ...]:
    """`find_in_page`, remembered: one answer's plans, years and yes/no rule ask for the same rows, and
    the calculator's item finder re-reads every page it holds after each search (a pure function of
    its arguments, so the answer cannot change)."""
    return tuple(find_in_page(item, year, text, filing_year=filing_year, months=months))


def _best_value(item: LineItem, year: int, sources: Mapping[str, str], months: int | None) -> float | None:
    """The item's value in `year` from its best-scoring row over the cited pages (the product's own
    row finder, `find_in_page`), or None when no cited page prints it."""
    best: tuple[float, float] | None = None
    for key, text in sources.items():
        for cand in page_rows(item, year, text, _filing_year(key), months):
            if best is None or cand[0] > best[0]:
                best = (cand[0], cand[1])
    return best[1] if best is not None else None


def plan_value(plan: Plan, year: int, sources: Mapping[str, str], months: int | None = None) -> float | None:
    """The plan's figure for fiscal `year` computed from the cited pages alone, or None when an input
    is not printed there (the first of the metric's alternative formulas whose inputs all are)."""
    one = replace(plan, years=[year], average=False)
    for alt in range(len(plan.metrics)) if plan.metrics else range(1):
        found: dict[tuple[str, int], float] = {}
        for key, y in one.needs(alt):
            v = _best_value(ITEMS[key], y, sources, months)
            if v is None:
                break
            found[(key, y)] = v
        else:

            def get(key: str, offset: int, found: dict[tuple[str, int], float] = found) -> CalcInput:
                return CalcInput(name=f"{ITEMS[key].name} FY{year + offset}", value=found[(key, year + offset)])

            try:
                if plan.metrics:
                    return plan.metrics[alt].build(get)[-1].result
                assert plan.item is not None
                if plan.kind == "growth":
                    return pct_change(get(plan.item.key, 0), get(plan.item.key, -1)).result
                return found[(plan.item.key, year)]
            except CalculatorError:
                continue
    return None


def recompute(
    plan: Plan, sources: Mapping[str, str], years: Sequence[int] = (), months: int | None = None
) -> list[Recomputed]:
    """What the plan gives over the cited pages: its figure in each year it asks about (and in `years`,
    the years an answer ties its figures to), its average over the plan's years when it asks for one,
    and the change between two consecutive years (in points for percentages). The year before each is
    read only to state a change: its own figure is another period's, not an answer."""
    # ROA / ROE: `plan_value` gives their last step, the ratio restated in percent
    unit = "%" if plan.metrics and plan.metrics[0].percent_logged else plan.unit
    asked = sorted(set(plan.years) | set(years))
    wanted = sorted(set(asked) | {y - 1 for y in asked})
    values = {y: v for y in wanted if (v := plan_value(plan, y, sources, months)) is not None}
    name = plan.name
    out = [Recomputed(values[y], unit, f"{name} for FY{y}") for y in asked if y in values]
    if plan.average and len(plan.years) > 1 and all(y in values for y in plan.years):
        avg = sum(values[y] for y in plan.years) / len(plan.years)
        out.append(Recomputed(avg, unit, f"{name} averaged over FY{plan.years[0]}-FY{plan.years[-1]}"))
    for y in asked:
        if y in values and y - 1 in values and plan.kind != "growth":
            a, b = values[y - 1], values[y]
            out.append(Recomputed(b - a, unit, f"change in {name} from FY{y - 1} to FY{y}"))
            if unit != "%" and a:
                out.append(Recomputed(100 * (b - a) / abs(a), "%", f"{name} growth from FY{y - 1} to FY{y}"))
    return out


def matches_value(figure: Figure, value: float, unit: str) -> bool:
    """The figure states `value` (a plan's result in `unit`) within its own rounding, by magnitude (prose
    words the sign: "declined 2.2%"); a percent may be written as a ratio ("0.654" for 65.4 %) or as bare
    points, a ratio as a percent ("8.2%" for 0.082), a bare amount at any usual scale when nothing says
    its scale."""
    target = abs(figure.value)
    tol = figure.tolerance() + 1e-9 * max(1.0, target)
    v = abs(value)
    if unit == "%":
        if figure.unit == "%":
            return abs(v - target) <= tol
        if figure.unit in (None, "x") and not figure.scale_word:
            # a ratio ("0.127" for 12.7 %), or percentage points written bare ("up 0.7 points")
            return abs(v / 100 - target) <= tol or abs(v - target) <= tol
        return False
    if unit == "x" and figure.unit == "%":
        # a ratio written as a percent ("ROA of 8.2%" for 0.082)
        return abs(v * 100 - target) <= tol
    if figure.unit in ("%", "bps"):
        return False
    if unit in ("USD", "USD/share") and figure.unit in (None, "USD") and not figure.scale_word and figure.scale == 1.0:
        return any(
            abs(v - figure.number * s) <= 0.5 * 10.0 ** (-figure.significant_decimals) * s for s in (1.0, *PAGE_SCALES)
        )
    return abs(v - target) <= tol
