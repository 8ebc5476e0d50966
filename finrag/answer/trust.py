"""The trust score: ONE scorer of how far an answer can be trusted, used inline (the engine's verdict and
its escalation), in online evaluation and shown by the API (`Answer.faithfulness` and the reasons).

`trust_score(question, facts, answer, cited_pages, calculations)` -> `Trust(score, reasons, checks)`.
It judges three things:

(a) every figure is supported: the numeric grounding of `finrag.answer.grounding` (on a cited page in
    the right year column, or a logged calculation with cited inputs). A figure that is not supported
    caps the score under the fallback line: the answer is not served as it is. A figure computed
    without a logged calculation is supported when the question's own calculation (its plan: a
    metric of metrics.toml, a growth rate, an average over years, the change between two years), the
    figure its yes/no rule decides on, or the metric the answer names next to the figure, redone over
    the cited pages with the product's row finder, gives it within the answer's rounding; where the
    question's calculation can be done so, a figure of its kind must be that calculation's. Otherwise
    one step over two rows the question names, or the difference or sum of two of the answer's own
    supported figures. (Searching the page for any pair that gives it matched altered figures by
    chance: measured, see docs/benchmarks.md.)
(b) the answer answers the question asked: the cited filings are the company the question names; the
    answer does not speak of another period (another year, a quarter for a year or the reverse); a
    question asking for a figure gets one whose line agrees with the question's metric; a yes/no
    question gets "Yes" or "No" (or one of the two ways a "did it increase or decrease" question
    offers), and that Yes/No agrees with what the cited figures decide (the question's judgement rule,
    `finrag.finance.judgement`, over figures recomputed from the cited pages) and with the answer's own
    explanation ("Yes, growth is expected to decelerate" to "will it accelerate?" is a contradiction).
    "Not a useful metric" is an answer where the question allows it and the cited statements print no
    row the metric needs. Excerpts (`AnswerKind.EXCERPTS`), quote dumps and evasive sentences
    are not answers and stay under the line; a refusal is not wrong but is not an answer to trust.
(c) paraphrases and unit conventions are supported: "$1,577M", "1.58 billion", "capital spending was
    $1,577 million" are read with their scale, and the question's metric (in the filing's words, from
    the glossary) tells which row a figure belongs to, so an answer need not repeat the row label.

The score starts at 1.0 and each failed check caps it (the lowest cap wins); the reasons say, in
words, what passed and what did not. Lexical support (`support.lexical_support`) only weighs answers
without figures, whose words are all there is to check."""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from finrag.answer.grounding import (
    GroundingReport,
    Recomputed,
    answer_contexts,
    check_answer,
    derive_figure,
    matches_value,
    plan_value,
    recompute,
)
from finrag.answer.support import CALC_WORDS, clean_sources, is_refusal, lexical_support
from finrag.finance.calculator import CalcStep
from finrag.finance.facts import QuestionFacts, read_question
from finrag.finance.figures import Figure, PageIndex, analyze_page, extract_figures, years_in
from finrag.finance.glossary import GlossaryRewriter
from finrag.finance.judgement import decide, evidence_rule_for, plan_for, rule_for
from finrag.finance.periods import parse_periods
from finrag.finance.plan import Plan, plan_question, stated_convention
from finrag.finance.text import CITATION
from finrag.finance.words import STATEMENT_WORDS, content_words
from finrag.records import Answer, AnswerKind

TRUSTED = 0.7  # the fallback line (AnswerSettings.faithfulness_threshold's default): under it, escalate

# Caps: where a failed check leaves the score at most. Every cap is under the fallback line: a failed
# check means escalate (or say so), never serve as trusted.
CAP_UNSUPPORTED = 0.45  # a figure not on the cited pages (scaled by the share supported)
CAP_WRONG_COMPANY = 0.2
CAP_WRONG_PERIOD = 0.3
CAP_WRONG_ROW = 0.4
CAP_NOT_ANSWERED = 0.4  # a figure asked for and none given, a yes/no not answered yes or no
CAP_WRONG_POLARITY = 0.3  # a Yes where the cited pages decide No, or the reverse
CAP_EXCERPTS = 0.5
CAP_REFUSAL = 0.3
CAP_UNCITED = 0.5

