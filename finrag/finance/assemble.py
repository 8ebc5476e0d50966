"""Amounts assembled from two or more sentences: a change ("by how much did X increase its credit
facility": the new amount less the old one, each in its own sentence) and a total ("the total amount it may
borrow under its credit agreements": the sum of the amount of each agreement entered into).

A sentence counts for the question's subject only when it holds every word of the subject (plurals
folded) and one money amount; sentences about the amount before the change and after it are told apart
by marker words (`data/assemble.toml`). Anything ambiguous (two old amounts, no new one, a sentence that
is both) gives no answer, never a guess."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from finrag.finance import calculator as calc
from finrag.finance.calculator import CalcInput, CalcStep
from finrag.finance.data import load
from finrag.finance.figures import Figure, extract_figures
from finrag.finance.words import content_words

_DATA = load("assemble")
_CHANGE = re.compile(_DATA["questions"]["change"], re.I)
_TOTAL = re.compile(_DATA["questions"]["total"], re.I)
_OLD = re.compile(_DATA["markers"]["old"], re.I)
_NEW = re.compile(_DATA["markers"]["new"], re.I)
_NOISE = re.compile(_DATA["markers"]["noise"], re.I)
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z(“\"])|\n\s*\n")
MIN_SUBJECT_WORDS = 2  # "its facility" alone would match too much
_WHEN = re.compile(r"(?i)\s+(?:on|as\s+of|at|in|during|effective|for)\b.*$")


@dataclass(frozen=True, slots=True)
class Stated:
    """A sentence stating an amount of the subject, and where it is."""

    citation: str
    sentence: str
    figure: Figure
    role: str  # "old" | "new"


@dataclass(slots=True)
class Assembled:
    kind: str  # "change" | "total"
    subject: str
    step: CalcStep
    used: list[Stated] = field(default_factory=list)


def _fold(word: str) -> str:
    w = word.lower().strip("'’")
    return w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w


def _words(text: str) -> set[str]:
    return {_fold(w) for w in content_words(text)} | {_fold(w) for w in re.findall(r"[A-Za-z]+", text) if len(w) > 2}


def subject_words(subject: str) -> set[str]:
    return {_fold(w) for w in content_words(_NOISE.sub(" ", subject))}


def _money(sentence: str) -> list[Figure]:
    return [f for f in extract_figures(sentence) if f.unit in ("USD", "EUR", "GBP") and abs(f.value) >= 1_000]


def stated(subject: str, pages: Sequence[tuple[str, str]], company_words: frozenset[str] = frozenset()) -> list[Stated]:
    """Sentences of `pages` (citation, text) that state one amount of `subject`, marked old or new."""
    want = subject_words(subject) - {_fold(w) for w in company_words}
    if len(want) < MIN_SUBJECT_WORDS:
        return []
    out: list[Stated] = []
    seen: set[str] = set()
    for citation, text in pages:
        for sentence in _SENTENCE.split(" ".join(text.split())):
            if not want <= _words(sentence):
                continue
            old, new = bool(_OLD.search(sentence)), bool(_NEW.search(sentence))
            if old == new:
                continue  # neither, or both: which amount it is cannot be told
            money = _money(sentence)
            if len(money) != 1:
                continue
            key = re.sub(r"[\d$,.]+", "#", sentence.lower())
            if key in seen:  # the same sentence printed twice (a cover page and an exhibit)
                continue
            seen.add(key)
            out.append(Stated(citation, sentence, money[0], "old" if old else "new"))
    return out


_FROM = re.compile(r"(?i)\bfrom\s*$")
_TO = re.compile(r"(?i)^\s*to\s*$")


def from_to(
    subject: str, pages: Sequence[tuple[str, str]], company_words: frozenset[str] = frozenset()
) -> tuple[Stated, Stated] | None:
    """One sentence stating both amounts of `subject`: "increases the commitments from $750 million to
    $1,250 million" -> (old, new); None unless exactly one such pair is stated."""
    want = subject_words(subject) - {_fold(w) for w in company_words}
    if len(want) < MIN_SUBJECT_WORDS:
        return None
    pairs: dict[tuple[float, float], tuple[Stated, Stated]] = {}
    for citation, text in pages:
        for sentence in _SENTENCE.split(" ".join(text.split())):
            if not want <= _words(sentence):
                continue
            money = _money(sentence)
            for a, b in pairwise(money):
                if _FROM.search(sentence[max(0, a.start - 8) : a.start]) and _TO.match(sentence[a.end : b.start]):
                    key = (abs(a.value), abs(b.value))
                    pairs.setdefault(key, (Stated(citation, sentence, a, "old"), Stated(citation, sentence, b, "new")))
    return next(iter(pairs.values())) if len(pairs) == 1 else None


def _input(s: Stated, name: str) -> CalcInput:
    return CalcInput(name=name, value=abs(s.figure.value), citation=s.citation)


def asks_assembly(question: str) -> bool:
    """The question asks a change or a total this module can put together (cheap: no pages read)."""
    return bool(_CHANGE.search(question) or _TOTAL.search(question))


def assemble(
    question: str, pages: Sequence[tuple[str, str]], company_words: frozenset[str] = frozenset()
) -> Assembled | None:
    """A change or a total of the question's subject from the sentences of `pages`; None when the
    question asks neither or the sentences do not decide it."""
    m = _CHANGE.search(question)
    if m is not None:
        subject = _WHEN.sub("", m.group("subject")).strip()
        pair = from_to(subject, pages, company_words)
        if pair is not None:
            old, new = pair
            step = calc.difference(_input(new, f"new {subject}"), _input(old, f"previous {subject}"), unit="USD")
            return Assembled("change", subject, step, [old, new])
        found = stated(subject, pages, company_words)
        olds = {abs(s.figure.value): s for s in found if s.role == "old"}
        news = {abs(s.figure.value): s for s in found if s.role == "new"}
        if len(olds) != 1 or len(news) != 1:
            return None
        old, new = next(iter(olds.values())), next(iter(news.values()))
        step = calc.difference(_input(new, f"new {subject}"), _input(old, f"previous {subject}"), unit="USD")
        return Assembled("change", subject, step, [old, new])
    m = _TOTAL.search(question)
    if m is not None:
        subject = _WHEN.sub("", m.group("subject")).strip()
        if not re.search(r"(?i)[a-z]{3,}s$", subject.split()[-1] if subject else ""):
            return None  # "total ... under its agreements": a sum over several; one is a lookup, not a total
        news = [s for s in stated(subject, pages, company_words) if s.role == "new"]
        if len(news) < 2:
            return None
        step = calc.total(*[_input(s, f"{subject} {i + 1}") for i, s in enumerate(news)], unit="USD")
        return Assembled("total", subject, step, news)
    return None
