"""Company names: the legal-form words (`data/companies.toml`) that do not identify a company, and the
names people use for a company (title case, without the legal form, aliases)."""

from __future__ import annotations

import re

from finrag.finance.data import load

LEGAL_SUFFIXES: frozenset[str] = frozenset(load("companies")["legal_suffixes"])
# The shorter list the graph's company nodes use (see data/companies.toml).
GRAPH_LEGAL_SUFFIXES: frozenset[str] = frozenset(load("companies")["graph"]["legal_suffixes"])

# The same words in running text, dots allowed between letters of the short ones ("N.V.", "S.A.").
LEGAL_WORDS = re.compile(
    r"(?i)\b(?:"
    + "|".join(r"\.?".join(map(re.escape, w)) if len(w) == 2 else re.escape(w) for w in sorted(LEGAL_SUFFIXES))
    + r")\b\.?"
)


# Legal forms, stripped from the end (repeatedly) to get the name people use.
_LEGAL_SUFFIX = re.compile(
    r"(?:,?\s+(?:&\s+Co\.?|Inc\.?|Incorporated|Corporation|Corp\.?|Company|Co\.?|Ltd\.?|Limited|plc|"
    r"P\.?L\.?C\.?|LLC|L\.?L\.?C\.?|L\.?P\.?|N\.?V\.?|S\.?A\.?|AG|SE|Holdings?|Group))$",
    re.IGNORECASE,
)
# Words that describe the business rather than name it, dropped for one more alias.
_DESCRIPTORS = re.compile(
    r"\s+(?:Systems|Communications|International|Worldwide|Global|Technologies|Technology|Industries|"
    r"Enterprises|Stores|Brands|Entertainment|Financial|Bancorp|Holdings|Group)$",
    re.IGNORECASE,
)
LEGAL_FORM_WORD = (
    r"(?:Inc\.?|Incorporated|Corporation|Corp\.|Company|Co\.|Ltd\.|Limited|plc|PLC|LLC|L\.P\.|N\.V\.|S\.A\.|AG)"
)
_SMALL_WORDS = {"and", "of", "the", "for", "de", "du", "la", "on", "in", "at"}
_KEEP_CASE = {"inc.": "Inc.", "plc": "plc", "llc": "LLC", "l.p.": "L.P.", "n.v.": "N.V.", "s.a.": "S.A.", "ag": "AG"}
# Lines on a cover page that are never the company name.
NOT_A_NAME = re.compile(
    r"securities|exchange|commission|washington|form\s+\d|report|pursuant|transition|fiscal|ended|"
    r"file\s+(?:no|number)|mark one|\(|\)|registrant|^or$|^n/?a$|table of contents|^index$|^\W*$",
    re.IGNORECASE,
)
_EXCHANGES = (
    r"New York Stock Exchange|NYSE(?: American| Arca)?|(?:The )?Nasdaq(?: Stock Market| Global Select Market"
    r"| Global Market)?|NASDAQ|Chicago Stock Exchange|Boston Stock Exchange|NYSE MKT|Cboe|CBOE"
)
TICKER_ROW = re.compile(rf"(?:^|\s)([A-Z][A-Z0-9./-]{{0,9}})\s+(?:The\s+)?(?:{_EXCHANGES})\b")
TICKER_PAREN = re.compile(
    r"\(\s*(?:NYSE|NASDAQ|Nasdaq|NYSE American|NasdaqGS|Nasdaq GS|ASX|LSE|TSX|NYSE Arca)\s*:\s*"
    r"([A-Z]{1,5}(?:\.[A-Z])?)\s*[);,]"
)
PRIMARY_TICKER = re.compile(r"^[A-Z]{1,5}(?:\.[A-Z])?$")


def smart_title(name: str) -> str:
    """Title-case an upper-case name without breaking acronyms ("CVS HEALTH" -> "CVS Health")."""
    words = []
    for i, word in enumerate(name.split()):
        low = word.lower()
        if low in _KEEP_CASE:
            words.append(_KEEP_CASE[low])
        elif i and low in _SMALL_WORDS:
            words.append(low)
        elif any(ch.isdigit() for ch in word) or (
            len(word) <= 4 and word.isalpha() and not any(v in low for v in "aeiouy")
        ):
            words.append(word)  # 3M, CVS, MGM
        else:
            words.append("-".join(part.capitalize() for part in word.split("-")))
    return " ".join(words)


def clean_name(name: str) -> str:
    name = re.sub(r"_{2,}|-{3,}|\s{2,}", " ", name)
    name = re.sub(r"^.*?(?:file\s+(?:no\.?|number)[:\s]*[\d-]+)\s*", "", name, flags=re.IGNORECASE)
    name = re.sub(r"\s+([.,])", r"\1", name)  # "NIKE, Inc ." -> "NIKE, Inc."
    return name.strip(" ,;:-–—•*\t").lstrip(".")


def base_name(name: str) -> str:
    """The name without "The" and legal suffixes: "The Boeing Company" -> "Boeing"."""
    base = re.sub(r"^the\s+", "", name.strip(), flags=re.IGNORECASE)
    while True:
        stripped = _LEGAL_SUFFIX.sub("", base).strip(" ,")
        if stripped == base or not stripped:
            break
        base = stripped
    return base


def company_aliases(name: str, text: str = "") -> list[str]:
    """Other names for `name`, by generic rules; `text` confirms acronyms before they are added."""
    aliases: list[str] = []

    def add(alias: str) -> None:
        alias = alias.strip(" ,")
        if len(alias) >= 2 and alias.casefold() not in {a.casefold() for a in [name, *aliases]}:
            aliases.append(alias)

    base = base_name(name)
    add(base)
    shorter = _DESCRIPTORS.sub("", base)
    if shorter != base:
        add(shorter)  # "Verizon Communications" -> "Verizon"
    for variant in [name, *aliases]:
        if re.search(r"\.com$", variant, re.IGNORECASE):
            add(variant[:-4])  # "Amazon.com" -> "Amazon"
        if "&" in variant and not re.search(r"&\s*Co\b", variant):
            add(variant.replace("&", "and"))
        elif re.search(r"\band\b", variant):
            add(re.sub(r"\band\b", "&", variant))
        if "-" in variant:
            add(variant.replace("-", " "))
            add(variant.replace("-", ""))
    words = base.split()
    if len(words) >= 2:
        first = words[0]
        # A coined first word is the brand: "JPMorgan Chase" -> "JPMorgan", "MGM Resorts" -> "MGM".
        if re.match(r"^(?:[A-Z]{2,}[a-z]+|[A-Z][a-z]+[A-Z]\w*|[A-Z]{2,5})$", first):
            add(first)
    significant = [w for w in re.split(r"[\s-]+", base) if w.lower() not in _SMALL_WORDS and w != "&"]
    if len(significant) >= 3 and text:
        acronym = "".join(w[0] for w in significant if w[0].isalpha()).upper()
        if len(acronym) >= 3 and re.search(rf"\b{acronym}\b", text):
            add(acronym)  # "Advanced Micro Devices" -> "AMD", when the filing itself says AMD
    return aliases