_GLOSSARY = GlossaryRewriter()
# An answer that talks about the pages instead of stating something from them.
_EVASIVE = re.compile(
    r"(?i)\b(?:the\s+)?(?:cited|attached|following|above|relevant)\s+(?:pages?|sections?|excerpts?|sources?)\b"
    r"[^.]{0,60}\b(?:discuss|describe|cover|contain|address|provide|include|detail)\w*|"
    r"\b(?:see|refer\s+to|consult)\s+(?:the\s+)?(?:pages?|filing|sections?|notes?)\b|"
    r"\bdiscuss\w*\s+(?:this|the)\s+(?:topic|matter|question)\b"
)
_YES_NO_OPENING = re.compile(r"(?i)^\W*(?:yes|no)\b")
# Words that tie an answer to a period shorter or longer than the question's.
_ANNUAL_WORDS = re.compile(r"(?i)\b(?:full[- ]year|fiscal\s+year|annual(?:ly)?|twelve\s+months|12\s+months)\b")
_INTERIM_WORDS = re.compile(
    r"(?i)\b(?:quarter(?:ly)?|three\s+months|six\s+months|nine\s+months|first\s+half|second\s+half|Q[1-4])\b"
)
_QUANTITY = re.compile(
    r"(?i)^\s*(?:what\s+(?:is|was|were|are)\s+(?:the\s+)?(?:\w+\W+){0,6}?(?:amount|total|value|ratio|margin|"
    r"percentage|rate|revenue|sales|income|expenditure|capex|cash|debt|assets|liabilities|eps|dividends?|"
    r"growth|turnover|days|cost|expenses?)\b|how\s+much\b|how\s+many\b)"
)
_NAME_SPLIT = re.compile(r"[^a-z0-9]+")
_YEAR_LABEL = re.compile(r"(?:^|(?<=[;:]))\s*(?:19|20)\d{2}\s*:")  # "; 2022:" before a quoted row's cell


@dataclass(slots=True)
class Trust:
    """A trust score in [0, 1], the reasons in words, and the checks it ran (for traces and reports)."""

    score: float
    reasons: list[str] = field(default_factory=list)
    checks: dict[str, Any] = field(default_factory=dict)
    supported: bool = False  # cites, does not refuse, every figure grounded
    unsupported_figures: list[str] = field(default_factory=list)
    failed: int = 0  # the first `failed` reasons are failed checks, the rest passed ones

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": round(self.score, 4),
            "reasons": list(self.reasons),
            "failed": self.failed,
            "supported": self.supported,
            "unsupported_figures": list(self.unsupported_figures),
            "checks": self.checks,
        }


class _Caps:
    def __init__(self) -> None:
        self.score = 1.0
        self.failed: list[str] = []
        self.passed: list[str] = []

    def cap(self, at: float, reason: str) -> None:
        self.score = min(self.score, at)
        self.failed.append(reason)

    def ok(self, reason: str) -> None:
        self.passed.append(reason)


def _doc_company(key: str) -> str:
    """The company part of a citation key ("BLUEFINFOODS_2023_10K p.11" -> "bluefinfoods")."""
    name = key.split(" p.")[0]
    # the name runs up to the year: "JOHNSON_JOHNSON_2022_10K" -> "johnsonjohnson"
    return _NAME_SPLIT.sub("", re.split(r"_(?=\d{4})", name)[0].lower())


def _squash(text: str) -> str:
    return _NAME_SPLIT.sub("", text.lower())


def _company_words(keys: Sequence[str]) -> frozenset[str]:
    """Words of the cited companies' names: no row label repeats them, so they say nothing of a figure."""
    names = [_doc_company(k) for k in keys]
    return frozenset(w for k in keys for w in content_words(k.replace("_", " ")) if w) | frozenset(
        n for n in names if n
    )


def _names_company(question: str, key: str) -> bool | None:
    """Does the question name the company of a cited filing? None when the key carries no name. A name
    in the question counts when the filing's name contains it, or it abbreviates it (its letters in
    order from the first: "JnJ" for JOHNSON_JOHNSON, "MGM" for MGMRESORTS, "AmEx")."""
    company = _doc_company(key)
    if len(company) < 2:
        return None
    if company in _squash(question):
        return True
    names = [w.lower() for w in re.findall(r"\b[A-Z][A-Za-z0-9&]*", question) if len(w) >= 3]
    words = [w for w in _NAME_SPLIT.split(question.lower()) if len(w) >= 4 and w not in _COMMON]
    if any(w in company for w in words):
        return True
    return any(w not in _COMMON and w[0] == company[0] and _subsequence(w, company) for w in names)


def _subsequence(short: str, long: str) -> bool:
    it = iter(long)
    return all(ch in it for ch in _squash(short))


