"""Offline extractive answerer: the best supporting sentences and table rows, each quoted verbatim
with its citation. Needs no model and no network; it is the default and the last-resort fallback."""

from __future__ import annotations

import re
from dataclasses import dataclass

from finrag.finance.calculator import CalcInput, CalcStep, pct_change
from finrag.finance.compare import (
    Member,
    Superlative,
    candidate_members,
    named_row,
    prose_members,
    ranked_members,
    read_superlative,
)
from finrag.finance.data import load
from finrag.finance.facts import PATTERNS, asks_why, question_years, read_question
from finrag.finance.figures import YEAR_TOKEN
from finrag.finance.glossary import GlossaryRewriter
from finrag.finance.judgement import EvidenceRule, evidence_rule_for, rule_for
from finrag.finance.statements import format_money
from finrag.finance.text import page_label
from finrag.finance.words import search_terms
from finrag.records import Answer, AnswerKind, Citation, Hit, Scope

# Quotes are not an answer: they say so first (the grader, the trust score and people read it).
EXCERPT_LABEL = "Excerpts from the filing (not a computed answer):"
_LLM_ADDS = "An LLM answerer (not configured) would read these pages and write the answer from them."
_LLM_ADDS_WHY = (
    "An LLM answerer (not configured) would read these pages, the discussion around their figures, and "
    "explain the causes, or say that the filing gives none."
)

# Where filings answer a kind of question (finance/data/intents.toml): section key -> prior, per intent.
_INTENTS: tuple[tuple[tuple[re.Pattern[str], ...], dict[str, float]], ...] = tuple(
    (tuple(re.compile(p, re.I) for p in raw["patterns"]), {k: float(v) for k, v in raw.get("sections", {}).items()})
    for raw in load("intents")["intent"]
)


def section_priors(question: str) -> dict[str, float]:
    """Section key -> prior (0..1) for the question's intents: where its answer is usually written."""
    out: dict[str, float] = {}
    for patterns, sections in _INTENTS:
        if any(p.search(question) for p in patterns):
            for key, prior in sections.items():
                out[key] = max(out.get(key, 0.0), prior)
    return out


_EXCERPTS = load("excerpts")
_INTENT_WORDS = frozenset(search_terms(" ".join(_EXCERPTS["intent_words"])))
_CAUSAL = re.compile(r"(?i)\b(?:" + "|".join(re.escape(c) for c in _EXCERPTS["causal_cues"]) + r")\b")
_ANAPHORA = re.compile(_EXCERPTS["anaphora"])
_SUBJECT_WEIGHT = float(_EXCERPTS["subject_weight"])
_OFF_SUBJECT = float(_EXCERPTS["off_subject"])
_CUE_BOOST = float(_EXCERPTS["cue_boost"])

_COMPARE = re.compile(_EXCERPTS["compare"], re.I)
_US = re.compile(r"\bU\.S\.(?=\W|$)|\bUS\b")  # "U.S." and "US" (not the pronoun): one word, "usa"

_SENTENCE_RE = re.compile(r"(?<=[.!?])\s+(?=[A-Z(“\"])")
_NUM_RE = re.compile(r"\(?\$?\s?\d[\d,]*(?:\.\d+)?\)?%?")
_FIGURE_QUESTION = re.compile(
    r"\bhow (?:much|many)\b|\bwhat (?:was|is|were|are) (?:the )?(?:amount|total|value)|\bamount\b|\bratio\b|"
    r"\bmargin\b|\brate\b|\$|\bin usd\b|\bmillions?\b|\bbillions?\b|\bcapex\b|\brevenue|\bincome\b|\beps\b",
    re.I,
)


@dataclass(slots=True)
class _Candidate:
    text: str  # verbatim from the page
    display: str  # what people read (a table row with its column years)
    hit: Hit
    score: float
    is_row: bool
    prints_measure: bool = False  # prints the measure the question names next to an amount: ranked first


_CELL_RE = re.compile(r"^[(\-–—$]*\d[\d,.]*%?\)?$|^[-–—]$")


def _is_row(line: str) -> bool:
    """A table row ends in numeric cells and is not a sentence ("Net sales $ 34,229 $ 35,355")."""
    words = line.split()
    return (
        len(words) >= 2
        and bool(_CELL_RE.match(words[-1]))
        and ". " not in line
        and bool(re.match(r"^[A-Za-z(]", line))
        and len(line) < 220
    )


