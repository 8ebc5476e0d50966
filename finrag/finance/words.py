"""Words: the tokenizers, stemmers and stop lists every layer matches words with (lists in `data/words.toml`).

- `content_words(text)`: what a passage, a row label or a question is about: lower-cased, de-pluralised
  words without stop or template words. Grounding checks that a page figure speaks of the same thing
  as the answer figure, lexical support that an answer's words are on its sources, and the agentic
  pipeline matches row labels with it.
- `search_terms(text)`: the retrieval profile (lexical rerank, quote and context-line picking): a
  shorter stop list and a cruder stemmer. Measured: replacing it with `content_words` changes which
  lines are put in the LLM's context, so the two stay apart until a measured change merges them.
- `label_stem` / `label_terms`: the graph's matcher of row labels and questions (operations and
  operating both -> operat)."""

from __future__ import annotations

import re
from functools import lru_cache

from finrag.finance.data import load

_DATA = load("words")
STOP: frozenset[str] = frozenset(_DATA["stop"])
SEARCH_STOP: frozenset[str] = frozenset(_DATA["search_stop"])
SYNONYMS: dict[str, tuple[str, ...]] = {k: tuple(v) for k, v in _DATA["synonyms"].items()}
STATEMENT_WORDS: frozenset[str] = frozenset(_DATA["statement_words"])
_WORD = re.compile(r"[a-z][a-z&'’]*")
_SEARCH_WORD = re.compile(r"[a-z][a-z&']+")
_LABEL_WORD = re.compile(r"[a-z0-9]+")


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


@lru_cache(maxsize=65536)  # a filing's vocabulary is small; its words are stemmed over and over
def _search_stem(word: str) -> str:
    for suffix in ("ies", "es", "s"):
        if word.endswith(suffix) and len(word) > len(suffix) + 3:
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


# Two caches: row labels and lines are scored again and again while one answer is computed (many, small);
# whole pages come back within a question (the calculator's searches re-rank the same pages) and for the
# next questions on the same filings. In one cache of 16,384 the pages' texts and term sets grew a
# long-running server's heap by ~190 MiB (1,400 questions at 1M chunks); 4,096 pages cost ~60 MiB.
_SHORT_TEXT_CHARS = 1_000


def search_terms(text: str) -> set[str]:
    """Content terms for ranking pages and picking lines (the retrieval profile)."""
    return set(_short_text_terms(text) if len(text) <= _SHORT_TEXT_CHARS else _page_terms(text))


def _search_terms(text: str) -> frozenset[str]:
    # each distinct word once: pages repeat their words (3.95 against 4.85 ms for 60 generated pages)
    words = set(_SEARCH_WORD.findall(text.lower()))
    return frozenset(_search_stem(w) for w in words if w not in SEARCH_STOP and len(w) > 2)


_short_text_terms = lru_cache(maxsize=16384)(_search_terms)
_page_terms = lru_cache(maxsize=4096)(_search_terms)


def label_stem(word: str) -> str:
    """Light suffix stripping, the same on labels and questions: operations/operating -> operat,
    activities -> activity, provided/provide -> provid."""
    if len(word) > 4 and word.endswith("ies"):
        word = word[:-3] + "y"
    elif len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for suffix in ("ing", "ion", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            word = word[: -len(suffix)]
            break
    if len(word) > 4 and word.endswith("e"):
        word = word[:-1]
    return word


def label_terms(text: str) -> list[str]:
    """Lower-case, '&' as 'and', crude plural stemming: the form both labels and questions are matched in."""
    return [label_stem(w) for w in _LABEL_WORD.findall(text.lower().replace("&", " and "))]
