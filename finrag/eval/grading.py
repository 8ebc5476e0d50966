"""Grading answers against gold answers (FinanceBench format): numeric, yes/no, refusal, LLM judge.

Grades follow the FinanceBench paper: correct / incorrect / refused, plus "ungraded" for a text answer
no rule can grade and no judge was configured to grade (never counted as correct).

- numeric: the gold answer states one figure (a bare "$1577.00", "0.7%", or one short sentence with one
  figure) and the question asks for a quantity. The answer's headline figure (`headline_figure`) is
  compared with it after scale, sign, percent<->ratio and rounding normalisation, at two relative
  tolerances (1 % and 2.5 %).
- yes/no: the gold answer starts with "yes" or "no"; the answer's polarity is its first word.
- refusal: an answer saying it cannot answer is "refused", never "incorrect".
- judge: an LLM grades correct / incorrect / refused against the gold answer and its justification.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from finrag.answer.judge import Completer, judge_call, reply_json
from finrag.answer.support import is_refusal
from finrag.finance.figures import Figure, extract_figures, scale_from_text

log = logging.getLogger(__name__)

Grade = Literal["correct", "incorrect", "refused", "ungraded"]
Kind = Literal["numeric", "yes/no", "text"]
TOLERANCES: tuple[float, ...] = (0.01, 0.025)  # relative; FinanceBench studies use 2.5 %

_CITATION = re.compile(r"\[[^\[\]\n]{1,400}\]")
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+(?=[A-Z(\"“$])|\n+")
_RESULT_LINE = re.compile(r"(?im)^\s*(?:result|answer|final answer)\s*[:=]\s*(.+)$")
_WORD = re.compile(r"[A-Za-z']+")
# Questions that ask which item, who, why or what drove it, not how much: a figure in their gold answer is a
# detail, not the answer.
_NOT_QUANTITY = re.compile(
    r"(?i)\b(?:which|who|whom|whose|why|drove|driv(?:e|es|ers?|ing)|reasons?|describe|explain|"
    r"what\s+(?:are|were)\s+the|name\s+the|list)\b"
)
# Words that turn a figure's sign in prose ("declined 5%", "negative working capital of $1,561M").
_DECREASE = re.compile(
    r"(?i)\b(?:declin\w*|decreas\w*|fell|fall\w*|drop\w*|down|lower|negative|loss|deficit|shr[ai]nk\w*|shrunk|"
    r"reduc\w*|contract\w*)\b"
)
# Refusals the product's own refusal rule (support.is_refusal) does not word the same way.
_REFUSAL_EXTRA = re.compile(
    r"(?i)^\W*no\s+(?:supported\s+|usable\s+|reliable\s+)?(?:answer|information|data|evidence)\b|"
    r"\b(?:cannot|can['’]t|could\s+not|unable\s+to|not\s+able\s+to)\s+(?:be\s+)?"
    r"(?:answer\w*|determin\w*|comput\w*|calculat\w*|find|locate|tell)\b|"
    r"\b(?:insufficient|not\s+enough)\s+(?:information|data|evidence)\b|"
    r"\b(?:does|do)\s+not\s+(?:state|disclose|report|contain)\b[^.]{0,60}\b(?:filings?|sources?|pages?|documents?)\b|"
    r"\b(?:filings?|sources?|pages?|documents?)\s+(?:does|do)\s+not\s+(?:state|disclose|report|contain|include|provide)\b"
)
BARE_GOLD_WORDS = 3  # a gold answer with one figure and at most this many other words is "bare"
SHORT_GOLD_WORDS = 25  # a one-figure gold sentence longer than this is explanation, not a figure answer


@dataclass(slots=True)
class GoldFigure:
    """The figure a gold answer states, with how it was read."""

    figure: Figure
    scale_stated: bool  # the gold itself or the question states the scale ("$2,018mn", "in USD millions")
    bare: bool  # the gold answer is the figure alone


@dataclass(slots=True)
class GraderResult:
    grader: str  # "numeric", "yes/no", "refusal", "judge:<model>", "none"
    grade: Grade
    reason: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def strip_citations(text: str) -> str:
    return _CITATION.sub(" ", text)


_FOOTNOTE = re.compile(r"^\(\d\)$")  # "(1)" after a heading is a footnote marker, not minus one


def _figures(text: str) -> list[Figure]:
    return [f for f in extract_figures(text) if not _FOOTNOTE.match(f.text)]


def headline_figure(answer_text: str) -> Figure | None:
    """The figure an answer gives as its answer.

    The value of a "Result: …" / "Answer: …" line when the answer has one (a computed answer states
    its result there), else the first figure of the first sentence that has any figure — so an answer
    opening "Yes." or with a heading line before its figures still has one. Years are not figures
    (extract_figures reads "FY2022" as a year). Citation markers ("[X_10K p.12]") are removed first."""
    clean = strip_citations(answer_text)
    m = _RESULT_LINE.search(clean)
    if m:
        figures = _figures(m.group(1))
        if figures:
            return figures[0]
    for part in _SENTENCE_END.split(clean):
        figures = _figures(part)
        if figures:
            return figures[0]
    return None


def _headline_sentence(answer_text: str) -> str:
    clean = strip_citations(answer_text)
    m = _RESULT_LINE.search(clean)
    if m and _figures(m.group(1)):
        return m.group(1)
    for part in _SENTENCE_END.split(clean):
        if _figures(part):
            return part
    return ""


# "No supported answer: ...", "No information on ...": "no" as a determiner of the missing answer, not a No.
_NO_ANSWER = re.compile(
    r"(?i)^\W*no\s+(?:(?:supported|usable|reliable|clear|such|relevant)\s+)?"
    r"(?:answer|information|data|evidence|figures?|sources?)\b"
)


def yes_no(text: str) -> bool | None:
    """True for yes, False for no, None when the text does not open with either (an opening "No
    information ..." / "No supported answer" names a missing answer: it is not a No)."""
    clean = strip_citations(text)
    words = _words(clean.lower())
    if not words or _NO_ANSWER.match(clean):
        return None
    return {"yes": True, "no": False}.get(words[0])


def gold_yes_no(gold: str) -> bool | None:
    return yes_no(gold)


def gold_figure(gold: str, question: str = "") -> GoldFigure | None:
    """The one figure a gold answer gives, or None when it gives none or several (a text answer).

    A bare figure ("$1577.00", "0.7%", "$400,000,000 increase.") always counts. A short sentence with
    one figure counts unless the question asks "which / who …" (the figure then describes the answer)."""
    figures = extract_figures(gold)
    if len(figures) != 1:
        return None
    fig = figures[0]
    rest = (gold[: fig.start] + " " + gold[fig.end :]).strip()
    bare = len(_words(rest)) <= BARE_GOLD_WORDS
    if not bare and (
        len(_words(gold)) > SHORT_GOLD_WORDS or _NOT_QUANTITY.search(question) or yes_no(gold) is not None
    ):
        return None
    stated = fig.scale_word is not None
    if not stated and fig.unit in (None, "USD", "EUR", "GBP"):
        scale = scale_from_text(question)
        if scale:
            fig = fig.rescaled(scale)
            stated = True
    return GoldFigure(fig, stated or fig.unit in ("%", "x", "USD/share", "days"), bare)


def question_kind(gold: str, question: str = "") -> Kind:
    if gold_yes_no(gold) is not None:
        return "yes/no"
    if gold_figure(gold, question) is not None:
        return "numeric"
    return "text"


def is_refused(answer_text: str) -> bool:
    """The answer says it cannot answer (the product's rule, plus the other usual wordings)."""
    text = strip_citations(answer_text)
    return not text.strip() or is_refusal(text) or bool(_REFUSAL_EXTRA.search(text))


def _signed_negative(fig: Figure, sentence: str) -> tuple[bool, bool]:
    """(negative, stated by a number sign) for a figure: "-5%" / "(5)" numerically, "declined 5%" in words."""
    if fig.negative:
        return True, True
    return bool(_DECREASE.search(sentence)), False


def _answer_readings(answer: Figure, gold: Figure) -> list[float]:
    """The answer's magnitude, plus its percent <-> ratio reading when exactly one side is a percent and the
    other a bare number ("0.654" for "65.4%", "1.3%" for "0.01"); never for amounts of money."""
    v = abs(answer.value)
    if gold.unit == "%" and answer.unit in (None, "x") and not answer.scale_word:
        return [v, v * 100.0]
    if answer.unit == "%" and gold.unit in (None, "x") and not gold.scale_word:
        return [v, v / 100.0]
    return [v]


def _round_equal(answer: float, gold: Figure, gold_value: float) -> bool:
    """The answer, rounded to the gold's stated decimals (at the gold's scale), is the gold: a gold
    "0.01" accepts 0.0128; "$1577.00" states whole millions (money's trailing zeros are format), "$0.40"
    states its cents."""
    scale = gold.scale if gold.scale else 1.0
    # money's trailing zeros are format for whole amounts ("$303.00"), but under one unit the cents are
    # the figure ("$0.40" billion states 0.40, not 0.4 give or take 0.05)
    dec = gold.significant_decimals if gold.number >= 1 else gold.decimals
    return round(answer / scale, dec) == round(gold_value / scale, dec)


def compare_figures(
    answer_fig: Figure, answer_sentence: str, gold: GoldFigure, gold_text: str, tolerance: float
) -> tuple[bool, str]:
    """Whether the answer's figure is the gold figure within `tolerance` (relative), and why."""
    g_neg, g_num = _signed_negative(gold.figure, gold_text)
    a_neg, a_num = _signed_negative(answer_fig, answer_sentence)
    # A sign counts against the answer only when one side writes it as a number and the other neither
    # writes nor words it: "-5%" matches "declined 5%" but not a bare "5%".
    if (g_num and not a_neg) or (a_num and not g_neg):
        return False, f"sign differs: answer {answer_fig.text}, gold {gold.figure.text}"
    g_abs = abs(gold.figure.value)
    # A gold stating no scale ("$303.00" for a figure in millions, the question silent): any scale with the
    # same digits; the scale is then a convention of the gold, not something the answer can get wrong.
    scales = [1.0] if gold.scale_stated else [1.0, 1e3, 1e6, 1e9]
    best = math.inf
    for a in _answer_readings(answer_fig, gold.figure):
        for s in scales:
            target = g_abs * s
            if target == 0:
                err, ok = abs(a), a == 0
            else:
                err = abs(a - target) / target
                ok = err <= tolerance + 1e-12 or (s == 1.0 and _round_equal(a, gold.figure, target))
            if ok:
                return True, f"{answer_fig.text} = gold {gold.figure.text} (off {err:.2%})"
            best = min(best, err)
    return False, f"{answer_fig.text} vs gold {gold.figure.text}: off {best:.1%} (> {tolerance:.1%})"


def grade_numeric(answer_text: str, gold_text: str, question: str, tolerance: float) -> GraderResult:
    gold = gold_figure(gold_text, question)
    if gold is None:
        raise ValueError(f"the gold answer states no single figure: {gold_text[:80]!r}")
    fig = headline_figure(answer_text)
    if fig is None:
        if is_refused(answer_text):
            return GraderResult("numeric", "refused", "the answer says it cannot answer")
        return GraderResult("numeric", "incorrect", "no figure in the answer")
    q_scale = scale_from_text(question)
    if q_scale and not fig.scale_word and fig.unit in (None, "USD", "EUR", "GBP"):
        fig = fig.rescaled(q_scale)  # a bare "$1,577" answers "in USD millions" in millions
    elif not fig.scale_word and gold.figure.scale != 1.0 and fig.unit in (None, "USD", "EUR", "GBP"):
        # an answer quoting a table cell ("2022: 541") states no scale: read it at the gold's ("$541 million")
        fig = fig.rescaled(gold.figure.scale)
    ok, reason = compare_figures(fig, _headline_sentence(answer_text), gold, gold_text, tolerance)
    details = {"headline": fig.text, "gold": gold.figure.text, "tolerance": tolerance}
    if not ok and is_refused(answer_text):
        # a refusal that quotes figures ("I cannot compute X; revenue was $5M") is still a refusal
        return GraderResult("numeric", "refused", "the answer says it cannot answer", details)
    return GraderResult("numeric", "correct" if ok else "incorrect", reason, details)


def grade_yes_no(answer_text: str, gold_text: str) -> GraderResult:
    want = gold_yes_no(gold_text)
    if want is None:
        raise ValueError(f"the gold answer is not yes/no: {gold_text[:80]!r}")
    got = yes_no(answer_text)
    if got is None:
        if is_refused(answer_text):
            return GraderResult("yes/no", "refused", "the answer says it cannot answer")
        return GraderResult("yes/no", "incorrect", "the answer does not say yes or no")
    word = {True: "yes", False: "no"}
    grade: Grade = "correct" if got == want else "incorrect"
    return GraderResult("yes/no", grade, f"answer {word[got]}, gold {word[want]}", {"polarity": word[got]})


# ---------------------------------------------------------------------------------------------------------
# LLM judge of correctness

JUDGE_SYSTEM = """You grade answers to questions about financial filings against a gold answer.
Grades:
- "correct": the answer gives the gold answer's figure (allow rounding and unit conventions such as
  "$1,577M" for "$1577.00 million") or its conclusion; extra correct detail is fine.
- "incorrect": a different figure, the opposite conclusion, a different item, or text that does not answer.
- "refused": the answer says it cannot answer or lacks the information.
Reply with JSON only: {"grade": "correct" | "incorrect" | "refused", "reason": "<one sentence>"}"""


def parse_grade(text: str) -> tuple[Grade, str] | None:
    data = reply_json(text)
    grade = data.get("grade") if data is not None else None
    if grade not in ("correct", "incorrect", "refused"):
        return None
    return grade, str(data.get("reason", ""))[:300]


class AnswerJudge:
    """One call per question through the configured LLM providers (`Completer`): correct / incorrect /
    refused. None when it cannot judge (no provider answered, an unreadable reply): the question is
    then ungraded by the judge, never correct."""

    def __init__(self, llm: Completer, *, max_tokens: int = 300) -> None:
        self.llm = llm
        self.max_tokens = max_tokens
        self.model = ""

    def grade(self, question: str, answer_text: str, gold: str, justification: str = "") -> GraderResult | None:
        prompt = (
            f"QUESTION: {question}\n\nGOLD ANSWER: {gold}\n\nGOLD JUSTIFICATION: {justification or '(none)'}\n\n"
            f"ANSWER to grade:\n{answer_text}"
        )
        response = judge_call(self.llm, JUDGE_SYSTEM, prompt, [], self.max_tokens, "grading judge")
        if response is None:
            return None
        parsed = parse_grade(response.text)
        if parsed is None:
            log.warning("grading judge reply unreadable", extra={"model": response.model})
            return None
        self.model = response.model
        return GraderResult(f"judge:{response.model}", parsed[0], parsed[1], {"cost_usd": response.cost_usd})


# ---------------------------------------------------------------------------------------------------------
# One question


@dataclass(slots=True)
class QuestionGrade:
    kind: Kind
    grade: Grade  # the final grade: the rule's for numeric / yes-no, else the judge's, else ungraded
    grader: str
    reason: str
    loose_grade: Grade  # numeric at the loose tolerance (2.5 %); the same as `grade` elsewhere
    results: list[GraderResult] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "grade": self.grade,
            "grade_loose": self.loose_grade,
            "grader": self.grader,
            "reason": self.reason,
            "graders": [r.to_dict() for r in self.results],
        }


