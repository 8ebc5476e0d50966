"""Query rewrite: analysts' shorthand -> the words filings use.

A generic finance glossary (`data/glossary.toml`; no company, no question in it): each entry maps a
pattern of how people ask to the line items and statement names where the figure is printed.
Expansions go into the sparse (BM25) query and a second dense query; the original question is always
kept."""

from __future__ import annotations

import re
from dataclasses import dataclass

from finrag.finance.data import load

GLOSSARY: list[tuple[str, str]] = [(e["ask"], e["filing_words"]) for e in load("glossary")["entries"]]

_COMPILED = [(re.compile(rf"(?<![\w&])(?:{pat})(?![\w&])", re.I), exp) for pat, exp in GLOSSARY]


@dataclass(slots=True)
class RewrittenQuery:
    original: str
    expansions: list[str]

    @property
    def sparse_text(self) -> str:
        return " ".join([self.original, *self.expansions])

    @property
    def queries(self) -> list[str]:
        """Dense queries: the question, then the question with the filing's wording."""
        if not self.expansions:
            return [self.original]
        return [self.original, f"{self.original} {' '.join(self.expansions)}"]


class GlossaryRewriter:
    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled

    def rewrite(self, question: str) -> RewrittenQuery:
        if not self.enabled:
            return RewrittenQuery(question, [])
        expansions = [exp for pattern, exp in _COMPILED if pattern.search(question)]
        return RewrittenQuery(question, list(dict.fromkeys(expansions)))