def _units(hit: Hit) -> list[tuple[str, str, bool]]:
    """Sentences of prose (lines re-joined first: PDFs break them visually) and rows of tables."""
    out: list[tuple[str, str, bool]] = []
    header_years: list[str] = []
    prose: list[str] = []

    def flush() -> None:
        if prose:
            sentences: list[str] = []
            for s in _SENTENCE_RE.split(" ".join(prose)):
                s = s.strip()
                if sentences and _ANAPHORA.match(s):
                    sentences[-1] += " " + s  # "This represents ...": with the sentence it points back to
                else:
                    sentences.append(s)
            out.extend((s, s, False) for s in sentences if len(s) > 25)
            prose.clear()

    lines = [ln.strip() for ln in hit.chunk.text.split("\n")]
    for i, line in enumerate(lines):
        if not line:
            flush()
            continue
        years = YEAR_TOKEN.findall(line)
        wrapped = i + 1 < len(lines) and bool(re.match(r"[a-z]", lines[i + 1]))  # a sentence goes on below
        if len(years) >= 2 and len(years) == len(_NUM_RE.findall(line)):
            flush()
            header_years = years  # a column header row such as "2022 2021 2020"
        elif _is_row(line) and not wrapped:
            flush()
            out.append((line, _label_row(line, header_years), True))
        else:
            prose.append(line)
    flush()
    return out


def _side_terms(text: str) -> set[str]:
    return search_terms(_US.sub(" usa ", text))


def _sides(question: str, scope: Scope) -> list[set[str]]:
    """ "How did US sales growth compare to international sales growth": the words naming each side only
    ([{usa}, {international}]); [] when the question compares nothing or its sides differ by no word."""
    m = _COMPARE.search(question)
    if m is None:
        return []
    common = search_terms(" ".join(scope.companies)) | _INTENT_WORDS
    left, right = _side_terms(question[: m.start()]) - common, _side_terms(question[m.end() :]) - common
    sides = [left - right, right - left]
    return sides if all(sides) else []


def _label_row(row: str, years: list[str]) -> str:
    """'Net sales $ 34,229 $ 35,355' + years [2022, 2021] -> 'Net sales: 2022: $34,229; 2021: $35,355'."""
    if not years:
        return row
    first = _NUM_RE.search(row)
    if not first:
        return row
    label = row[: first.start()].strip(" $")
    values = [v.strip() for v in _NUM_RE.findall(row[first.start() :]) if v.strip()]
    if len(values) != len(years) or not label:
        return row
    return f"{label}: " + "; ".join(f"{y}: {v}" for y, v in zip(years, values, strict=True))


