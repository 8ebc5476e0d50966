"""Conventions of filing text shared by every layer: how a page is cited ("10-K 2022 p.12") and how
an answer's citation markers ("[10-K 2022 p.12]") are found."""

from __future__ import annotations

import re

# An answer's citation marker: "[Doc p.4]" or "[Doc p.4; Other p.9]".
CITATION = re.compile(r"\[([^\[\]\n]{1,400})\]")


def page_label(doc_name: str, page: int) -> str:
    """The label a page is cited by; `page` is one-based, as citations print it."""
    return f"{doc_name} p.{page}"
