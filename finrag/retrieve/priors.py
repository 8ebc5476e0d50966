"""Section and form priors from the question's intent (finance/data/intents.toml).

A question about the industry a company is in is answered by Item 1, one about legal battles by
Item 3 and the contingencies note, "what drove" by MD&A; a list over three fiscal years by the 10-K,
a quarter-end balance by the 10-Q. These priors add to the reranked score of a page whose section or
form matches: they re-rank, never filter a page away."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from finrag.records import Hit

DATA_FILE = Path(__file__).resolve().parent.parent / "finance" / "data" / "intents.toml"


@dataclass(frozen=True, slots=True)
class Intent:
    name: str
    patterns: tuple[re.Pattern[str], ...]
    sections: dict[str, float] = field(default_factory=dict)
    forms: dict[str, float] = field(default_factory=dict)

    def matches(self, question: str) -> bool:
        return any(p.search(question) for p in self.patterns)


@dataclass(frozen=True, slots=True)
class Priors:
    """What one question wants: section key -> prior, form -> prior (each in 0..1)."""

    intents: tuple[str, ...] = ()
    sections: dict[str, float] = field(default_factory=dict)
    forms: dict[str, float] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.sections or self.forms)


@dataclass(frozen=True, slots=True)
class IntentTable:
    intents: tuple[Intent, ...]
    section_weight: float
    form_weight: float
    no_company: float

    def priors(self, question: str, sections: bool = True, forms: bool = True) -> Priors:
        names: list[str] = []
        sec: dict[str, float] = {}
        frm: dict[str, float] = {}
        for intent in self.intents:
            if not intent.matches(question):
                continue
            used = False
            if sections:
                for k, v in intent.sections.items():
                    sec[k] = max(sec.get(k, 0.0), v)
                    used = True
            if forms:
                for k, v in intent.forms.items():
                    frm[k] = max(frm.get(k, 0.0), v)
                    used = True
            if used:
                names.append(intent.name)
        return Priors(tuple(names), sec, frm)


@lru_cache(maxsize=4)
def load_intents(path: Path = DATA_FILE) -> IntentTable:
    data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    weights = data.get("weights", {})
    intents = tuple(
        Intent(
            row["name"],
            tuple(re.compile(p, re.I) for p in row["patterns"]),
            {k: float(v) for k, v in row.get("sections", {}).items()},
            {k: float(v) for k, v in row.get("forms", {}).items()},
        )
        for row in data.get("intent", [])
    )
    return IntentTable(
        intents,
        float(weights.get("section", 0.35)),
        float(weights.get("form", 0.25)),
        float(weights.get("no_company", 1.0)),
    )


def apply_priors(
    pages: list[Hit], priors: Priors, section_weight: float, form_weight: float, scale: float = 1.0
) -> list[Hit]:
    """Pages re-ranked by score + weight x prior x spread (a page's best section; its form), where the
    spread is that of the candidates' scores: the weights mean the same whatever scale a reranker (or
    plain fusion) scores on. Stable otherwise."""
    if not priors or not pages:
        return pages
    spread = max(h.score for h in pages) - min(h.score for h in pages)
    scale *= spread if spread > 0 else 1.0
    scored: list[tuple[float, int, Hit]] = []
    for i, h in enumerate(pages):
        meta = h.chunk.metadata
        keys = meta.get("sections") or ([meta["section_key"]] if meta.get("section_key") else [])
        s = max((priors.sections.get(k, 0.0) for k in keys), default=0.0)
        f = priors.forms.get(str(meta.get("doc_type", "")), 0.0)
        bonus = scale * (section_weight * s + form_weight * f)
        scored.append((h.score + bonus, i, h))
    scored.sort(key=lambda t: (-t[0], t[1]))
    return [Hit(chunk=h.chunk, score=s, source=h.source) for s, _, h in scored]