class ExtractiveAnswerer:
    """Answerer role without an LLM."""

    def __init__(self, max_quotes: int = 3) -> None:
        self.max_quotes = max_quotes
        self.rewriter = GlossaryRewriter()

    def answer(self, question: str, hits: list[Hit], scope: Scope) -> Answer:
        if not hits:
            return Answer(
                question=question,
                text="I could not find anything about this in the indexed filings.",
                kind=AnswerKind.REFUSAL,
                pipeline="extractive",
                scope=scope,
                faithfulness=None,
                notes=["no passages retrieved"],
            )
        best = _superlative(question, hits, scope)
        if best is not None:
            return best
        if PATTERNS["yes_no"].search(question):
            rule = evidence_rule_for(question)
            decided = _evidence(rule, hits) if rule is not None else None
            if decided is not None:
                return _yes_from(question, scope, decided)
            moved = _row_direction(question, hits, scope)
            if moved is not None:
                return moved
        # the company's own name is on every page of its filings: it says nothing about which sentence answers
        q_terms = search_terms(question) - search_terms(" ".join(scope.companies))
        x_terms = search_terms(" ".join(self.rewriter.rewrite(question).expansions)) - q_terms
        # what the question is about ("merchandise inventories"), not what it wants ("what drove the increase")
        subject = q_terms - _INTENT_WORDS
        why = asks_why(question) is not None
        wants_figure = bool(_FIGURE_QUESTION.search(question))
        years = set(YEAR_TOKEN.findall(question))
        priors = section_priors(question)
        # "the amount of the cash proceeds that ...": a sentence printing that measure next to an amount
        measure_m = PATTERNS["measure"].search(question)
        near = (
            re.compile(
                rf"(?i)\$\s?\d[^;]{{0,40}}\b{re.escape(measure_m.group(1))}\b|\b{re.escape(measure_m.group(1))}\b[^;]{{0,40}}\$\s?\d"
            )
            if measure_m
            else None
        )
        candidates: list[_Candidate] = []
        for rank, hit in enumerate(hits):
            # the section the question's intent points to (risk factors for risks, Item 1 for customers)
            prior = priors.get(str(hit.chunk.metadata.get("section_key") or ""), 0.0)
            for text, display, is_row in _units(hit):
                terms = search_terms(text)
                if not terms:
                    continue
                on_subject = len(subject & terms)
                overlap = _SUBJECT_WEIGHT * on_subject + len((q_terms - subject) & terms) + 0.5 * len(x_terms & terms)
                score = overlap / (1.0 + 0.05 * len(terms))
                if subject and not on_subject:
                    score *= _OFF_SUBJECT  # shares only "increase" or "fiscal" with the question
                if why and not is_row and _CAUSAL.search(text):
                    score *= _CUE_BOOST
                score *= 1.0 / (1.0 + 0.15 * rank)  # the retriever's order still counts
                if wants_figure and is_row:
                    score *= 1.3
                if years and any(y in text for y in years):
                    score *= 1.2
                score *= 1.0 + 0.5 * prior
                pinned = near is not None and not is_row and bool(near.search(text))
                candidates.append(_Candidate(text, display, hit, score, is_row, pinned))
        candidates.sort(key=lambda c: (not c.prints_measure, -c.score))
        chosen: list[_Candidate] = []
        # "how did A compare to B": the best sentence about each side first, then the rest by score
        sides = _sides(question, scope)
        for side, other in zip(sides, reversed(sides), strict=True):
            about = [c for c in candidates if c.score > 0 and side & _side_terms(c.text)]
            # a sentence about this side alone says more about it than one listing both
            pick = next((c for c in about if not other & _side_terms(c.text)), about[0] if about else None)
            if pick is not None and all(pick.text != o.text for o in chosen):
                chosen.append(pick)
        for c in candidates:
            if len(chosen) >= self.max_quotes:
                break
            if c.score <= 0 or any(c.text == o.text for o in chosen):
                continue
            chosen.append(c)
        if not chosen:
            return _refusal(question, scope, hits)
        if why and not any(not c.is_row and subject & search_terms(c.text) for c in chosen):
            # table rows, or sentences about something else, do not say why: quoting them is no answer
            return _refusal(
                question,
                scope,
                [c.hit for c in chosen],
                "the question asks why, and no retrieved sentence about it states a cause",
                _LLM_ADDS_WHY,
            )

        if PATTERNS["after_change"].search(question):
            changed = _changed_to(chosen)
            if changed is not None:
                return changed.answer(question, scope)
        citations = [
            Citation(
                doc_id=c.hit.chunk.doc_id,
                doc_name=str(c.hit.chunk.metadata.get("doc_name") or c.hit.chunk.doc_id),
                page=c.hit.chunk.page_start + 1,
                chunk_id=c.hit.chunk.id,
                quote=c.text,
                score=round(c.score, 4),
            )
            for c in chosen
        ]
        lines = [
            f"{c.display} [{page_label(cit.doc_name, cit.page)}]" for c, cit in zip(chosen, citations, strict=True)
        ]
        return Answer(
            question=question,
            text="\n".join([EXCERPT_LABEL, *lines]),
            kind=AnswerKind.EXCERPTS,
            citations=citations,
            pipeline="extractive",
            scope=scope,
            # Every line is a verbatim quote of its cited page, so nothing in it is unsupported.
            faithfulness=1.0,
            notes=["offline: the best matching sentences, not a computed answer"],
        )


def _doc_name(hit: Hit) -> str:
    return str(hit.chunk.metadata.get("doc_name") or hit.chunk.doc_id)


def _citation(hit: Hit, quote: str, score: float) -> Citation:
    return Citation(
        doc_id=hit.chunk.doc_id,
        doc_name=_doc_name(hit),
        page=hit.chunk.page_start + 1,
        chunk_id=hit.chunk.id,
        quote=quote,
        score=round(score, 4),
    )


