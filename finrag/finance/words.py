"""Words: the one tokenizer, stemmer and stop list every layer matches content words with.

`content_words(text)` is what a passage, a row label or a question is about: lower-cased, de-pluralised
words without stop or template words (`data/words.toml`). Grounding uses it to check that a page figure
speaks of the same thing as the answer figure, lexical support to check that an answer's words are on
its sources, and the agentic pipeline to match row labels."""

from __future__ import annotations

import re

from finrag.finance.data import load

_DATA = load("words")
STOP: frozenset[str] = frozenset(_DATA["stop"])
SYNONYMS: dict[str, tuple[str, ...]] = {k: tuple(v) for k, v in _DATA["synonyms"].items()}
_WORD = re.compile(r"[a-z][a-z&'’]*")


def stem(w: str) -> str:
    """Possessive and plural endings off: companies -> company, boxes -> box, sales -> sale."""
    if w.endswith("'s") or w.endswith("’s"):
        w = w[:-2]
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 4 and w.endswith(("xes", "ses", "ches", "shes")):
        return w[:-2]
    if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
        return w[:-1]
    return w


def content_words(text: str) -> frozenset[str]:
    """Lower-cased, de-pluralised words that say what a figure is about (no stop or template words)."""
    t = re.sub(r"(?i)\bu\.s\.(?=\W|$)|\bUS\b", " us ", text)
    words = {stem(w) for w in _WORD.findall(t.lower())}
    return frozenset(w for w in words if w == "us" or (len(w) > 2 and w not in STOP and stem(w) not in STOP))


def folded_words(text: str) -> set[str]:
    """content_words, with possessives folded ("Foods'" -> "food") so names match the filing's."""
    out = set()
    for w in content_words(text):
        w = w.rstrip("'’")
        if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
            w = w[:-1]
        out.add(w)
    return out
