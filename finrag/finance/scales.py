"""The scale a filing states for its amounts ("(In millions)", "$000s") and the scale a page inherits.

Financial statements state their scale once, at the head of a statement or of the filing; a statement
continued on the next page, or a schedule deep in the notes, often says nothing. A number checker that
then accepts any scale lets "$411 billion" pass for a "$411" cell that is in millions. At ingest, each
page that states no scale gets a short note with the scale it inherits (the page before, when that page
states one scale, else the scale most pages of the filing state); the note travels with the page text,
so a model reading the page and the checker see the same thing. The note holds no digits, so it can
never be the source of a figure.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

SCALE_WORDS: dict[str, float] = {
    "thousand": 1e3,
    "k": 1e3,
    "million": 1e6,
    "mn": 1e6,
    "mm": 1e6,
    "m": 1e6,
    "billion": 1e9,
    "bn": 1e9,
    "b": 1e9,
    "trillion": 1e12,
    "tn": 1e12,
    "t": 1e12,
}
SCALE_NAMES: dict[float, str] = {1e3: "thousands", 1e6: "millions", 1e9: "billions"}

PAGE_SCALE = re.compile(
    r"(?i)\bin[ \t]+(thousand|million|billion)s\b"
    r"|\([ \t]*(?:[$€£][ \t]*|dollars[ \t]*|amounts[ \t]*|usd[ \t]*)?(?:in[ \t]*)?(thousand|million|billion)s?\b"
    r"|\((000)['’]?s?\)|\$[ \t]?(000)s?\b"
)

LOOKBACK_PAGES = 2  # a statement continued over at most this many pages inherits its head's scale
USUAL_SHARE = 0.6  # the filing's usual scale: stated alone by this share of the pages that state one
USUAL_MIN_PAGES = 3


def stated_scales(text: str) -> list[float]:
    """Scales a page states for its amounts, in order of first mention."""
    out: list[float] = []
    for m in PAGE_SCALE.finditer(text):
        word = (m.group(1) or m.group(2) or "thousand").lower()
        scale = SCALE_WORDS[word]
        if scale not in out:
            out.append(scale)
    return out


def inherited_scales(page_texts: Sequence[str]) -> list[tuple[float, str] | None]:
    """Per page of one filing: (scale, how) for a page that states none, else None.

    `how` is "continued" (a page up to LOOKBACK_PAGES before states exactly one scale, with only
    silent pages between) or "filing" (the scale most of the filing's scale-stating pages state)."""
    stated = [stated_scales(t) for t in page_texts]
    singles = Counter(s[0] for s in stated if len(s) == 1)
    stating = sum(1 for s in stated if s)
    usual: float | None = None
    if singles:
        scale, n = singles.most_common(1)[0]
        if n >= USUAL_MIN_PAGES and n >= USUAL_SHARE * stating:
            usual = scale
    out: list[tuple[float, str] | None] = []
    for i, own in enumerate(stated):
        if own:
            out.append(None)
            continue
        found: tuple[float, str] | None = None
        for j in range(i - 1, max(-1, i - 1 - LOOKBACK_PAGES), -1):
            if stated[j]:
                if len(stated[j]) == 1:
                    found = (stated[j][0], "continued")
                break
        if found is None and usual is not None:
            found = (usual, "filing")
        out.append(found)
    return out


def scale_note(scale: float, how: str) -> str:
    """The line appended to a page that states no scale (matched by PAGE_SCALE; no digits)."""
    where = "on the page before" if how == "continued" else "throughout this filing"
    return f"[Amounts in {SCALE_NAMES.get(scale, 'units')} unless stated otherwise, as stated {where}.]"


def with_scale_note(text: str, inherited: tuple[float, str] | None) -> str:
    """The page text as stored: with its inherited scale's note appended when it has one."""
    return f"{text}\n{scale_note(*inherited)}" if inherited else text


# ---------------------------------------------------------------------------------------------
# Inputs of one calculation read at different scales

SCALE_GAP_TOLERANCE = 1.0  # orders of magnitude: after rescaling, one item's years agree within 10x


def reconcile_scales(
    readings: Sequence[tuple[str, float, float]],
) -> dict[int, float]:
    """Readings (item key, value in base units, scale it was read at) of one calculation's inputs ->
    {index: corrected scale} for the ones read at a scale that cannot be right.

    A line item does not change a thousandfold from one year to the next: when one year of an item sits
    orders of magnitude off the item's other years, was read at a scale that differs from the scale most
    of the calculation's inputs were read at, and reading it at that scale brings it within 10x of the
    other years, its page's scale was wrong for it (a statement continued from a page in another unit, a
    schedule in thousands next to statements in millions)."""
    if len(readings) < 3:
        return {}
    scales = [s for _, _, s in readings]
    usual = max(set(scales), key=scales.count)
    if scales.count(usual) * 2 <= len(scales):
        return {}  # no scale most inputs agree on
    out: dict[int, float] = {}
    for i, (key, value, scale) in enumerate(readings):
        if scale == usual or value == 0:
            continue
        peers = [abs(v) for j, (k, v, s) in enumerate(readings) if j != i and k == key and s == usual and v]
        if not peers:
            continue
        fixed = abs(value) * usual / scale
        if all(abs(math.log10(fixed / p)) <= SCALE_GAP_TOLERANCE for p in peers) and all(
            abs(math.log10(abs(value) / p)) > 2 for p in peers
        ):
            out[i] = usual
    return out


# ---------------------------------------------------------------------------------------------
# The years of one average

YEAR_GAP_ITEM = 2.0  # orders of magnitude: one line item's years further apart than 100x are no one scale
YEAR_GAP_RATIO = 1.0  # a ratio's years: one year 10x off years that agree (within 3x) is a reading slip
PEERS_AGREE = math.log10(3)


def off_scale_years(values: Sequence[float], ratio: bool) -> list[int]:
    """Indexes of the years of one average that cannot be on the others' scale or unit.

    An average over years is only as good as its inputs being read alike: a year read in thousands next
    to years in millions, or a ratio next to percentages, moves the average by a large factor, not a
    rounding. For a line item (`ratio` False) a year more than 100x from every other year is flagged;
    for a ratio, margin or days figure (`ratio` True, all of one sign) a year more than 10x from the
    median of the others, when those others agree within 3x. [] when every year fits."""
    nonzero = [abs(v) for v in values if v]
    if len(nonzero) < 2 or (ratio and len({v > 0 for v in values if v}) > 1):
        return []
    out: list[int] = []
    for i, v in enumerate(values):
        if not v:
            continue
        others = [abs(w) for j, w in enumerate(values) if j != i and w]
        if not others:
            continue
        if ratio:
            agree = math.log10(max(others) / min(others)) <= PEERS_AGREE
            mid = sorted(others)[len(others) // 2]
            if agree and abs(math.log10(abs(v) / mid)) > YEAR_GAP_RATIO:
                out.append(i)
        elif all(abs(math.log10(abs(v) / w)) > YEAR_GAP_ITEM for w in others):
            out.append(i)
    return out