# Words that occur in company names and in questions alike: they do not identify the company.
_COMMON = frozenset(
    "what which were does from that this with have their fiscal year years company companies group holdings "
    "corporation incorporated international global financial services energy foods bank total sales revenue "
    "income cash capital operating margin".split()
)


def _same_name(a: str, b: str) -> bool:
    """Two squashed names of one company: one contains the other or abbreviates it ("amd")."""
    if not a or not b:
        return False
    short, long = sorted((a, b), key=len)
    return short in long or (short[0] == long[0] and _subsequence(short, long))


def _named_on_page(question: str, page: str) -> bool:
    """A capitalised name of the question is printed on the page ("Square" in Block's filing)."""
    names = {w.strip("'’.") for w in re.findall(r"\b[A-Z][A-Za-z0-9&'’.-]{2,}", question)}
    return any(
        n.lower() not in _COMMON and not re.fullmatch(r"(?:FY|Q[1-4]).*", n) and re.search(rf"\b{re.escape(n)}\b", page)
        for n in names
    )


def _questions_company(question: str, pages: Mapping[str, str], facts_companies: Sequence[str]) -> tuple[bool, str]:
    """(right company, reason): the cited filings belong to a company the question names: the request's
    resolved companies (`facts_companies`) or the question's names match the filing's name, or a name
    of the question is printed on the cited page."""
    if not pages:
        return True, ""
    named = [_squash(c) for c in facts_companies if c]
    wrong: list[str] = []
    for k, text in pages.items():
        comp = _doc_company(k)
        if named and any(_same_name(n, comp) for n in named):
            continue
        if _names_company(question, k) is not False or _named_on_page(question, text):
            continue
        wrong.append(k.split(" p.")[0])
    if wrong and len(wrong) == len(pages):
        return False, "the cited filings are not the company the question asks about: " + ", ".join(
            dict.fromkeys(wrong)
        )
    return True, ""


def _question_company_named(question: str) -> bool:
    """Does the question name a company at all (a capitalised name other than the opening word)?"""
    words = re.findall(r"(?<![.?!]\s)(?<!^)\b[A-Z][A-Za-z0-9&'’.-]+", question)
    return any(w.lower().strip("'’.") not in _COMMON and not re.fullmatch(r"(?:FY|Q[1-4]).*", w) for w in words)


def _period_check(facts: QuestionFacts, text: str) -> str:
    """Why the answer speaks of another period than the question's, or ""."""
    if not facts.years and not facts.period:
        return ""  # (a question with a dated period names its year)
    clean = CITATION.sub(" ", text)
    # years the answer ties its figures to ("$1,577 million in 2021"), not every year it mentions
    answer_years = {f.year for f in extract_figures(clean) if f.year is not None}
    asked = set(facts.years)
    if asked and answer_years and not (answer_years & asked):
        return (
            f"the answer speaks of {', '.join(map(str, sorted(answer_years)))}, "
            f"the question asks about {', '.join(map(str, sorted(asked)))}"
        )
    interim = facts.period in ("quarter", "half", "nine_months") or parse_periods(facts.question).interim
    if interim and _ANNUAL_WORDS.search(clean) and not _INTERIM_WORDS.search(clean):
        return "the question asks about an interim period, the answer gives an annual one"
    if facts.period == "year" and _INTERIM_WORDS.search(clean) and not _ANNUAL_WORDS.search(clean):
        return "the question asks about a full year, the answer gives an interim period"
    return ""


def _flat(text: str) -> str:
    return " ".join(text.split())


def quoted_lines(text: str, pages: Mapping[str, str]) -> list[int]:
    """Indexes of the answer's lines copied verbatim from the cited pages (citation markers, bullets
    and spacing aside): quotes, whose figures are the page's own. A table row quoted with its year
    columns named ("Net sales: 2023: $ 5,648; 2022: $ 5,328" for "Net sales $ 5,648 $ 5,328") is a
    quote too."""
    flat = _flat(" ".join(pages.values()))
    out = []
    for i, raw in enumerate(text.splitlines()):
        line = _flat(CITATION.sub(" ", raw)).strip(" -•*\t")
        row = _flat(_YEAR_LABEL.sub(" ", line).replace(";", " ").replace(":", " "))
        if len(line) > 10 and (line in flat or (row != line and row in flat)):
            out.append(i)
    return out


def _quote_dump(text: str, quoted: Sequence[int]) -> bool:
    """Several lines, most of them copied verbatim from the cited pages: quotes, not an answer."""
    lines = [ln for ln in text.splitlines() if len(CITATION.sub(" ", ln).strip()) > 3]
    return len(quoted) >= 2 and len(quoted) >= (2 * len(lines) + 2) // 3


