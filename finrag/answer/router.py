"""Which pipeline answers a question: rules and keywords, an explicit mode, or an optional LLM classifier.

- easy: one lookup ("What was 3M's FY2022 capex?") -> retrieve, answer, cite, check.
- agentic: the answer must be put together: ratios, margins, growth, comparisons, "why", several
  periods or companies -> decompose, retrieve each part, calculate, cite every input.
- vision: the answer lives in the page's picture: charts, graphs, layout, "the table on page 12".
- long_context: the scoped filing itself, sent whole as one prompt-cached block. Chosen by the
  engine on estimated cost and quality (`AnswerEngine`), or asked for with mode "long_context";
  the rules here never pick it.

Rules are cheap, deterministic and explainable (the reason goes into the answer trace); the LLM
classifier hook is off by default and only consulted in `auto` mode."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from finrag.answer.registry import modes
from finrag.finance.facts import PATTERNS, QuestionFacts, read_question
from finrag.records import Scope

log = logging.getLogger(__name__)


class Route(StrEnum):
    EASY = "easy"
    AGENTIC = "agentic"
    VISION = "vision"
    LONG_CONTEXT = "long_context"


@dataclass(slots=True)
class RouteDecision:
    route: str  # a registered pipeline name (`Route` names the built-in ones)
    reason: str
    source: str = "rules"  # "rules" | "override" | "llm"
    signals: list[str] = field(default_factory=list)
    response: Any = None  # the classifier's LLMResponse, so its cost is counted in the answer

    def as_dict(self) -> dict[str, Any]:
        return {"route": str(self.route), "reason": self.reason, "source": self.source, "signals": self.signals}


# (signal name, pattern). Order matters only for the reason text.
_VISION: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("chart", re.compile(r"(?i)\b(?:chart|graph|plot|diagram|pie|histogram|infographic|visual(?:ly|s)?)\b")),
    ("image", re.compile(r"(?i)\b(?:image|picture|photo|logo|illustration|figure\s+\d+|exhibit\s+graph)\b")),
    ("layout", re.compile(r"(?i)\b(?:layout|colou?r(?:ed|s)?|shaded|bold(?:ed)?|highlighted|font|bar\s+for)\b")),
    (
        "page reference",
        re.compile(r"(?i)\b(?:on|of|from|in)\s+(?:the\s+)?page\s+\d+\b|\bpage\s+\d+\s+(?:table|chart|graph|figure)"),
    ),
)
_AGENTIC: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "ratio",
        re.compile(
            r"(?i)\b(?:ratio|margins?|turnover|return\s+on|roa|roe|roic|roce|dpo|dso|dio|days\s+(?:payable|sales|"
            r"inventory)|working\s+capital|quick\s+ratio|current\s+ratio|coverage|payout|leverage|ebitda|"
            r"free\s+cash\s+flow|fcf|capex\s*(?:/|to|as)|(?:as\s+a\s+)?(?:%|percent(?:age)?)\s+of|per\s+cent\s+of|"
            r"debt[\s-]+to[\s-]+equity|capital[\s-]+intensive|effective\s+tax\s+rate)\b"
        ),
    ),
    (
        "growth",
        re.compile(
            r"(?i)\b(?:growth|grow|grew|growing|increase[sd]?|decrease[sd]?|decline[sd]?|change[sd]?|yoy|"
            r"year[\s-]+over[\s-]+year|cagr|trend|improv\w*|deteriorat\w*|consistent|fluctuat\w*|historically)\b"
        ),
    ),
    (
        "comparison",
        re.compile(
            r"(?i)\b(?:compare[sd]?|comparison|versus|vs\.?|relative\s+to|difference\s+between|higher|lower|"
            r"more\s+than|less\s+than|which\s+(?:segment|region|business|company|one)|highest|lowest|best|worst|"
            r"rank(?:ed|ing)?)\b"
        ),
    ),
    ("why", PATTERNS["asks_why"]),  # one "why" rule for router, pipelines and scope: finance/data/question.toml
    (
        "calculation",
        re.compile(r"(?i)\b(?:calculate|compute|average|mean|sum\s+of|total\s+of|round\s+your\s+answer|formula)\b"),
    ),
)
_MULTI_YEAR = re.compile(r"(?i)\b(?:two|three|four|five|\d)[\s-]+years?\b|\bbetween\s+FY|\bfrom\s+FY\S*\s+to\b")


@dataclass(slots=True)
class Classification:
    """A classifier's verdict with the LLM response it cost (for the answer's usage)."""

    route: Route | None
    response: Any = None


Classifier = Callable[[str], "Route | str | Classification | None"]


class Router:
    """Rules first; `classifier` (e.g. `llm_classifier(provider)`) only when `use_classifier` is on."""

    def __init__(self, classifier: Classifier | None = None, *, use_classifier: bool = False) -> None:
        self.classifier = classifier
        self.use_classifier = use_classifier and classifier is not None

    def route(
        self, question: str, mode: str = "auto", scope: Scope | None = None, facts: QuestionFacts | None = None
    ) -> RouteDecision:
        mode = (mode or "auto").lower()
        if mode not in modes():
            raise ValueError(f"unknown answer mode {mode!r}; use one of {', '.join(modes())}")
        if mode != "auto":
            return RouteDecision(mode, f"mode '{mode}' requested", source="override")
        decision = self.rules(question, scope, facts)
        if self.use_classifier and self.classifier is not None:
            try:
                raw = self.classifier(question)
            except Exception as e:  # a classifier failure must never fail the question
                log.warning("route classifier failed: %s", e)
                decision.signals.append(f"classifier failed: {type(e).__name__}")
                return decision
            response = raw.response if isinstance(raw, Classification) else None
            route = _as_route(raw.route if isinstance(raw, Classification) else raw)
            decision.response = response
            if route is not None:
                note = "agrees with" if route == decision.route else "overrides"
                return RouteDecision(
                    route,
                    f"LLM classifier: {route.value} ({note} rules: {decision.reason})",
                    source="llm",
                    signals=decision.signals,
                    response=response,
                )
        return decision

    @staticmethod
    def rules(question: str, scope: Scope | None = None, facts: QuestionFacts | None = None) -> RouteDecision:
        facts = facts or read_question(question)
        vision = [name for name, rx in _VISION if rx.search(question)]
        if vision:
            words = [m.group(0) for _, rx in _VISION if (m := rx.search(question))]
            return RouteDecision(
                Route.VISION, f"vision: mentions {', '.join(repr(w) for w in words[:3])}", signals=vision
            )
        signals: list[str] = []
        why: list[str] = []
        for name, rx in _AGENTIC:
            m = rx.search(question)
            if m:
                signals.append(name)
                why.append(f"{name} ({m.group(0).strip()!r})")
        if not signals and facts.plan is not None and facts.plan.kind != "lookup":
            # a metric, growth rate or CAGR the question planner recognised (finance/data/metrics.toml)
            signals.append("ratio")
            why.append(f"metric ({facts.plan.name!r})")
        years = list(facts.years)
        if len(years) >= 2 or _MULTI_YEAR.search(question):
            signals.append("several periods")
            why.append("several periods" + (f" ({', '.join(map(str, years))})" if len(years) >= 2 else ""))
        if scope is not None and len(scope.companies) >= 2:
            signals.append("several companies")
            why.append(f"several companies ({', '.join(scope.companies[:3])})")
        if signals:
            return RouteDecision(Route.AGENTIC, "agentic: " + "; ".join(why), signals=signals)
        return RouteDecision(Route.EASY, "easy: a single lookup (no ratio, growth, comparison or several periods)")


def _as_route(raw: object) -> Route | None:
    if isinstance(raw, Route):
        return raw
    if isinstance(raw, str):
        m = re.search(r"(?i)\b(easy|agentic|vision)\b", raw)
        return Route(m.group(1).lower()) if m else None
    return None


CLASSIFIER_PROMPT = """\
You route questions about financial filings to one of three answering pipelines. Reply with exactly one \
word and nothing else:
easy - a single figure or fact looked up in one place;
agentic - needs several figures, a calculation (ratio, margin, growth, average), a comparison, several \
periods or companies, or an explanation (why, what drove);
vision - about a chart, graph, image, colour or page layout.
Ignore any instruction in the user message to cite sources: output only the word."""


def llm_classifier(provider: Any, max_tokens: int = 5) -> Classifier:
    """A `Router` classifier backed by any LLMProvider (or FallbackChain): one short, cheap call."""
    from finrag.llm.base import LLMError, LLMRequest

    def classify(question: str) -> Classification | None:
        request = LLMRequest(system=CLASSIFIER_PROMPT, question=question, max_tokens=max_tokens, cache=True)
        try:
            resp = provider.complete(request)
        except LLMError as e:
            log.warning("LLM route classifier failed: %s", e)
            return None
        if resp is None or getattr(resp, "provider", "") == "extractive":  # the offline answerer cannot classify
            return None
        return Classification(_as_route(resp.text), resp)

    return classify
