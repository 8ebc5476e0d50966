"""Deciding a yes/no question from a computed figure: the rules are data (`data/judgements.toml`).

A rule names what the question may be decided on (a metric, an item's growth, an item) and the test
(a threshold, a sign, a direction). `decide` says Yes/No only for a figure that was computed; a
question no rule covers, or whose figure is missing, is left undecided (excerpts or a refusal)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from finrag.finance.data import load
from finrag.finance.metrics import ITEMS, METRICS
from finrag.finance.plan import Plan

_TESTS = frozenset({"at_least", "below", "positive", "negative", "nonzero", "up", "down"})


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    pattern: re.Pattern[str]
    figures: tuple[str, ...]
    test: str
    threshold: float
    basis: str

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
            )
        )
    return tuple(rules)


RULES: tuple[Rule, ...] = _load()
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
    """The plan that decides the question: its own when the rule accepts it, else the rule's first figure."""
    if plan is not None and (not rule.figures or plan_ref(plan) in rule.figures):
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


def decide(rule: Rule, value: float | None, change: float | None = None) -> bool | None:
    """Yes (True) / No (False) for the figure (`change`: from the year before), None when undecided."""
    if rule.directional:
        if change is None or change == 0:
            return None
        return change > 0 if rule.test == "up" else change < 0
    if value is None:
        return None
    if rule.test == "at_least":
        return value >= rule.threshold
    if rule.test == "below":
        return value < rule.threshold
    if rule.test == "positive":
        return value > 0
    if rule.test == "negative":
        return value < 0
    return value != 0  # nonzero
