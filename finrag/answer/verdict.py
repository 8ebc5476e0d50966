"""The verdict step: is a pipeline's answer good enough to serve, and what is served when none is.

`apply_trust` scores an answer with THE trust score (`finrag.answer.trust`) — the same scorer online
evaluation uses — and sets its faithfulness, supported flag, unsupported figures and reasons.
`Verdict` is typed (supported, score, unsupported figures, reasons); the engine escalates on it.
`InlineJudge` folds an optional LLM judge's score into the answer's faithfulness before the verdict.
`withhold_unsupported` is the serving policy: an answer whose figures are not on its cited pages is
never served as the answer; the reply says so, gives the figures that are supported and the pages to
read."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from finrag.answer.judge import FaithfulnessJudge, combine
from finrag.answer.ledger import Ledger
from finrag.answer.trust import Trust, trust_score
from finrag.finance.calculator import CalcStep
from finrag.finance.facts import QuestionFacts
from finrag.finance.figures import extract_figures
from finrag.finance.metrics import CALC_VOCABULARY, ITEM_NAME_WORDS
from finrag.finance.text import page_label
from finrag.records import Answer


@dataclass(frozen=True, slots=True)
class Verdict:
    supported: bool  # every figure grounded, cited, not a refusal
    score: float  # faithfulness in [0, 1]
    unsupported_figures: tuple[str, ...]
    good: bool  # supported and score >= the threshold: no escalation needed
    reasons: tuple[str, ...]  # why it is not good (empty when good)

    @classmethod
    def of(cls, answer: Answer, threshold: float) -> Verdict:
        score = answer.faithfulness if answer.faithfulness is not None else 0.0
        supported = bool(answer.supported)
        reasons: list[str] = []
        if score < threshold:
            why = list(answer.trace.get("trust", {}).get("reasons", []))[:1]
            reasons.append(f"faithfulness {score:.2f} < {threshold:.2f}" + (f" ({why[0]})" if why else ""))
        if not supported:
            reasons.append(
                "figures not on the cited pages: " + ", ".join(answer.unsupported_figures)
                if answer.unsupported_figures
                else "no supported answer"
            )
        return cls(
            supported, score, tuple(answer.unsupported_figures), supported and score >= threshold, tuple(reasons)
        )

    @property
    def rank(self) -> tuple[bool, float]:
        """Order of preference between answers: supported first, then by score."""
        return self.supported, self.score

    @property
    def why(self) -> str:
        """The first reason, as the escalation notes print it."""
        return self.reasons[0] if self.reasons else ""


CitedTexts = Callable[[Answer], Mapping[str, str]]


def logged_calculations(raw: Sequence[Mapping[str, object]]) -> list[CalcStep]:
    """The calculator steps an answer's trace logged (unreadable ones skipped)."""
    steps = []
    for c in raw:
        try:
            steps.append(CalcStep.model_validate(c))
        except ValueError:
            continue
    return steps


def score_trust(
    question: str,
    facts: QuestionFacts | None,
    answer: Answer | str,
    cited_pages: Mapping[str, str],
    calculations: Sequence[CalcStep] = (),
    *,
    cited: bool | None = None,
    kind: str | None = None,
) -> Trust:
    """The trust score with the pipelines' vocabulary allowance: metric and line-item names of logged
    calculations are the calculator's words, not claims the pages must repeat."""
    ignore = (CALC_VOCABULARY | ITEM_NAME_WORDS) if calculations else frozenset()
    return trust_score(question, facts, answer, cited_pages, calculations, cited=cited, ignore_words=ignore, kind=kind)


def apply_trust(answer: Answer, facts: QuestionFacts | None, cited_pages: Mapping[str, str]) -> Answer:
    """Score `answer` with the trust score and set what the verdict, the serving policy and the API
    read: faithfulness (the score), supported, unsupported figures, and the reasons in the trace."""
    steps = logged_calculations(answer.trace.get("calculations", []))
    t = score_trust(answer.question, facts, answer, cited_pages, steps)
    answer.faithfulness = t.score
    answer.supported = t.supported
    answer.unsupported_figures = t.unsupported_figures
    answer.trace["trust"] = t.to_dict()
    return answer


class InlineJudge:
    """With a judge configured inline: the combined faithfulness (heuristic + judge) replaces the
    heuristic one, so the verdict acts on it. Extractive answers are verbatim quotes: nothing to judge."""

    def __init__(self, judge: FaithfulnessJudge | None, weight: float) -> None:
        self.judge = judge
        self.weight = weight

    def __call__(self, question: str, answer: Answer, cited_texts: CitedTexts) -> Answer:
        if self.judge is None or not answer.text:
            return answer
        if answer.trace.get("answered_by") in (None, "extractive"):
            return answer
        verdict = self.judge.judge(question, answer.text, cited_texts(answer))
        if verdict is None:
            answer.trace["judge"] = {"skipped": "the judge gave no verdict (unavailable or unreadable reply)"}
            answer.notes.append("faithfulness judge unavailable: heuristic score only")
            return answer
        heuristic = answer.faithfulness if answer.faithfulness is not None else 0.0
        answer.faithfulness = round(combine(heuristic, verdict, self.weight), 4)
        answer.trace["judge"] = {**verdict.to_dict(), "heuristic": heuristic, "weight": self.weight}
        spent = Ledger()
        spent.add_usage(answer.usage, answer.cost_usd)
        spent.add_usage(verdict.usage, verdict.cost_usd)
        answer.usage = spent.usage.as_dict()
        answer.cost_usd = round(spent.cost_usd, 6)
        return answer


def withhold_unsupported(answer: Answer) -> Answer:
    """An answer with figures that are not on its cited pages is not served: the text says which
    figures could not be checked, which ones are supported, and the pages to read. The draft stays
    in the trace."""
    if not answer.unsupported_figures:
        return answer
    bad = set(answer.unsupported_figures)
    good = list(dict.fromkeys(f.text for f in extract_figures(answer.text) if f.text not in bad))
    pages = list(dict.fromkeys(page_label(c.doc_name, c.page) for c in answer.citations))
    parts = [
        "No supported answer: the draft gave figures that are not on the pages it cites ("
        + ", ".join(answer.unsupported_figures)
        + "), so it is not shown."
    ]
    if good:
        parts.append("Figures found on the cited pages: " + ", ".join(good) + ".")
    if pages:
        parts.append("Pages to read: " + "; ".join(f"[{p}]" for p in pages) + ".")
    answer.trace["withheld_draft"] = answer.text
    answer.text = " ".join(parts)
    answer.notes.append("answer withheld: its figures are not supported by the cited pages")
    return answer