def _row_label(page: PageIndex, row: int) -> str:
    cells = [i for i in page.rows.get(row, []) if i is not None]
    return page.contexts[cells[0]] if cells else ""


def other_row(
    numeric: GroundingReport,
    pages: Mapping[str, str],
    asked: frozenset[str],
    said: Sequence[frozenset[str]],
    calculations: Sequence[CalcStep] = (),
    recomputed: frozenset[int] = frozenset(),
) -> str:
    """Why a supported figure is a cell of another row than the one asked about, or "".

    Checked for figures the answer does not name (`said`: the words of the answer's clause around each
    figure; empty for "Bluefin Foods: $570 million"), so the question says what they are: such a figure
    is from another row when its row label has a word the question does not use and another row of the
    page shares more words with the question (in the filing's wording too): "net cash used in investing
    activities" for "net cash provided by operating activities". A figure the answer names was matched
    to a row agreeing with its name by the grounding already. A figure a logged calculation gives is
    the calculation's, whatever cell happens to print the same number; so is a figure the question's
    own calculation over the cited pages gives (`recomputed`: indexes of such figures), since that
    calculation reads the asked item's row by its labels."""
    for i, (c, own) in enumerate(zip(numeric.checks, said, strict=False)):
        m = c.match
        if i in recomputed or own or not c.supported or m is None or m.row is None or m.source_key not in pages:
            continue
        tol = c.figure.tolerance() + 1e-9 * max(1.0, abs(c.figure.value))
        if any(abs(abs(step.result) - abs(c.figure.value)) <= tol for step in calculations):
            continue
        page = analyze_page(pages[m.source_key])
        words = asked
        overlap = {r: len(words & content_words(_row_label(page, r))) for r in page.rows}
        best = max(overlap.values(), default=0)
        if content_words(_row_label(page, m.row)) - words and overlap.get(m.row, 0) < best:
            top = next(r for r, n in overlap.items() if n == best)
            return (
                f'{c.figure.text} is on the row "{_row_label(page, m.row)[:60]}", the question asks about '
                f'"{_row_label(page, top)[:60]}"'
            )
    return ""


def _metric_words(question: str) -> frozenset[str]:
    """The question's words in the filing's wording too (glossary expansions): what a figure's row is about."""
    rewritten = _GLOSSARY.rewrite(question)
    expanded = content_words(" ".join(rewritten.expansions)) - STATEMENT_WORDS
    return content_words(question) | expanded


def _filing_years(keys: Sequence[str]) -> list[int]:
    return sorted({int(m.group(1)) for k in keys if (m := re.search(r"_((?:19|20)\d{2})_", k))})


def _default_year(facts: QuestionFacts, keys: Sequence[str]) -> int | None:
    """The year a question without one is about: the cited filing's (the latest, when several)."""
    if facts.years:
        return facts.years[-1]
    years = _filing_years(keys)
    return years[-1] if years else facts.default_year


def _own_plan(question: str, facts: QuestionFacts, keys: Sequence[str]) -> Plan | None:
    """The question's own calculation, in the cited filing's year when the question names none."""
    year = _default_year(facts, keys)
    return facts.plan if facts.plan is not None or year is None else plan_question(question, year)


def _plans(question: str, facts: QuestionFacts, text: str, keys: Sequence[str]) -> list[Plan]:
    """Calculations an answer's figures may come from: the question's own plan, the plan its yes/no rule
    decides on ("capital-intensive": capital expenditures / revenue), and the metrics the answer itself
    names next to its figures ("CAPEX/Revenue Ratio: 5.1%", one line or sentence at a time)."""
    year = _default_year(facts, keys)
    plans: list[Plan] = []
    own = _own_plan(question, facts, keys)
    if own is not None:
        plans.append(own)
    rule = rule_for(question) if facts.yes_no else None
    if rule is not None:
        ruled = plan_for(rule, own, year)
        if ruled is not None and ruled is not own:
            plans.append(ruled)
    for part in _CLAUSES.split(CITATION.sub(" ", text)):
        if extract_figures(part):
            named = plan_question(part, year)
            if named is not None and named.name not in {p.name for p in plans}:
                plans.append(named)
    # ROA over average or over year-end assets: both are ROA; the convention the answer states is checked
    body = CITATION.sub(" ", text)
    for plan in list(plans):
        twin = stated_convention(plan.metrics[0], body, question) if plan.metrics else None
        if twin is not None and all(twin.key != p.metrics[0].key for p in plans if p.metrics):
            plans.append(replace(plan, metrics=[twin]))
    return plans