def grade_answer(
    question: str,
    answer_text: str,
    gold: str,
    justification: str = "",
    judge: AnswerJudge | None = None,
    tolerances: tuple[float, float] = (TOLERANCES[0], TOLERANCES[1]),
) -> QuestionGrade:
    """Every applicable grader on one answer; the final grade prefers the deterministic rule."""
    kind = question_kind(gold, question)
    results: list[GraderResult] = []
    loose: GraderResult | None = None
    if kind == "numeric":
        strict = grade_numeric(answer_text, gold, question, tolerances[0])
        loose = grade_numeric(answer_text, gold, question, tolerances[1])
        results.append(strict)
    elif kind == "yes/no":
        results.append(grade_yes_no(answer_text, gold))
    if judge is not None:
        verdict = judge.grade(question, answer_text, gold, justification)
        if verdict is not None:
            results.append(verdict)
    if results:
        final = results[0]
    elif is_refused(answer_text):
        final = GraderResult("refusal", "refused", "the answer says it cannot answer")
        results.append(final)
    else:
        final = GraderResult("none", "ungraded", "text answer and no judge configured")
    return QuestionGrade(
        kind=kind,
        grade=final.grade,
        grader=final.grader,
        reason=final.reason,
        loose_grade=loose.grade if loose is not None else final.grade,
        results=results,
    )
