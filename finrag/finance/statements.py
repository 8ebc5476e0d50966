"""Financial statements on filing pages: which statement a page is (from its title), and reading a
line item's value for a fiscal year from a statement page; formatting the amounts read."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache

from finrag.finance.calculator import CalcInput, CalcStep
from finrag.finance.data import load
from finrag.finance.dates import column_fiscal_years
from finrag.finance.figures import analyze_page
from finrag.finance.metrics import LineItem
from finrag.finance.periods import header_durations
from finrag.finance.text import page_label

_NOTE_REF = re.compile(r"(?i)\((?:note|notes)\s*[\d\s,and]+\)|\(\d\)|\([a-z]\)")


@lru_cache(maxsize=65536)  # row labels are squashed once per candidate line item otherwise
def squash(text: str) -> str:
    """Lower-case letters only: PDF text may drop spaces ("Totalcurrentassets")."""
    return re.sub(r"[^a-z]", "", _NOTE_REF.sub("", text.lower()).replace("&", "and"))


_TITLES = load("statements")
_KIND_TITLES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (k["kind"], re.compile(k["title"], re.I)) for k in _TITLES["kinds"]
)
# Any primary statement's title ("Consolidated Balance Sheets", "Statements of Operations").
STATEMENT_TITLE: re.Pattern[str] = re.compile(_TITLES["any"]["title"], re.I)


def page_kind(text: str) -> str:
    """Which statement a page is, from its title: one of its first lines, without figures (a table row
    "Statement of operations: Net sales $ 816" in a note is not a title)."""
    lines = [ln.strip() for ln in text.split("\n") if ln.strip()][:7]
    for line in lines:
        if re.search(r"\d{2}", line) or len(line.split()) > 14:
            continue
        squashed = squash(line)
        for kind, rx in _KIND_TITLES:
            if rx.search(line):
                return kind
        # squashed titles: "CONSOLIDATEDSTATEMENTSOFCASHFLOWS"
        if "statementsofcashflows" in squashed or "statementofcashflows" in squashed:
            return "cash"
        if "balancesheet" in squashed or "financialposition" in squashed:
            return "balance"
        if re.search(r"statements?of(?:consolidated)?(?:income|operations|earnings)", squashed):
            return "income"
    return "other"


_PARTIAL_STATEMENT = re.compile(
    r"(?i)\b(?:condensed\s+(?:consolidating|financial\s+information)|consolidating|parent\s+company|"
    r"of\s+(?:the\s+)?registrant|guarantor|quarterly\s+(?:financial\s+)?(?:data|results)|unaudited|"
    r"selected\s+financial\s+data|pro\s+forma|equity\s+method|affiliated\s+companies|exhibit\s+\d+(?:\.\d+)?)\b"
)
_PROSE_END = re.compile(
    r"(?i)\b(?:totaled|totalled|was|were|is|are|of|to|and|by|from|at|approximately|about|reached|increased|"
    r"decreased|compared\s+with)\s*$"
)
_YEAR_TOKEN = re.compile(r"(?<![\d,.$])((?:19|20)\d{2})(?![\d,.%])")
_MONTH_DAY = re.compile(
    r"(?i)\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d{1,2}(?:st|nd|rd|th)?\s*,(?=\s*(?:19|20)\d{2})"
)


def _lines_above(text: str, pos: int, max_lines: int) -> Iterator[str]:
    """The lines above the one holding `pos`, nearest first, at most `max_lines`."""
    end = text.rfind("\n", 0, pos)
    for _ in range(max_lines):
        if end <= 0:
            return
        start = text.rfind("\n", 0, end) + 1
        yield text[start:end]
        end = start - 1


def header_years_before(text: str, pos: int, max_lines: int = 40) -> list[int]:
    """Column years from the nearest line above `pos` that lists two or more years and no other figures
    ("(In millions, except per share amounts) 2021 2020 2019"): headers the page analysis missed."""
    for line in _lines_above(text, pos, max_lines):
        years = [int(y) for y in _YEAR_TOKEN.findall(line)]
        # "Twelve Months Ended June 30, 2022 ... June 30, 2023": a day of the month is no figure
        others = re.findall(r"\d[\d,.]*", _YEAR_TOKEN.sub(" ", _MONTH_DAY.sub(" ", line)))
        if len(years) >= 2 and len(set(years)) == len(years) and not others:
            # "At January 1, 2023 and January 2, 2022": columns of fiscal 2022 and 2021
            return column_fiscal_years(line, years, header_durations(line))
    return []


def durations_before(text: str, pos: int, max_lines: int = 60) -> list[int]:
    """Months of each column group from the nearest period header above `pos` ("Three Months Ended
    Nine Months Ended" -> [3, 9]); [] when the table states none."""
    for line in _lines_above(text, pos, max_lines):
        if len(line) < 120 and not re.search(r"[$%]", line):
            found = header_durations(line)
            if found:
                return found
    return []


def _period_column(
    money: list[int], durations: list[int], months: int, year: int, cell_year: dict[int, int | None]
) -> int | None:
    """The cell of the column group covering `months` whose header says `year`; None when the table
    has no such group (a quarter is never read from an annual column, nor a year from a quarter's)."""
    if not durations or months not in durations or len(money) % len(durations):
        return None
    width = len(money) // len(durations)
    k = durations.index(months)
    group = money[k * width : (k + 1) * width]
    return next((i for i in group if cell_year.get(i) == year), None)


def row_label(text: str, start: int) -> str:
    """The row's own label: the line text before its first cell, else the nearest line above with
    words (PDFs that put every cell on its own line print the label above the numbers)."""
    ls = text.rfind("\n", 0, start) + 1
    own = text[ls:start].strip(" $\t(")
    if re.search(r"[A-Za-z]{2}", own):
        return own
    pos = ls - 1
    for _ in range(4):
        if pos <= 0:
            break
        prev = text.rfind("\n", 0, pos) + 1
        line = text[prev:pos].strip()
        pos = prev - 1
        if re.search(r"[A-Za-z]{2}", line):
            # "Inventories (Notes 1 and 3)": the note reference goes first, or trimming the trailing
            # digits leaves "Inventories (Notes 1 and", which reads as a sentence cut mid-way
            return re.sub(r"[\s$()\d,.\-–—]+$", "", _NOTE_REF.sub("", line))
    return own


def label_score(item: LineItem, label: str, context: str = "") -> float:
    """How well a row label names the line item: 1 exact, 0.8 prefix, 0.55 contained, 0 not at all.
    `context` (the label with its section heading, "Current liabilities: Total") helps only when the
    label itself says too little."""
    main = label.split(":")[-1] if ":" in label else label
    sq_main, sq_ctx = squash(main), squash(context or label)
    if not sq_main:
        return 0.0
    low = f" {main.lower()} "
    for a in item.avoid:
        if (a.isalpha() and re.search(rf"\b{re.escape(a)}\b", low)) or (not a.isalpha() and a in low):
            return 0.0
        if len(a) > 6 and squash(a) in sq_main:
            return 0.0
    best = 0.0
    for i, lab in enumerate(item.labels):
        s = squash(lab)
        penalty = 0.01 * i
        if sq_main == s:
            best = max(best, 1.0 - penalty)
        elif sq_main.startswith(s):
            best = max(best, 0.8 - penalty)
        elif s in sq_main and len(s) >= 0.5 * len(sq_main):
            best = max(best, 0.55 - penalty)
        elif sq_ctx.endswith(s):  # "Operating expenses: Total" style headings
            best = max(best, 0.4 - penalty)
    return best


@dataclass(slots=True)
class Found:
    """A line item's value for one fiscal year, and where it is printed."""

    item: str
    year: int
    value: float  # base units (dollars), signed as reported unless the item is absolute
    text: str  # as printed: "(230)"
    label: str
    doc_id: str
    doc_name: str
    page: int  # zero-based
    score: float
    chunk_id: str = ""
    scale: float = 1.0
    column_by_header: bool = True

    @property
    def citation(self) -> str:
        return page_label(self.doc_name, self.page + 1)

    def as_input(self, name: str) -> CalcInput:
        return CalcInput(name=name, value=self.value, citation=self.citation, year=self.year)


def find_in_page(
    item: LineItem, year: int, text: str, *, filing_year: int | None = None, months: int | None = None
) -> list[tuple[float, float, str, str, float, bool]]:
    """Candidates (score, value, printed text, label, scale, by_header) for `item` in fiscal `year` on a page.

    A cell counts when its column header says `year`; rows without a resolved header fall back to
    column order (current year first, as statements print it) when the filing's year is known.
    `months` (3, 6, 9, 12; None: not said): the period asked; a table whose period header names
    column groups is read in the group covering it, and skipped when it has none."""
    page = analyze_page(text)
    kind = page_kind(text)
    kind_bonus = 0.0
    if item.statement != "any" and kind != "other":
        kind_bonus = 0.3 if kind == item.statement else -0.6
    if _PARTIAL_STATEMENT.search(text[:800]):
        kind_bonus -= 0.25  # parent-only, consolidating or quarterly tables repeat the labels with other values
    out: list[tuple[float, float, str, str, float, bool]] = []
    for row_id, cells in page.rows.items():
        idxs = [i for i in cells if i is not None]
        if not idxs:
            continue
        context = page.contexts[idxs[0]]
        label = row_label(text, page.figures[idxs[0]].start) or context
        if len(label.split()) > 12 or _PROSE_END.search(label):
            continue  # a sentence broken across lines ("... totaled $1.6\nbillion"), not a table row
        ls = label_score(item, label, context)
        if ls <= 0:
            continue
        pick: int | None = None
        by_header = True
        for i in idxs:
            cell = page.cells.get(i)
            if cell is not None and cell.year == year:
                pick = i
                break
        if pick is None and not any(page.cells.get(i) for i in idxs):
            money = [i for i in idxs if page.figures[i].unit not in ("%",)]
            years = header_years_before(text, page.figures[idxs[0]].start)
            if years and year in years and len(money) >= len(years):
                pick = money[years.index(year)]
            elif filing_year is not None and 0 <= filing_year - year < len(money):
                # no header at all: statements print the current year first
                pick, by_header = money[filing_year - year], False
        period_penalty = 0.0
        if months is not None:
            durations = durations_before(text, page.figures[idxs[0]].start)
            if len(set(durations)) == 1:
                if durations[0] != months:
                    continue  # the whole table covers another period
            elif durations:
                money = [i for i in idxs if page.figures[i].unit not in ("%",)]
                cell_year = {i: (c.year if (c := page.cells.get(i)) is not None else None) for i in money}
                if all(v is None for v in cell_year.values()):
                    years = header_years_before(text, page.figures[idxs[0]].start)
                    if len(years) == len(money):
                        cell_year = dict(zip(money, years, strict=True))
                pick = _period_column(money, durations, months, year, cell_year)
                by_header = True
            elif months != 12:
                period_penalty = 0.5  # a table that does not say its period is not known to be the quarter asked
        if pick is None:
            continue
        fig = page.figures[pick]
        if fig.unit in ("%", "bps", "x"):
            continue
        if fig.scale_word:
            scale = fig.scale
        elif item.per_share or (fig.unit or "").endswith("/share"):
            scale = 1.0
        else:
            scale = page.scales[0] if page.scales else 1e6  # statements without a stated scale: millions
        value = float(f"{fig.number!r}") * scale
        if fig.negative and not item.absolute:
            value = -value
        score = ls + kind_bonus - (0.0 if by_header else 0.25) - 0.002 * row_id - period_penalty
        out.append((score, value, fig.text, label, scale, by_header))
    return out


def format_money(value: float, scale: float | None = None, decimals: int | None = None) -> str:
    """'$1,468 million', '-$1,561 million', '$0.40 billion', '$3.45' (per share)."""
    sign = "-" if value < 0 else ""
    v = abs(value)
    if scale is None:
        scale = 1e9 if v >= 1e11 else 1e6 if v >= 1e5 else 1.0
    word = {1e3: " thousand", 1e6: " million", 1e9: " billion"}.get(scale, "")
    shown = v / scale
    if decimals is None:
        decimals = 0 if (scale > 1 and abs(shown - round(shown)) < 1e-9) else 2
    return f"{sign}${shown:,.{decimals}f}{word}"


def format_result(value: float, unit: str, decimals: int, answer_scale: float | None = None) -> str:
    if unit == "%":
        return f"{value:.{decimals}f}%"
    if unit == "days":
        return f"{value:.{decimals}f} days"
    if unit == "x":
        return f"{value:.{decimals}f}"
    if unit == "USD/share":
        return f"${value:.2f} per share"
    scale = answer_scale or (1e6 if abs(value) >= 1e5 else None)
    return format_money(value, scale, None if decimals == 0 else decimals)


def input_names(steps: Sequence[CalcStep]) -> list[str]:
    return [i.name for s in steps for i in s.inputs]