def _evidence(rule: EvidenceRule, hits: list[Hit]) -> tuple[str, Hit] | None:
    """The first retrieved sentence (of the rule's sections, when the hits say theirs) that decides it."""
    labelled = any(h.chunk.metadata.get("section_key") for h in hits)
    for hit in hits:
        if labelled and rule.sections and hit.chunk.metadata.get("section_key") not in rule.sections:
            continue
        # rows too: a prose line ending in a year ("... the March 10, 2019") reads as a table row
        for text, _display, _is_row in _units(hit):
            if rule.found.search(text):
                return text, hit
    return None


def _yes_from(question: str, scope: Scope, decided: tuple[str, Hit]) -> Answer:
    sentence, hit = decided
    return Answer(
        question=question,
        text=f'Yes. The filing reports it: "{sentence}" [{page_label(_doc_name(hit), hit.chunk.page_start + 1)}]',
        kind=AnswerKind.YES_NO,
        citations=[_citation(hit, sentence, hit.score)],
        pipeline="extractive",
        scope=scope,
        faithfulness=1.0,  # the deciding sentence is quoted verbatim
        notes=["offline: decided by a sentence of the filing"],
    )


def _refusal(question: str, scope: Scope, hits: list[Hit], reason: str = "", adds: str = "") -> Answer:
    """No sentence answers the question: say so, which pages to read, and what an LLM would add."""
    pages = list(dict.fromkeys(page_label(_doc_name(h), h.chunk.page_start + 1) for h in hits[:3]))
    reason = reason or "no sentence of the retrieved pages matches the question"
    return Answer(
        question=question,
        text=f"I cannot answer this offline: {reason}. Pages to read: {', '.join(pages)}. {adds or _LLM_ADDS}",
        kind=AnswerKind.REFUSAL,
        citations=[_citation(h, h.chunk.text[:300], h.score) for h in hits[:3]],
        pipeline="extractive",
        scope=scope,
        faithfulness=None,
        notes=[f"no sentence matched the question's terms: {reason}"],
    )


def which_company(question: str, hits: list[Hit], scope: Scope) -> Answer | None:
    """The question names no company and the retrieved filings are of several: ask rather than guess."""
    if not scope.company_missing:
        return None
    first: dict[str, Hit] = {}
    for h in hits:
        first.setdefault(str(h.chunk.metadata.get("company") or ""), h)
    first.pop("", None)
    companies = list(first)
    if len(companies) < 2:
        return None
    return Answer(
        question=question,
        text="Which company do you mean? The question names none, and the filings that match it are of "
        f"{', '.join(companies[:5])}{' and others' if len(companies) > 5 else ''}. "
        "I cannot answer without guessing one of them: ask again with the company's name.",
        kind=AnswerKind.REFUSAL,
        # the best page of each candidate company, to read or to ask again about
        citations=[_citation(h, h.chunk.text[:300], h.score) for h in list(first.values())[:5]],
        pipeline="extractive",
        scope=scope,
        faithfulness=None,
        notes=["no company named in the question"],
    )


@dataclass(slots=True)
class _ChangedTo:
    """A sentence stating a change "from $A to $B": $B is the value after it."""

    after: str
    candidate: _Candidate

    def answer(self, question: str, scope: Scope) -> Answer:
        c = self.candidate
        cite = page_label(_doc_name(c.hit), c.hit.chunk.page_start + 1)
        return Answer(
            question=question,
            text=f'{self.after} [{cite}]. The filing states the change: "{c.text}" [{cite}]',
            kind=AnswerKind.FIGURE,
            citations=[_citation(c.hit, c.text, c.score)],
            pipeline="extractive",
            scope=scope,
            faithfulness=1.0,  # the figure and its sentence are quoted verbatim
            notes=["offline: the value after the change, read from a sentence stating it"],
        )


def _changed_to(chosen: list[_Candidate]) -> _ChangedTo | None:
    """The best-matching sentence that states a change from one amount to another, if any."""
    for c in chosen:
        if c.is_row:
            continue
        m = PATTERNS["from_to"].search(c.text)
        if m:
            return _ChangedTo(re.sub(r"\$\s+", "$", m.group(2)), c)
    return None


def _period(months: int | None, year: int) -> str:
    return {3: "the three months", 6: "the six months", 9: "the nine months"}.get(months or 12, "") + (
        f" of FY{year}" if months in (3, 6, 9) else f"FY{year}"
    )