_CLAUSES = re.compile(r"\n+|(?<=[.;])\s+(?=[A-Z])")


def _recomputed(plans: Sequence[Plan], facts: QuestionFacts, text: str, pages: Mapping[str, str]) -> list[Recomputed]:
    """Figures the plans give over the cited pages, in the years asked and the years the answer names."""
    said_years = sorted({f.year for f in extract_figures(CITATION.sub(" ", text)) if f.year is not None})
    out: list[Recomputed] = []
    for plan in plans:
        out += recompute(plan, pages, said_years, facts.months)
    return out


def yes_no_decided(
    question: str, facts: QuestionFacts, pages: Mapping[str, str], plans: Sequence[Plan]
) -> tuple[bool | None, str]:
    """(Yes / No / None, on what) as the cited pages decide a yes/no question: its rule's figure
    computed from the cited statement rows and tested as the rule says (`finrag.finance.judgement`),
    or a sentence the rule's evidence pattern finds ("lawsuits have been filed"); None when they do not
    decide it."""
    rule = rule_for(question)
    if rule is not None:
        year = _default_year(facts, list(pages))
        plan = plan_for(rule, facts.plan if facts.plan is not None else (plans[0] if plans else None), year)
        if plan is not None:
            last = plan.years[-1]
            span = (
                list(plan.years) if len(plan.years) > 1 else [last - n for n in range(max(rule.years, 2) - 1, -1, -1)]
            )
            values = {y: v for y in span if (v := plan_value(plan, y, pages, facts.months)) is not None}
            value = values.get(last)
            change: float | None = None
            if plan.kind == "growth":
                change = value
            elif len(values) >= 2 and min(values) < last and last in values:
                change = values[last] - values[min(values)]
            if rule.test == "stable":
                ordered = [values[y] for y in sorted(values)]
                value = max((abs(b - a) for a, b in itertools.pairwise(ordered)), default=None)
            if value is not None or change is not None:
                verdict = decide(rule, value, change, rule.threshold_in(question))
                if verdict is not None:
                    return verdict, f"the {plan.name} computed from the cited pages"
    evidence = evidence_rule_for(question)
    if evidence is not None and any(evidence.found.search(t) for t in pages.values()):
        return True, "a sentence of the cited pages"
    return None, ""


# "If operating margin is not a useful metric for a company like this, then state that": the question
# itself allows the answer that the metric does not apply.
_ALLOWS_NOT_APPLICABLE = re.compile(
    r"(?i)\bif\b[^?]{0,80}?\bnot\s+(?:a\s+)?(?:useful|relevant|meaningful|applicable)\b"
)
_SAYS_NOT_APPLICABLE = re.compile(
    r"(?i)\bnot\s+(?:a\s+|very\s+)?(?:useful|relevant|meaningful|applicable|measured|used|appropriate)\b|"
    r"\b(?:irrelevant|inapplicable|meaningless)\b"
)
_ALTERNATIVES = re.compile(r"(?i)\b([a-z]{4,})\s+or\s+([a-z]{4,})\b")


def _not_applicable(question: str, facts: QuestionFacts, text: str, pages: Mapping[str, str]) -> bool:
    """The answer says the asked metric does not apply, the question allows that answer, and the cited
    statements indeed print no row the metric needs (its plan cannot be computed from them): a bank's
    statements have no cost of goods sold for a gross margin. Where the pages do give the metric, saying
    it does not apply is not accepted."""
    if not (_ALLOWS_NOT_APPLICABLE.search(question) and _SAYS_NOT_APPLICABLE.search(CITATION.sub(" ", text))):
        return False
    own = _own_plan(question, facts, list(pages))
    if own is None or not pages:
        return False
    return all(plan_value(own, y, pages, facts.months) is None for y in own.years)


def _picks_alternative(question: str, text: str) -> bool:
    """ "Did it increase or decrease?" answered "increased": the question offers the two ways a figure
    can go (a change word each way joined by "or"), not yes/no, and the answer says one way."""
    offers_ways = any({_direction(a), _direction(b)} == {1, -1} for a, b in _ALTERNATIVES.findall(question))
    return offers_ways and _direction(CITATION.sub(" ", text)) is not None


