"""Company names: the legal-form words (`data/companies.toml`) that do not identify a company."""

from __future__ import annotations

import re

from finrag.finance.data import load

LEGAL_SUFFIXES: frozenset[str] = frozenset(load("companies")["legal_suffixes"])

# The same words in running text, dots allowed between letters of the short ones ("N.V.", "S.A.").
LEGAL_WORDS = re.compile(
    r"(?i)\b(?:"
    + "|".join(r"\.?".join(map(re.escape, w)) if len(w) == 2 else re.escape(w) for w in sorted(LEGAL_SUFFIXES))
    + r")\b\.?"
)
