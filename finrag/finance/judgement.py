"""Deciding a yes/no question from a computed figure: the rules are data (`data/judgements.toml`).

A rule names what the question may be decided on (a metric, an item's growth, an item) and the test
(a threshold, a sign, a direction). `decide` says Yes/No only for a figure that was computed; a
question no rule covers, or whose figure is missing, is left undecided (excerpts or a refusal)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from finrag.finance.data import load
from finrag.finance.metrics import ITEMS, METRICS
from finrag.finance.plan import Plan

_TESTS = frozenset({"at_least", "below", "positive", "negative", "nonzero", "up", "down", "stable"})


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    pattern: re.Pattern[str]
    figures: tuple[str, ...]
    test: str
    threshold: float
    basis: str
    years: int = 1  # years the figure is computed for (a "stable" test compares them)
    threshold_from: re.Pattern[str] | None = None

    def threshold_in(self, question: str) -> float:
        """The question's own threshold ("not fluctuating more than roughly 2%"), else the rule's."""
        m = self.threshold_from.search(question) if self.threshold_from is not None else None
        return float(m.group(1)) if m else self.threshold

    @property
    def directional(self) -> bool:
        """Decided on a change from the year before, not on the figure's level."""
        return self.test in ("up", "down")


def _load() -> tuple[Rule, ...]:
    rules = []
    for raw in load("judgements")["rules"]:
        if raw["test"] not in _TESTS:
            raise ValueError(f"judgements.toml: unknown test {raw['test']!r} in rule {raw['name']!r}")
        rules.append(
            Rule(
                name=raw["name"],
                pattern=re.compile(raw["pattern"], re.I),
                figures=tuple(raw.get("figures", ())),
                test=raw["test"],
                threshold=float(raw.get("threshold", 0.0)),
                basis=raw["basis"],
                years=int(raw.get("years", 1)),
                threshold_from=re.compile(raw["threshold_from"], re.I) if raw.get("threshold_from") else None,
            )
        )
    return tuple(rules)


RULES: tuple[Rule, ...] = _load()


@dataclass(frozen=True, slots=True)
class EvidenceRule:
    """A yes/no question decided by a sentence the filing prints (see `[[evidence]]` in the data)."""

    name: str
    pattern: re.Pattern[str]
    sections: frozenset[str]
    found: re.Pattern[str]


EVIDENCE: tuple[EvidenceRule, ...] = tuple(
    EvidenceRule(
        name=raw["name"],
        pattern=re.compile(raw["pattern"], re.I),
        sections=frozenset(raw.get("sections", ())),
        found=re.compile(raw["found"], re.I),
    )
    for raw in load("judgements").get("evidence", [])
)


def evidence_rule_for(question: str) -> EvidenceRule | None:
    return next((r for r in EVIDENCE if r.pattern.search(question)), None)


# "increase or decrease", "improve or decline": asks which way, not yes/no
_EITHER_WAY = re.compile(r"(?i)\b(?:increase|improve|rise|grow)\w*\s+or\s+(?:decrease|decline|fall|drop|shrink)\w*\b")


def rule_for(question: str) -> Rule | None:
    """The first rule whose pattern matches the yes/no question, None for a which-way question."""
    if _EITHER_WAY.search(question):
        return None
    return next((r for r in RULES if r.pattern.search(question)), None)


def plan_ref(plan: Plan) -> str:
    """The plan in the rules' terms: a metric key, "growth:<item>" or "item:<item>"."""
    if plan.metrics:
        return plan.metrics[0].key
    assert plan.item is not None
    return f"{'growth' if plan.kind == 'growth' else 'item'}:{plan.item.key}"


def plan_for(rule: Rule, plan: Plan | None, year: int | None) -> Plan | None:
    """The plan that decides the question: its own when the rule accepts it, else the rule's first figure;
    over the rule's number of years when it compares years."""
    if plan is not None and (not rule.figures or plan_ref(plan) in rule.figures):
        if rule.years > 1 and len(plan.years) < rule.years and plan.kind != "growth":
            last = plan.years[-1]
            return replace(plan, years=list(range(last - rule.years + 1, last + 1)), average=False)
        return plan
    if not rule.figures or year is None:
        return plan
    ref = rule.figures[0]
    kind, _, key = ref.partition(":")
    if kind == "growth" and key in ITEMS:
        return Plan("growth", [year], item=ITEMS[key])
    if kind == "item" and key in ITEMS:
        return Plan("lookup", [year], item=ITEMS[key])
    metrics = [m for m in METRICS if m.key == ref]
    return Plan("metric", [year], metrics) if metrics else plan


def decide(rule: Rule, value: float | None, change: float | None = None, threshold: float | None = None) -> bool | None:
    """Yes (True) / No (False) for the figure (`change`: from the year before; for a "stable" test
    `value` is the largest year-on-year change), None when undecided. `threshold` overrides the rule's."""
    limit = rule.threshold if threshold is None else threshold
    if rule.directional:
        if change is None or change == 0:
            return None
        return change > 0 if rule.test == "up" else change < 0
    if value is None:
        return None
    if rule.test == "stable":
        return abs(value) <= limit
    if rule.test == "at_least":
        return value >= limit
    if rule.test == "below":
        return value < limit
    if rule.test == "positive":
        return value > 0
    if rule.test == "negative":
        return value < 0
    return value != 0  # nonzero