def _own_arithmetic(numeric: GroundingReport) -> None:
    """A figure that is the difference or sum of two of the answer's own supported figures of its unit
    ("from 36.8% to 34.6%, a drop of 2.2%") is supported: the answer shows its arithmetic. The inputs
    are as rounded as the answer wrote them, so their rounding adds to the tolerance."""
    for c in numeric.checks:
        if c.supported:
            continue
        f = c.figure
        pct = f.unit == "%"
        same = [
            o.figure
            for o in numeric.checks
            if o.supported
            and o is not c
            and ((o.figure.unit == "%") == pct or (f.unit is None and o.figure.unit == "%"))
        ]  # a bare figure may be the points between two percents ("up 0.7 points")
        for a, b in itertools.combinations(same, 2):
            tol = f.tolerance() + a.tolerance() + b.tolerance()
            for name, v in (("difference", abs(abs(a.value) - abs(b.value))), ("sum", abs(a.value) + abs(b.value))):
                if abs(v - abs(f.value)) <= tol:
                    c.supported, c.reason = True, f"the {name} of the answer's own figures {a.text} and {b.text}"
                    break
            if c.supported:
                break


# Which way a question or an answer says a figure went: change words only (not the noun "growth",
# which "the growth decelerated" uses for a fall too); a "not" just before one turns it.
_UP = re.compile(
    r"(?i)\b(?:increas\w*|improv\w*|grow|grows|grew|grown|rose|ris(?:e|es|en|ing)|accelerat\w*|expand\w*|"
    r"higher|positive)\b"
)
_DOWN = re.compile(
    r"(?i)\b(?:decreas\w*|declin\w*|drop\w*|fell|fall\w*|shr[aiu]nk\w*|decelerat\w*|deteriorat\w*|"
    r"contract(?:ed|ing|ion)|lower|negative)\b"
)
_NEGATION = re.compile(r"(?i)\b(?:not|never|no\s+longer|neither)\b|n['’]t\b")


def _direction(text: str) -> int | None:
    """+1 when the text's change words all say up, -1 when all say down (a "not" before one turns it)."""
    ways = set()
    for rx, way in ((_UP, 1), (_DOWN, -1)):
        for m in rx.finditer(text):
            before = text[max(0, m.start() - 25) : m.start()]
            ways.add(-way if _NEGATION.search(before) else way)
    return ways.pop() if len(ways) == 1 else None


def body_polarity(question: str, body: str, ignore: frozenset[str] = frozenset()) -> bool | None:
    """Yes / No as the answer's own explanation says it, None when it does not say: a change the
    other way than the question asks ("accelerate?" - "expected to decelerate") is a No, the same way
    a Yes; the question's own words negated ("not of a high growth company") a No."""
    asked, said = _direction(question), _direction(body)
    if asked is not None and said is not None:
        return asked == said
    q_words = content_words(question) - ignore
    for m in _NEGATION.finditer(body):
        after = content_words(" ".join(body[m.end() :].split()[:4]))
        if after & q_words:
            return False
    return None


def _same_kind(figure: Figure, unit: str) -> bool:
    """A figure of the kind a calculation in `unit` gives: a percent (or bare ratio) for "%", a bare
    number for "x" / "days", an amount (with its currency or scale word) for "USD"."""
    if unit == "%":
        return figure.unit in ("%", None, "x") and not figure.scale_word
    if unit in ("x", "days"):
        return figure.unit in (None, "x", "days") and not figure.scale_word
    return figure.unit == "USD" or (figure.unit is None and figure.scale_word is not None)