def _superlative(question: str, hits: list[Hit], scope: Scope) -> Answer | None:
    """ "Which segment had the highest X in FY2022", "which region grew fastest", "among A, B and C, which
    brought in the most": the rows of the table that names X (or the candidates' rows), ranked, in the
    column of the year and period asked (a quarter's column for a quarter, never the annual one)."""
    sup = read_superlative(question, scope.companies)
    if sup is None:
        return None
    asked = question_years(question)
    months = read_question(question).months
    for hit in hits:
        fy = hit.chunk.metadata.get("fiscal_year")
        year = asked[-1] if asked else (int(fy) if fy is not None else None)
        if year is None:
            continue
        if sup.candidates:
            members = candidate_members(hit.chunk.text, sup, year, months=months)
        else:
            members = ranked_members(hit.chunk.text, sup.measure, year, months=months, growth=sup.growth)
        if not members:
            continue
        if not sup.highest:
            members.reverse()
        return _ranking_answer(question, scope, hit, sup, members, year, months)
    if not sup.candidates:
        return _prose_superlative(question, hits, scope, sup, asked, months)
    return None


def _page_runs(hits: list[Hit]) -> list[list[Hit]]:
    """Each hit alone, then runs of consecutive pages of one filing (a segment's results go on overleaf)."""
    by_doc: dict[str, dict[int, Hit]] = {}
    for h in hits:
        by_doc.setdefault(h.chunk.doc_id, {}).setdefault(h.chunk.page_start, h)
    runs: list[list[Hit]] = [[h] for h in hits]
    for pages in by_doc.values():
        run: list[Hit] = []
        for p in sorted(pages):
            if run and p != run[-1].chunk.page_start + 1:
                if len(run) > 1:
                    runs.append(run)
                run = []
            run.append(pages[p])
        if len(run) > 1:
            runs.append(run)
    return runs


def _prose_superlative(
    question: str, hits: list[Hit], scope: Scope, sup: Superlative, asked: list[int], months: int | None
) -> Answer | None:
    """No table ranks it: segment results written as prose ("Regional Operations" / "• Adjusted EBITDA of
    $1.3 billion in the current year compared to $1.2 billion"), each sentence quoted with its page."""
    best: tuple[list[Member], list[Hit], int] | None = None
    for run in _page_runs(hits):
        fy = run[0].chunk.metadata.get("fiscal_year")
        year = asked[-1] if asked else (int(fy) if fy is not None else None)
        if year is None:
            continue
        members = prose_members("\n".join(h.chunk.text for h in run), sup.measure, year, months=months)
        if sup.growth:
            members = sorted((m for m in members if m.growth is not None), key=lambda m: -(m.growth or 0.0))
        # the pages stating the most segments (a run of pages over one page of it)
        if len(members) >= 2 and (best is None or len(members) > len(best[0])):
            best = (members, run, year)
    if best is not None:
        members, run, year = best
        if not sup.highest:
            members.reverse()

        def page_of(m: Member, _run: list[Hit] = run) -> Hit:
            flat = " ".join(m.line.split())[:60]
            return next((h for h in _run if flat in " ".join(h.chunk.text.split())), _run[0])

        cites = {m.label: page_label(_doc_name(page_of(m)), page_of(m).chunk.page_start + 1) for m in members}
        win = members[0]
        period = _period(months, year)
        steps: list[CalcStep] = []
        if sup.growth:
            for m in members:
                steps.append(
                    pct_change(
                        CalcInput(name=f"{m.label} FY{year}", value=m.value, citation=cites[m.label], year=year),
                        CalcInput(
                            name=f"{m.label} FY{year - 1}", value=m.prior or 0.0, citation=cites[m.label], year=year - 1
                        ),
                    )
                )
            head = f"{win.label} had the {sup.phrase} in {period}: {steps[0].result:+.1f}% [{cites[win.label]}]."
        else:
            amount = win.printed if win.value >= 0 else f"a loss of {win.printed}"
            head = f"{win.label} had the {sup.phrase} in {period}: {amount} [{cites[win.label]}]."
        lines = [head, *(f'{m.label}: "{m.line}" [{cites[m.label]}]' for m in members)]
        answer = Answer(
            question=question,
            text="\n".join(lines),
            kind=AnswerKind.COMPARISON,
            citations=[_citation(page_of(m), m.line, page_of(m).score) for m in members],
            pipeline="extractive",
            scope=scope,
            faithfulness=1.0,  # each segment's sentence quoted verbatim, its changes logged
            notes=[f"offline: each segment's sentence naming '{sup.measure}', ranked"],
        )
        if steps:
            answer.trace["calculations"] = [s.model_dump(mode="json") for s in steps]
        return answer
    return None


