"""Superlatives over the rows of a table group: "which segment had the highest operating income in FY2022"
reads the rows under the heading naming the measure ("Operating income:" ... "Total operating income"),
in the asked year's column, and ranks them. Pure: page text in, ranked rows out."""

from __future__ import annotations

import re
from dataclasses import dataclass

from finrag.finance.data import load
from finrag.finance.scales import stated_scales
from finrag.finance.statements import header_years_before, squash

_DATA = load("question")["superlatives"]
_HIGH = re.compile(_DATA["high"], re.I)
_LOW = re.compile(_DATA["low"], re.I)
_NOT_MEMBER = re.compile(_DATA["not_member"], re.I)
# a row: a label, then money cells ("Industrial Automation $ 318 $ 320", "Corporate (58) (50)")
_ROW = re.compile(r"^(?P<label>[A-Za-z][^$\d()]*?)\s+(?P<cells>(?:\$?\s?\(?-?[\d,]+(?:\.\d+)?\)?\s*)+)$")
_CELL = re.compile(r"\(?-?[\d,]+(?:\.\d+)?\)?")


@dataclass(frozen=True, slots=True)
class Superlative:
    highest: bool
    measure: str  # "operating income", as the question says it
    word: str  # "highest"


@dataclass(frozen=True, slots=True)
class Member:
    label: str
    value: float  # in base units (dollars)
    printed: str
    line: str  # the row as printed


def read_superlative(question: str) -> Superlative | None:
    """ "the highest operating income in FY2022" -> (highest, "operating income"); None when not asked."""
    for rx, highest in ((_HIGH, True), (_LOW, False)):
        m = rx.search(question)
        if m:
            rest = question[m.end() :]
            measure = re.split(r"(?i)\b(?:in|for|during|of|among|at|as)\b|[?,.(]", rest, maxsplit=1)[0].strip()
            if measure:
                return Superlative(highest, measure, m.group(0).strip())
    return None


def _value(cell: str) -> float:
    neg = cell.startswith("(") or cell.startswith("-")
    v = float(cell.strip("()-").replace(",", ""))
    return -v if neg else v


def ranked_members(text: str, measure: str, year: int) -> list[Member]:
    """The rows of the group headed by `measure` in `year`'s column, best first (highest value); [] if none."""
    lines = text.split("\n")
    target = squash(measure)
    if not target:
        return []
    scale = (stated_scales(text) or [1e6])[0]
    pos = 0
    for i, line in enumerate(lines):
        start, pos = pos, pos + len(line) + 1
        head = line.strip().rstrip(":")
        if not head or re.search(r"\d", head) or squash(head) != target:
            continue
        years = header_years_before(text, start)
        if year not in years:
            continue
        col = years.index(year)
        members: list[Member] = []
        for row in lines[i + 1 :]:
            m = _ROW.match(row.strip())
            if m is None:
                break  # the group ends at the next heading
            label = m.group("label").strip()
            if _NOT_MEMBER.search(label):
                if re.match(r"(?i)total\b", label):
                    break
                continue
            cells = _CELL.findall(m.group("cells"))
            if len(cells) != len(years):
                break
            members.append(Member(label, _value(cells[col]) * scale, cells[col], row.strip()))
        if len(members) >= 2:
            return sorted(members, key=lambda x: -x.value)
    return []