def trust_score(
    question: str,
    facts: QuestionFacts | None,
    answer: Answer | str,
    cited_pages: Mapping[str, str],
    calculations: Sequence[CalcStep] = (),
    *,
    cited: bool | None = None,
    ignore_words: frozenset[str] = frozenset(),
    companies: Sequence[str] = (),
    kind: str | None = None,
) -> Trust:
    """Trust in `answer` (an `Answer`, or its text) to `question`, given its cited pages (citation key ->
    page text) and logged calculations. `facts`: the question read once (read here when None);
    `companies`: the companies the request's scope resolved (else the question's names are used);
    `kind`: the answer's kind when `answer` is text (online evaluation keeps it with the sample)."""
    facts = facts or read_question(question)
    text = answer.text if isinstance(answer, Answer) else answer
    if kind is None:
        kind = answer.kind if isinstance(answer, Answer) else AnswerKind.TEXT
    kind = AnswerKind(kind) if kind in AnswerKind._value2member_map_ else AnswerKind.TEXT
    if cited is None:
        cited = bool(answer.citations) if isinstance(answer, Answer) else bool(cited_pages)
    if not companies and isinstance(answer, Answer):
        companies = answer.scope.companies
    pages = clean_sources(cited_pages)
    caps = _Caps()
    checks: dict[str, Any] = {"kind": str(kind)}

    # (c) + (a): figures, read with their scale, against the cited pages and the question's metric
    keys = list(pages)
    name_words = _company_words(keys) | frozenset(w for c in companies for w in content_words(c))
    q_words = _metric_words(question) - name_words
    # figures of lines quoted verbatim are the page's own: only the answer's own words are checked
    quoted = quoted_lines(text, pages)
    own = "\n".join("" if i in quoted else ln for i, ln in enumerate(text.splitlines()))
    checks["quoted_lines"] = len(quoted)
    lines = text.splitlines()
    quoted_figures = sum(len(extract_figures(CITATION.sub(" ", lines[i]))) for i in quoted)
    numeric: GroundingReport = check_answer(
        CITATION.sub("[]", own),  # markers carry no claim; "[]" keeps a year on the next line apart
        pages,
        calculations,
        question=question,
        extra_context=q_words,
        drop_words=name_words,
    )
    # (c) a computed figure without a logged calculation: the question's own calculation (or the metric
    # the answer names) redone over the cited pages gives it; else one step over two rows the question names
    plans = _plans(question, facts, own, keys)
    recomputed: set[int] = set()
    computable_unit: str | None = None  # the unit of the question's own calculation, when the pages give it
    if numeric.total:
        derived = _recomputed(plans, facts, own, pages)
        own_plan = _own_plan(question, facts, keys)
        if own_plan is not None and any(d.how.startswith(own_plan.name) for d in derived):
            computable_unit = own_plan.unit
        for i, c in enumerate(numeric.checks):
            hit = next((d for d in derived if matches_value(c.figure, d.value, d.unit)), None)
            if hit is None:
                continue
            recomputed.add(i)
            if not c.supported:
                c.supported, c.reason = True, f"computed from the cited pages: {hit.how}"
    specific = (content_words(question) - STATEMENT_WORDS - name_words) | (q_words - content_words(question))
    for c in numeric.checks:
        # where the question's own calculation can be done over the cited pages, a figure of its kind must
        # be that calculation's: another one-step combination (cost of sales over year-end inventory for
        # an inventory turnover) is the usual mistake, not a second way to the answer
        if computable_unit is not None and _same_kind(c.figure, computable_unit):
            continue
        if not c.supported and c.match is None and c.calc_index is None:
            # a dated question ("as of May 26, 2023") names its year by the date
            how = derive_figure(c.figure, pages, specific, facts.years or tuple(years_in(question)))
            if how:
                c.supported, c.reason = True, how
    _own_arithmetic(numeric)
    checks["numeric"] = {
        "supported": numeric.supported,
        "total": numeric.total,
        "figures": [{"figure": c.figure.text, "supported": c.supported, "reason": c.reason} for c in numeric.checks],
    }
    refusal = kind == AnswerKind.REFUSAL or (is_refusal(text) and numeric.total == 0)
    checks["refusal"] = refusal
    if not text.strip():
        caps.cap(0.0, "no answer")
    elif refusal:
        caps.cap(CAP_REFUSAL, "a refusal: not wrong, but not an answer to trust")
    if numeric.total:
        if numeric.passed:
            where = "a logged calculation" if any(c.calc_index is not None for c in numeric.checks) else None
            if recomputed and any(c.match is None and c.calc_index is None for c in numeric.checks):
                where = "a calculation over the cited pages" + (" or a logged one" if where else "")
            caps.ok(
                "every figure found on the cited pages"
                + (" or in " + where if where else "")
                + (f" ({numeric.total} figures)" if numeric.total > 1 else "")
            )
        else:
            bad = numeric.unsupported_figures
            caps.cap(
                CAP_UNSUPPORTED * numeric.score,
                "figures not on the cited pages: "
                + ", ".join(f"{c.figure.text} ({c.reason})" for c in numeric.checks if not c.supported)[:300],
            )
            checks["unsupported_figures"] = bad

    # (b) right row: the figure is in the row the question names, not a neighbouring line item
    grounded = CITATION.sub("[]", own)
    firms = [_doc_company(k) for k in keys]
    said = [
        frozenset(w for w in ws - name_words if not any(w in f for f in firms))  # "Northwind Robotics:"
        for ws in answer_contexts(grounded, extract_figures(grounded))
    ]
    wrong_row = other_row(numeric, pages, q_words, said, calculations, frozenset(recomputed)) if numeric.total else ""
    if wrong_row:
        caps.cap(CAP_WRONG_ROW, wrong_row)

    # (b) right company
    right_company, why = _questions_company(question, pages, companies)
    if not right_company and (companies or _question_company_named(question)):
        caps.cap(CAP_WRONG_COMPANY, why)
    elif keys and (companies or _question_company_named(question)):
        caps.ok("the cited filings are the company asked about")

    # (b) right period
    wrong_period = _period_check(facts, text) if not refusal else ""
    year_misses = [c for c in numeric.checks if not c.supported and c.match is not None and c.match.year]
    if wrong_period:
        caps.cap(CAP_WRONG_PERIOD, wrong_period)
    elif year_misses:
        caps.cap(CAP_WRONG_PERIOD, "a figure is from another year's column than the question's")
    elif facts.years or facts.period:
        caps.ok("period matches the question")

    # (b) an answer, not quotes or words about the pages
    if kind == AnswerKind.EXCERPTS:
        caps.cap(CAP_EXCERPTS, "excerpts, not a computed answer")
    elif not refusal and _quote_dump(text, quoted):
        caps.cap(CAP_EXCERPTS, "lines quoted from the pages, not an answer")
    if not refusal and _EVASIVE.search(CITATION.sub(" ", text)) and numeric.total == 0:
        caps.cap(CAP_NOT_ANSWERED, "talks about the pages instead of answering")
    asks_figure = (facts.plan is not None or bool(_QUANTITY.search(question))) and not facts.yes_no
    asks_figure = asks_figure and not facts.needs_reading
    decided_by_pages = False  # the answer's claim was checked against what the cited pages decide
    not_applicable = not refusal and _not_applicable(question, facts, text, pages)
    if not_applicable:
        caps.ok("the question allows 'not a useful metric' and the cited statements print no row it needs")
    if facts.yes_no and not refusal and not not_applicable:
        opening = _YES_NO_OPENING.match(CITATION.sub(" ", text))
        if opening:
            said_yes = opening.group(0).strip(" \t\n*_\"'").lower().startswith("y")
            decided, on = yes_no_decided(question, facts, pages, plans)
            body = CITATION.sub(" ", text)[opening.end() :]
            says = body_polarity(question, body, name_words)
            if says is not None and says != said_yes:
                caps.cap(
                    CAP_WRONG_POLARITY,
                    f"it opens {'Yes' if said_yes else 'No'} but its own explanation says the opposite",
                )
            if decided is None:
                caps.ok("a yes/no question answered yes or no")
            elif decided != said_yes:
                caps.cap(
                    CAP_WRONG_POLARITY,
                    f"the answer says {'Yes' if said_yes else 'No'}, {on} says {'Yes' if decided else 'No'}",
                )
            else:
                decided_by_pages = True
                caps.ok(f"its {'Yes' if said_yes else 'No'} agrees with {on}")
        elif _picks_alternative(question, text):
            caps.ok("the question offers two alternatives and the answer picks one")
        else:
            caps.cap(CAP_NOT_ANSWERED, "a yes/no question not answered yes or no")
    elif asks_figure and not refusal:
        if numeric.total == 0 and not quoted_figures:
            caps.cap(CAP_NOT_ANSWERED, "the question asks for a figure and the answer gives none")
        elif numeric.passed:
            caps.ok("the figure answers the metric asked")

    # figures-free answers: their words are what can be checked
    if numeric.total == 0 and not refusal and text.strip() and not (decided_by_pages or not_applicable):
        lex = lexical_support(text, pages, ignore=ignore_words | CALC_WORDS)
        checks["lexical"] = round(lex.score, 4)
        if lex.sentences and lex.score < 1.0:
            caps.cap(0.6 + 0.4 * lex.score, f"{lex.score:.0%} of its sentences' words are on the cited pages")
        if kind == AnswerKind.TEXT and not extract_figures(text) and lex.score >= 0.6:
            caps.ok("its sentences are worded from the cited pages")
    if quoted and not _quote_dump(text, quoted):
        caps.ok(f"{len(quoted)} line{'s' if len(quoted) > 1 else ''} quoted verbatim from the cited pages")
    if not cited:
        caps.cap(CAP_UNCITED, "cites no source")

    supported = bool(cited) and not refusal and numeric.passed and bool(text.strip())
    score = round(max(0.0, min(1.0, caps.score)), 4)
    return Trust(
        score=score,
        reasons=caps.failed + caps.passed,
        failed=len(caps.failed),
        checks=checks,
        supported=supported,
        unsupported_figures=numeric.unsupported_figures,
    )