def _ranking_answer(
    question: str, scope: Scope, hit: Hit, sup: Superlative, members: list[Member], year: int, months: int | None
) -> Answer:
    cite = page_label(_doc_name(hit), hit.chunk.page_start + 1)
    period = _period(months, year)
    win, others = members[0], members[1:]
    steps: list[CalcStep] = []
    lines: list[str]
    if sup.growth:
        changes = []
        for m in members:
            assert m.prior is not None
            changes.append(
                pct_change(
                    CalcInput(name=f"{m.label} FY{year}", value=m.value, citation=cite, year=year),
                    CalcInput(name=f"{m.label} FY{year - 1}", value=m.prior, citation=cite, year=year - 1),
                )
            )
        steps = changes
        # one sentence per row, its label first: each amount is checked against that row of the page
        lines = [
            f"{win.label} had the {sup.phrase} in {period}: {changes[0].result:+.1f}% [{cite}].",
            *(
                f"{m.label}: {format_money(m.value)} in {period}, {format_money(m.prior or 0.0)} in "
                f"{_period(months, year - 1)} ({c.result:+.1f}%) [{cite}]."
                for m, c in zip(members, changes, strict=True)
            ),
        ]
        how = f"offline: the rows of the table naming '{sup.measure}', ranked by the change from the year before"
    else:
        rest = "; ".join(f"{m.label} {format_money(m.value)}" for m in others)
        lines = [
            f"{win.label} had the {sup.phrase} in {period}: {format_money(win.value)} [{cite}].",
            f"The others: {rest} [{cite}].",
        ]
        how = (
            "offline: the rows the question names, ranked"
            if sup.candidates
            else f"offline: the rows of the table naming '{sup.measure}', ranked"
        )
    answer = Answer(
        question=question,
        text="\n".join(lines),
        kind=AnswerKind.COMPARISON,
        citations=[_citation(hit, "\n".join(m.line for m in members), hit.score)],
        pipeline="extractive",
        scope=scope,
        faithfulness=1.0,  # every figure is a cell of the cited table or a logged change between two
        notes=[how],
    )
    if steps:
        answer.trace["calculations"] = [s.model_dump(mode="json") for s in steps]
    return answer


def _row_direction(question: str, hits: list[Hit], scope: Scope) -> Answer | None:
    """ "Did X rise / is there a drop in X between FY2021 and FY2022": the row the question names, read in
    both years' columns of the period asked, decides it (the change is logged as a calculation). Not for
    what was expected: an outlook is not in last year's columns."""
    rule = rule_for(question)
    facts = read_question(question)
    if rule is None or not rule.directional or facts.forward:
        return None
    years = question_years(question)
    if not years:
        return None
    year, prior_year = years[-1], (years[0] if len(years) > 1 else years[-1] - 1)
    for hit in hits:
        m = named_row(hit.chunk.text, question, year, prior_year, months=facts.months)
        if m is None or m.prior is None or m.value == m.prior:
            continue
        cite = page_label(_doc_name(hit), hit.chunk.page_start + 1)
        step = pct_change(
            CalcInput(name=f"{m.label} FY{year}", value=m.value, citation=cite, year=year),
            CalcInput(name=f"{m.label} FY{prior_year}", value=m.prior, citation=cite, year=prior_year),
        )
        up = m.value > m.prior
        yes = up if rule.test == "up" else not up
        answer = Answer(
            question=question,
            text=f"{'Yes' if yes else 'No'}. {m.label} {'rose' if up else 'fell'} from {format_money(m.prior)} in "
            f"{_period(facts.months, prior_year)} to {format_money(m.value)} in {_period(facts.months, year)} "
            f"({step.result:+.1f}%) [{cite}].",
            kind=AnswerKind.YES_NO,
            citations=[_citation(hit, m.line, hit.score)],
            pipeline="extractive",
            scope=scope,
            faithfulness=1.0,  # both cells of the cited row, and their logged change
            notes=[f"offline: decided by the row '{m.label}' in both years' columns ({rule.basis})"],
        )
        answer.trace["calculations"] = [step.model_dump(mode="json")]
        return answer
    return None
