"""Numeric grounding: every figure in an answer must be on a cited page or come from a logged calculation.

Three pieces:

- `extract_figures(text)`: the figures of free text ("$1,577 million", "(234)", "12.4%", "USD 2.5bn",
  "10.21 per share", "0.41x") with value in base units, unit, scale word and written precision; years,
  dates, page references ("[doc p.12]") and section numbers ("Item 7A", "Note 19") are not figures.
- `find_support(figure, page_text)`: is the figure on the page, within the rounding the answer used?
  Statements say "(In millions)" once and then print "1,577", so bare page numbers are read at the
  page's scale (inferred, or every usual scale when the page does not say). When the figure is tied
  to a fiscal year and the page row has year columns, only the cell in that year's column counts:
  a figure from the neighbouring column is on the page too, and is the commonest extraction error.
- `check_answer(answer, sources, calculations)`: per-figure verdicts and a score for the answer.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from functools import lru_cache
from typing import Any

from finrag.answer.calculator import CalcStep, CalculatorError
from finrag.scales import SCALE_WORDS, stated_scales

CURRENCIES: dict[str, str] = {"$": "USD", "us$": "USD", "usd": "USD", "dollars": "USD", "€": "EUR", "eur": "EUR"}
CURRENCIES |= {"£": "GBP", "gbp": "GBP"}
PAGE_SCALES: tuple[float, ...] = (1e3, 1e6, 1e9)  # tried when a page does not state its scale

# ---------------------------------------------------------------------------------------------
# Spans that contain digits but are not figures

_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
_MASKS: list[re.Pattern[str]] = [
    # December 31, 2022 / Dec. 31 / 31 December 2022 / 12/31/2022 / 2022-12-31 / 10:30
    re.compile(rf"(?i)\b{_MONTH}\.?[ \t]+\d{{1,2}}(?:st|nd|rd|th)?(?!\d)(?:[ \t]*,?[ \t]*(?:19|20)\d{{2}}\b)?"),
    re.compile(rf"(?i)\b\d{{1,2}}(?:st|nd|rd|th)?[ \t]+{_MONTH}\b,?(?:[ \t]+(?:19|20)\d{{2}}\b)?"),
    re.compile(r"\b\d{1,2}[/.]\d{1,2}[/.]\d{2,4}\b|\b(?:19|20)\d{2}-\d{2}-\d{2}\b|\b\d{1,2}:\d{2}\b"),
    # Item 7A, Note 19, Section 3.2, Page 3 of 15, p.12, pp. 4-5, Level 3, Form 10
    re.compile(
        r"(?i)\b(?:items?|notes?|sections?|parts?|exhibits?|schedules?|rules?|articles?|chapters?|tables?|"
        r"figures?|appendix|pages?|footnotes?|levels?|tiers?|phases?|forms?|no\.|pp?\.)[ \t]*"
        r"\d+[A-Za-z]?(?:[.\-]\d+[A-Za-z]?)*(?:[ \t]*(?:,|and|through|to|-|–)[ \t]*\d+[A-Za-z]?)*(?:[ \t]+of[ \t]+\d+)?"
        r"(?![ \t]*(?:%|percent))"
    ),
    re.compile(r"\[[^\[\]\n]{0,160}\]"),  # citation markers: [ACME_2022_10K p.48]
    re.compile(r"(?i)\b(?:19|20)?\d{2}[ \t]+(?:vs\.?|versus)[ \t]+(?:19|20)?\d{2}\b"),  # "22 vs. 21" headers
    re.compile(r"(?m)^[ \t]*\(?\d{1,2}[.)](?=[ \t]+[A-Za-z])"),  # "1. Revenue", "2) Costs"
    re.compile(r"\(\d{1,2}\)(?=[ \t]+[A-Za-z])|(?<=[A-Za-z][ \t])\(\d{1,2}\)"),  # "(1) Alpha Ltd", "net (1)"
    re.compile(r"['’]\d{2}\b"),  # '22
    # period labels, not figures: "the 12 months ended", "52 weeks ending"
    re.compile(r"(?i)\b\d{1,2}[ \t-]+(?:months?|weeks?)[ \t]+(?:ended|ending)\b"),
]

_NUM = re.compile(r"(?<![\w.,])(\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\d,]\d)|\d+(?:\.\d+)?(?![\d,]\d)|\.\d+)")
_PREFIX = re.compile(
    r"(?P<neg>[-−])?(?P<p1>\()?(?P<neg2>[-−])?(?:(?P<cur>US\$|\$|USD|EUR|GBP|€|£)(?P<sp>[ \t]*\n?[ \t]*))?"
    r"(?P<p2>\()?(?P<neg3>[-−])?\Z"
)


def _suffix(with_close: bool) -> re.Pattern[str]:
    close = r"(?P<close>\))?" if with_close else ""
    close2 = r"(?P<close2>\))?" if with_close else ""
    # "$(1.8) billion": the scale word after the closing paren
    scale2 = r"(?P<scale2>[ \t](?i:thousand|million|billion|trillion)s?\b|[ \t]?(?i:bn|mn)\b)?" if with_close else ""
    return re.compile(
        r"(?:(?P<scale>[ \t]?(?i:thousand|million|billion|trillion)s?\b|[ \t]?(?i:bn|mn|mm|tn)\b)"
        r"|(?P<letter>[kKmMbBT])(?![A-Za-z]))?"
        r"(?P<cur>\$|[ \t]?(?:USD|dollars)\b)?"
        + close
        + scale2
        + r"(?P<pct>[ \t]?(?:%|(?i:percent(?:age[ \t]+points?)?|per[ \t]?cent|pp)\b))?"
        r"(?P<bps>[ \t]+(?i:basis[ \t]+points?|bps)\b)?" + close2 + r"(?P<x>x\b|[ \t]times\b)?"
        r"(?P<share>[ \t]+(?:per|a)[ \t]+(?:(?:diluted|basic)[ \t]+)?share\b|[ \t]+shares\b)?"
    )


_SUFFIX = _suffix(with_close=True)
_SUFFIX_NO_CLOSE = _suffix(with_close=False)
_PREFIX_NO_PAREN = re.compile(r"(?P<neg>[-−])?(?:(?P<cur>US\$|\$|USD|EUR|GBP|€|£)(?P<sp>[ \t]*\n?[ \t]*))?\Z")
_YEAR_MENTION = re.compile(
    r"(?i)\b(?:FY|fiscal(?:[ \t]+year)?)[ \t]*['’]?(?P<fy>(?:19|20)\d{2}|\d{2})\b"
    r"|(?<![\w$.,])(?P<y>(?:19|20)\d{2})\b(?![,.]\d)"
)
_CONTRAST = re.compile(r"(?i)\b(?:compared|versus|vs\.?|whereas|while|from|than|against)\b|[.;!?](?:\s|$)")
_FOLLOW_GAP = re.compile(r"(?i)^[ \t\n(]*(?:(?:in|for|during|of|at)[ \t\n]+)?(?:the[ \t]+)?$")


@dataclass(slots=True)
class Figure:
    """A figure as written. `value` is signed and in base units (dollars, shares, percent points)."""

    text: str
    start: int
    end: int
    value: float
    number: float  # magnitude as written, before scale and sign
    unit: str | None = None  # "USD", "%", "x", "bps", "shares", "USD/share", ...
    scale_word: str | None = None
    scale: float = 1.0
    decimals: int = 0
    negative: bool = False
    year: int | None = None  # fiscal year the text ties the figure to, if any

    @property
    def significant_decimals(self) -> int:
        """Decimals that carry precision. Money is printed with cents ("$0.40", "$303.00"), so its
        trailing zeros are format, not precision: "$0.40" states 0.4 (±0.05). Elsewhere ("1.0%",
        "0.50x") a trailing zero is a stated digit."""
        if self.decimals == 0 or (self.unit or "").split("/")[0] not in CURRENCIES.values():
            return self.decimals
        frac = f"{self.number:.{self.decimals}f}".split(".")[1].rstrip("0")
        return len(frac)

    def tolerance(self) -> float:
        """Half a unit of the last stated digit, in base units: 1.6 billion covers 1.55–1.65 billion."""
        return 0.5 * 10.0 ** (-self.significant_decimals) * self.scale

    def rescaled(self, scale: float) -> Figure:
        """The same written number read at another scale (e.g. an answer "in USD millions")."""
        return replace(
            self, scale=scale, value=math.copysign(_scaled(repr(self.number), scale), -1 if self.negative else 1)
        )


@dataclass(slots=True)
class Match:
    """Where a figure was found: the span on the source page and the reading that matched."""

    source_key: str | None
    start: int
    end: int
    text: str
    value: float  # the page number read in base units
    scale: float
    year: int | None = None  # column (or prose) year of the page figure
    row: int | None = None  # table row id on the page, when the figure is a table cell
    col: int | None = None


@dataclass(slots=True)
class FigureCheck:
    figure: Figure
    supported: bool
    match: Match | None = None
    calc_index: int | None = None
    reason: str = ""


@dataclass(slots=True)
class GroundingReport:
    checks: list[FigureCheck] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.checks)

    @property
    def supported(self) -> int:
        return sum(c.supported for c in self.checks)

    @property
    def score(self) -> float:
        return 1.0 if not self.checks else self.supported / self.total

    @property
    def passed(self) -> bool:
        return self.supported == self.total

    @property
    def unsupported_figures(self) -> list[str]:
        """Texts for `Answer.unsupported_figures`."""
        return [c.figure.text for c in self.checks if not c.supported]

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "supported": self.supported,
            "total": self.total,
            "unsupported_figures": self.unsupported_figures,
            "checks": [asdict(c) for c in self.checks],
        }


# ---------------------------------------------------------------------------------------------
# Extraction


def _scaled(raw: str, scale: float) -> float:
    """number * scale without binary noise: "34.2" at 1e9 is 34200000000.0, not ...000004."""
    exp = round(math.log10(scale))
    if 10.0**exp != scale:
        return float(raw.replace(",", "")) * scale
    return float(f"{raw.replace(',', '')}e{exp}")


def _masked_spans(text: str) -> list[tuple[int, int]]:
    spans = [m.span() for rx in _MASKS for m in rx.finditer(text)]
    # "may 3" in prose is a verb, not a date
    return [(s, e) for s, e in spans if not text[s:e].startswith("may ")]


def _in_spans(pos: int, spans: list[tuple[int, int]]) -> bool:
    return any(s <= pos < e for s, e in spans)


def _year_of(m: re.Match[str]) -> int:
    y = m.group("fy") or m.group("y")
    v = int(y)
    return v if v >= 100 else (2000 + v if v < 70 else 1900 + v)


def _scan(text: str) -> tuple[list[Figure], list[tuple[int, int, int]]]:
    """Figures and year mentions (start, end, year) of a text, in order."""
    masked = _masked_spans(text)
    figures: list[Figure] = []
    for m in _NUM.finditer(text):
        s, e = m.span()
        if _in_spans(s, masked):
            continue
        if s >= 2 and text[s - 1] in "-–" and text[s - 2].isalpha():  # COVID-19, S-1
            continue
        raw = m.group(1)
        number = float(raw.replace(",", ""))
        decimals = len(raw.split(".")[1]) if "." in raw else 0

        pre = _PREFIX.search(text, max(0, s - 12), s)
        assert pre is not None  # every group is optional: it always matches at s
        cur = pre.group("cur")
        open_paren = bool(pre.group("p1") or pre.group("p2"))
        suf = (_SUFFIX if open_paren else _SUFFIX_NO_CLOSE).match(text, e)
        assert suf is not None
        close = bool(open_paren and (suf.group("close") or suf.group("close2")))
        if open_paren and not close:
            # "(approximately 5%": the paren is prose; re-read without it
            pre = _PREFIX_NO_PAREN.search(text, max(0, s - 12), s)
            assert pre is not None
            cur = pre.group("cur")
            suf = _SUFFIX_NO_CLOSE.match(text, e)
            assert suf is not None
        pstart, send = pre.start(), suf.end()
        if "\n" in (pre.group("sp") or ""):
            # "$\n34,229": PDF text puts the currency sign on its own line; keep the unit, start
            # the span on the number's line so table rows stay line-aligned
            pstart = next((pre.start(g) for g in ("p2", "neg3") if pre.groupdict().get(g)), s)
        neg_sign = bool(pre.group("neg") or pre.groupdict().get("neg2") or pre.groupdict().get("neg3"))
        if neg_sign and pstart > 0 and (text[pstart - 1].isalnum() or text[pstart - 1] in "%)"):
            continue  # "2019-2021", "x-5": a hyphen between tokens, not a minus

        letter = suf.group("letter")
        if letter and not (cur or decimals):
            continue  # "3M", "10K": a name, not 3 million
        scale2 = suf.groupdict().get("scale2")
        scale_word = (suf.group("scale") or scale2 or "").strip().lower() or letter or None
        if scale_word and scale_word.endswith("s") and scale_word[:-1] in SCALE_WORDS:
            scale_word = scale_word[:-1]
        cur = cur or (suf.group("cur") or "").strip() or None
        pct, bps, times, share = suf.group("pct"), suf.group("bps"), suf.group("x"), suf.group("share")
        nxt = text[send : send + 2]
        if nxt[:1].isalpha() or (nxt[:1] in "-–" and nxt[1:2].isalpha()):
            continue  # 1st, 10-K, 364-day: part of a name or a compound word
        if close and (suf.group("scale") or suf.group("letter")):
            # "in FY 2023 ($1.8 bn)": an aside in prose; statements write "$(1.8)" without a scale word
            close = False
            pre = _PREFIX_NO_PAREN.search(text, max(0, s - 12), s)
            suf = _SUFFIX_NO_CLOSE.match(text, e)
            assert pre is not None and suf is not None
            pstart, send = pre.start(), suf.end()
        negative = neg_sign or close

        plain = not (cur or scale_word or pct or bps or times or share)
        if plain and decimals == 0 and "," not in raw and len(raw) == 4 and 1900 <= number <= 2099:
            continue  # a year: "in 2018", "FY 2022", column headers

        unit: str | None
        currency = CURRENCIES.get(cur.lower()) if cur else None
        if pct:
            unit = "%"
        elif bps:
            unit = "bps"
        elif times:
            unit = "x"
        elif share and "share" in share and "shares" not in share:
            unit = f"{currency or 'USD'}/share"
        elif share:
            unit = "shares"
        else:
            unit = currency
        scale = SCALE_WORDS[scale_word.lower()] if scale_word else 1.0
        if unit in ("%", "bps", "x"):
            scale, scale_word = 1.0, None
        value = _scaled(raw, scale) * (-1 if negative else 1)
        figures.append(
            Figure(
                text=text[pstart:send].strip(),
                start=pstart,
                end=send,
                value=value,
                number=number,
                unit=unit,
                scale_word=scale_word,
                scale=scale,
                decimals=decimals,
                negative=negative,
            )
        )
    years = [(m.start(), m.end(), _year_of(m)) for m in _YEAR_MENTION.finditer(text)]
    fig_spans = [(f.start, f.end) for f in figures]
    years = [y for y in years if not any(s <= y[0] < e for s, e in fig_spans)]
    return figures, years


def _associate_years(text: str, figures: list[Figure], years: list[tuple[int, int, int]]) -> None:
    """Tie a figure to a year only when the text does so tightly: "44% in FY2022", "in FY2022 was 0.62%"."""
    for i, f in enumerate(figures):
        for ys, _ye, y in years:  # following: "3.0% in 2022", "$1.1 billion (FY2021)"
            if ys < f.end:
                continue
            if ys - f.end > 30:
                break
            if _FOLLOW_GAP.match(text[f.end : ys]):
                f.year = y
            break
        if f.year is not None:
            continue
        prev = [t for t in years if t[1] <= f.start]
        if not prev:
            continue
        ys, ye, y = prev[-1]
        gap = text[ye : f.start]
        prev_fig_end = figures[i - 1].end if i else -1
        if len(gap) <= 60 and "\n" not in gap and prev_fig_end <= ye and not _CONTRAST.search(gap):
            f.year = y


def extract_figures(text: str) -> list[Figure]:
    """Every figure in `text` with unit, scale, precision, sign and (when stated nearby) its year."""
    figures, years = _scan(text)
    _associate_years(text, figures, years)
    return figures


def years_in(text: str) -> list[int]:
    """Distinct years a text mentions ("FY2022", "fiscal 2021", "in 2018"), in order of appearance."""
    _, years = _scan(text)
    out: list[int] = []
    for _, _, y in years:
        if y not in out:
            out.append(y)
    return out


_ANSWER_SCALE = re.compile(
    r"(?i)\bin[ \t]+(?:units[ \t]+of[ \t]+)?(?:USD|US\$|\$|dollars)?[ \t]*(thousands|millions|billions)\b"
)


def scale_from_text(text: str) -> float | None:
    """Scale an instruction asks for: "Answer in USD millions" -> 1e6."""
    m = _ANSWER_SCALE.search(text)
    return SCALE_WORDS[m.group(1).lower()[:-1]] if m else None


# ---------------------------------------------------------------------------------------------
# Pages: stated scale and year columns

_HEADER_TOKEN = re.compile(
    r"(?i)^(?:(?:19|20)\d{2}|\d{1,2}|fiscal|years?|ended|ending|as|of|at|fy|months?|weeks?|three|six|nine|"
    r"twelve|fifty-two|fifty-three|quarters?|q[1-4]|full|and|the|for|restated|" + _MONTH + r")$"
)
_CELL_FILLER = re.compile(r"^[\s$€£%)(—–\-]*$")
_LABEL_STOP = re.compile(r"(?i)\b(?:of|and|or|to|in|at|by|from|for|was|were|is|than|approximately)[ \t$]*$")
_DASH_CELL = re.compile(r"(?<!\S)[—–-]{1,2}(?!\S)")


@dataclass(slots=True)
class _Cell:
    row: int
    col: int
    year: int | None  # None: a non-year column (e.g. "% change") of a row with year columns


@dataclass(slots=True)
class PageIndex:
    """What a page says about its numbers: figures, stated scales, table rows and their year columns."""

    figures: list[Figure]
    scales: list[float]
    cells: dict[int, _Cell]  # figure index -> cell, for rows resolved against a year header
    rows: dict[int, list[int | None]]  # row id -> figure index per column (None: empty cell)
    row_of: dict[int, int]  # figure index -> row id, for every figure that is a table cell
    contexts: list[str]  # per figure: its row label, or the sentence around it


def _is_header_line(line: str) -> tuple[bool, list[int]]:
    toks = re.findall(r"[A-Za-z][A-Za-z\-]*|\d+|[^\sA-Za-z\d]", line)
    if not toks:
        return False, []
    years: list[int] = []
    for t in toks:
        if t in ",.$":
            continue
        if not _HEADER_TOKEN.match(t):
            return False, []
        if len(t) == 4 and t.isdigit():
            years.append(int(t))
    # a date line without a year ("Year ended December 31,") may sit inside a header run
    return bool(years) or (any(t[0].isalpha() for t in toks) and not any(t.isdigit() for t in toks)), years


@dataclass(slots=True)
class _Rows:
    cells: dict[int, _Cell] = field(default_factory=dict)
    rows: dict[int, list[int | None]] = field(default_factory=dict)
    labels: dict[int, str] = field(default_factory=dict)


_BLANK = -1  # a whitespace-only line inside a row


def _table_rows(text: str, figures: list[Figure]) -> _Rows:
    """Rows of the page's tables, and the year column of each cell where a header says so.

    PDF text puts one cell per line, so a row is a label line followed by numeric-only lines; a
    whitespace-only line between cells is an empty cell. A header is a run of year-only lines
    ("2022\n2021\n2020"); rows whose cell count matches it (extra trailing percent cells allowed:
    "% change" columns) are resolved, others stay unknown.
    """
    out = _Rows()
    header: list[int] | None = None
    run: list[int] = []
    in_run = False
    row: list[int | None] = []
    label = ""
    heading = ""  # a label line without cells: "Current assets", or a label's first line
    pending_blank = 0
    row_id = 0
    fi = 0
    pos = 0

    def fits(cand: list[int | None], n: int) -> bool:
        extra = cand[n:]
        return len(cand) == n or (len(cand) > n and all(i is not None and figures[i].unit == "%" for i in extra))

    def close_row() -> None:
        nonlocal row, row_id, pending_blank, label
        # a blank line between cells is an empty cell in some PDFs and mere layout in others:
        # keep whichever reading fits the header
        with_blanks = [None if i == _BLANK else i for i in row]
        without = [i for i in row if i != _BLANK]
        row = without
        if without and header:
            n = len(header)
            for cand in (with_blanks, without):
                if fits(cand, n):
                    row = cand
                    for col, idx in enumerate(cand):
                        if idx is not None:
                            out.cells[idx] = _Cell(row_id, col, header[col] if col < n else None)
                    break
        if row:
            out.rows[row_id] = row
            out.labels[row_id] = label
            row_id += 1
        row, pending_blank, label = [], 0, ""

    for line in text.split("\n"):
        start, end = pos, pos + len(line)
        pos = end + 1
        line_figs: list[int] = []
        while fi < len(figures) and figures[fi].start < end:
            if figures[fi].start >= start:
                line_figs.append(fi)
            fi += 1
        stripped = line.strip()
        if not stripped:
            if row:
                pending_blank += 1
            continue
        is_header, hyears = _is_header_line(stripped) if not line_figs else (False, [])
        if is_header:
            if not in_run:
                close_row()
                run, in_run = [], True
            run.extend(hyears)
            continue
        if in_run:
            in_run = False
            if len(run) >= 2:
                header = run
        rest = line
        for i in reversed(line_figs):
            f = figures[i]
            rest = rest[: f.start - start] + " " * (f.end - f.start) + rest[f.end - start :]
        dashes = _DASH_CELL.findall(rest)
        if _CELL_FILLER.match(rest):
            # numeric-only line: continues the current row
            if row and pending_blank:
                row.extend([_BLANK] * pending_blank)
            pending_blank = 0
            row.extend(line_figs)
            row.extend([None] * len(dashes))
            continue
        # a label line: closes the row; trailing numbers on it are its first cells
        had_cells = bool(row)
        close_row()
        if len(stripped.split()) >= 20:  # prose (long labels run to ~15 words): tables around it are separate
            header, heading = None, ""
            continue
        trailing: list[int] = []
        cut = len(line)
        for i in reversed(line_figs):
            f = figures[i]
            if _CELL_FILLER.match(line[f.end - start : cut]):
                trailing.insert(0, i)
                cut = f.start - start
            else:
                break
        text_part = line[:cut].strip()
        label = f"{heading} {text_part}".strip() if not had_cells and heading else text_part
        heading = text_part if not trailing else ""
        if trailing and not _LABEL_STOP.search(line[:cut]) and re.search(r"[A-Za-z]", line[:cut]):
            row = trailing
    close_row()
    return out


_SENTENCE_END = re.compile(r"[.!?;](?=\s)|\n[ \t]*\n")


def _sentence(text: str, start: int, end: int, left: int = 250, right: int = 150) -> tuple[int, int]:
    lo = max(0, start - left)
    ends = [m.end() for m in _SENTENCE_END.finditer(text, lo, start)]
    s = ends[-1] if ends else lo
    m = _SENTENCE_END.search(text, end, min(len(text), end + right))
    return s, (m.start() if m else min(len(text), end + right))


@lru_cache(maxsize=512)
def analyze_page(text: str) -> PageIndex:
    """Figures, stated scales, table rows (with year columns) and contexts of a page; cached."""
    figures, years = _scan(text)
    # the page number printed at the foot (or head) of the page is not a figure
    lines = [ln for ln in text.strip().split("\n") if ln.strip()]
    edges = {ln.strip() for ln in (lines[:1] + lines[-1:]) if ln.strip().isdigit() and len(ln.strip()) <= 4}
    if edges:
        head, foot = text.find(lines[0]), text.rfind(lines[-1])
        figures = [f for f in figures if not (f.text in edges and (f.start < head + len(lines[0]) or f.start >= foot))]
    _associate_years(text, figures, years)
    scales = stated_scales(text)
    tr = _table_rows(text, figures)
    row_of = {i: rid for rid, cells in tr.rows.items() for i in cells if i is not None}
    contexts = []
    for i, f in enumerate(figures):
        if i in row_of:
            contexts.append(tr.labels.get(row_of[i], ""))
        else:
            a, b = _sentence(text, f.start, f.end)
            contexts.append(text[a:b])
    return PageIndex(figures=figures, scales=scales, cells=tr.cells, rows=tr.rows, row_of=row_of, contexts=contexts)


# ---------------------------------------------------------------------------------------------
# Context words: does the page figure speak of the same thing as the answer figure?

_STOP = frozenset(
    """
    a an the and or of to in on at by for from with as is was were be been being are this that these those it its
    their our we us's which what how much many did does do has have had will would can could should may might
    than then there here also into over under about approximately roughly around nearly almost some any all
    not no yes his her him she he they them you your i me my so such only other others each both more most less
    year years fiscal fy ended ending end period periods quarter quarters month months full total company companies
    million millions billion billions thousand thousands dollar dollars usd amount amounts value values number
    per cent percent percentage compared prior current previous last next increase increased increases decrease
    decreased decreases change changed changes grew grow growth declined decline declines rose fell drop dropped
    higher lower up down approximately respectively including excluding based basis primarily mainly
    answer question following best abilities ability using use used basing judgment judgments information provided
    shown details detail outlined clearly plainly stated statement statements perspective investment analyst
    respond response assuming assume only within units unit round rounded decimal places place calculate calculation
    compute computed extract extracted help metric metrics financial defined define definition reasonable
    approximation exact possible give solution relying rely drawing draw conclusions conclusion position
    equity research lost internet connection access providers provider details need want please state explain
    why if whether given case ratio note notes page table see refer section item
    """.split()
)
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "revenue": ("sale",),
    "sale": ("revenue",),
    "income": ("earning", "profit"),
    "earning": ("income", "profit"),
    "profit": ("income", "earning"),
    "eps": ("earning", "share"),
    "adj": ("adjusted",),
    "capex": ("capital", "expenditure"),
    "ppe": ("property", "equipment"),
    "cogs": ("cost",),
}


def _stem(w: str) -> str:
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
    words = {_stem(w) for w in re.findall(r"[a-z][a-z&'’]*", t.lower())}
    return frozenset(w for w in words if w == "us" or (len(w) > 2 and w not in _STOP and _stem(w) not in _STOP))


def _agrees(words: frozenset[str], page_context: str) -> bool:
    """True when the page figure's label/sentence shares a content word with the answer's context,
    or when either side has none (nothing to disagree about). Squashed PDF labels
    ("Netcashprovidedbyoperatingactivities") are searched by substring."""
    if not words:
        return True
    page_words = content_words(page_context)
    if not page_words:
        return True
    squashed = [w for w in page_words if len(w) > 15]
    for w in words:
        for v in (w, *_SYNONYMS.get(w, ())):
            if v in page_words or (len(v) >= 4 and any(v in sq for sq in squashed)):
                return True
    return False


def _readings(sf: Figure, in_row: bool, stated: Sequence[float], scale_hint: float | None) -> list[float]:
    """Scales at which a page figure may be read. Prose writes its scale ("$1.6 billion"); a bare
    prose number is what it says. Table cells are at the page's stated scale (or a hint, or any
    usual scale when the page does not say), and also as written when they have decimals
    (per-share amounts and ratios in a table "in millions, except per share amounts")."""
    if sf.scale_word:
        return [sf.scale]
    if sf.unit in ("%", "bps", "x") or (sf.unit or "").endswith("/share"):
        return [1.0]
    if not in_row:
        return [1.0, *stated] if (sf.unit and stated) else [1.0]
    scales = [scale_hint] if scale_hint else (list(stated) or [1.0, *PAGE_SCALES])
    if sf.decimals and 1.0 not in scales:
        scales.append(1.0)
    return scales


def _find(
    figure: Figure,
    source_text: str,
    scale_hint: float | None = None,
    year: int | None = None,
    *,
    context: frozenset[str] | None = None,
    exact: bool = False,
    any_unit: bool = False,
) -> tuple[Match | None, Match | None]:
    """(match, a candidate rejected only for its year column). `exact`: compare at float precision."""
    page = analyze_page(source_text)
    target = abs(figure.value)
    tol = 1e-9 * max(1.0, target) if exact else figure.tolerance() + 1e-9 * max(1.0, target)
    best: Match | None = None
    best_rank = -1
    wrong_year: Match | None = None
    for idx, sf in enumerate(page.figures):
        if not any_unit:
            if figure.unit == "%":
                # a table prints "(0.9)" under a "% change" header: bare numbers may be percents
                if not (sf.unit == "%" or (sf.unit is None and sf.scale_word is None)):
                    continue
            elif sf.unit in ("%", "bps"):
                continue
        in_row = idx in page.row_of
        # percents are compared as printed; other figures at each plausible page scale
        pct = figure.unit == "%" and not any_unit
        readings = [1.0] if pct else _readings(sf, in_row, page.scales, scale_hint)
        for scale in readings:
            val = abs(sf.value) if sf.scale_word else sf.number * scale
            if abs(val - target) > tol:
                continue
            if context is not None and not _agrees(context, page.contexts[idx]):
                break  # same number, different line item
            cell = page.cells.get(idx)
            src_year = cell.year if cell else sf.year
            m = Match(
                source_key=None,
                start=sf.start,
                end=sf.end,
                text=sf.text,
                value=val,
                scale=scale,
                year=src_year,
                row=page.row_of.get(idx),
                col=cell.col if cell else None,
            )
            if year is not None and ((src_year is not None and src_year != year) or (cell and cell.year is None)):
                # the neighbouring year's column, or a "% change" column of a row with year columns
                wrong_year = wrong_year or m
                break
            # prefer a cell confirmed in the right column, then a stated (not guessed) scale
            rank = (2 if (year is not None and src_year == year) else 0) + (1 if scale in page.scales else 0)
            if rank > best_rank:
                best, best_rank = m, rank
            break
    return best, wrong_year


def find_support(
    figure: Figure,
    source_text: str,
    scale_hint: float | None = None,
    *,
    year: int | None = None,
    context: str | None = None,
) -> Match | None:
    """Where `figure` appears on the page within the answer's rounding, or None.

    Table cells are read at `scale_hint`, else at the scale the page states ("(In millions)"), else
    at any of units/thousands/millions/billions; prose numbers as written or with their scale word.
    Signs are compared by magnitude (prose says "a decline of 0.6%" where a table prints "(0.6)").
    When `year` (default: `figure.year`) is given and the cell sits in a row with year columns, it
    must be that year's column. With `context` (text about the figure: "cash dividends paid"), the
    page figure's row label or sentence must share a content word with it.
    """
    words = content_words(context) if context is not None else None
    return _find(figure, source_text, scale_hint, figure.year if year is None else year, context=words)[0]


# ---------------------------------------------------------------------------------------------
# Whole answers


_CLAUSE_BREAK = re.compile(r"(?i),|\b(?:vs\.?|versus|whereas|while|but|compared)\b")


def answer_contexts(text: str, figures: Sequence[Figure], question: str = "") -> list[frozenset[str]]:
    """Per figure, the words of the answer that say what it is: its clause ("US sales increased 3.0%"
    | "vs international sales decline of 0.6%"), else its sentence, else the question."""
    out = []
    for i, f in enumerate(figures):
        s, e = _sentence(text, f.start, f.end, left=400, right=400)
        lo = max(s, figures[i - 1].end if i else 0)
        hi = min(e, figures[i + 1].start if i + 1 < len(figures) else len(text))
        breaks_left = [m.end() for m in _CLAUSE_BREAK.finditer(text, lo, f.start)]
        lo = breaks_left[-1] if breaks_left else lo
        m = _CLAUSE_BREAK.search(text, f.end, hi)
        hi = m.start() if m else hi
        words = content_words(text[lo : f.start] + " " + text[f.end : hi])
        if not words:
            words = content_words(text[s : f.start] + " " + text[f.end : e])
        if not words:
            words = content_words(question)
        out.append(words)
    return out


def _value_figure(value: float) -> Figure:
    return Figure(text=repr(value), start=0, end=0, value=value, number=abs(value), decimals=12)


def check_answer(
    answer_text: str,
    sources: Mapping[str, str],
    calculations: Sequence[CalcStep] = (),
    *,
    question: str = "",
    answer_scale: float | None = None,
) -> GroundingReport:
    """Check every figure of an answer against its cited pages (`sources`: citation key -> page text)
    and its logged calculations.

    A figure is supported when a cited page has it (see `find_support`) or when a calculation step
    gives it within the answer's rounding and each of that step's inputs is on its cited page (in
    the input's year column when `year` is set) or is the result of another supported step.
    `question` lends its scale ("Answer in USD millions") to bare answer figures and, when it names
    one fiscal year only, that year to figures the answer does not tie to a year.
    """
    scale = answer_scale or scale_from_text(question)
    q_years = years_in(question) if question else []
    q_year = q_years[0] if len(q_years) == 1 else None
    step_ok: dict[int, bool] = {}

    def input_supported(value: float, citation: str | None, year: int | None, depth: int) -> bool:
        fig = _value_figure(value)
        keys = [citation] if citation is not None else list(sources)
        for k in keys:
            if k in sources and _find(fig, sources[k], None, year, exact=True, any_unit=True)[0]:
                return True
        # chained: the input is the result of another supported step
        return any(
            math.isclose(abs(s.result), abs(value), rel_tol=1e-9) and supported_step(j, depth + 1)
            for j, s in enumerate(calculations)
        )

    def supported_step(i: int, depth: int = 0) -> bool:
        if depth > len(calculations):  # a cycle of steps supporting each other
            return False
        if i not in step_ok:
            step = calculations[i]
            try:
                ok = step.verify()
            except CalculatorError:
                ok = False
            step_ok[i] = ok and all(input_supported(x.value, x.citation, x.year, depth) for x in step.inputs)
        return step_ok[i]

    report = GroundingReport()
    figures = extract_figures(answer_text)
    contexts = answer_contexts(answer_text, figures, question)
    for fig, ctx in zip(figures, contexts, strict=True):
        f = fig
        if f.year is None and q_year is not None:
            f = replace(f, year=q_year)
        if scale and not f.scale_word and f.unit in (None, "USD", "EUR", "GBP"):
            f = f.rescaled(scale)
        check = FigureCheck(figure=f, supported=False)
        wrong: tuple[str, Match] | None = None
        for key, text in sources.items():
            m, w = _find(f, text, None, f.year, context=ctx)
            if m:
                m.source_key = key
                check.supported, check.match, check.reason = True, m, f"on {key}"
                break
            if w and wrong is None:
                w.source_key = key
                wrong = (key, w)
        if not check.supported:
            for i, step in enumerate(calculations):
                if (step.unit == "%") != (f.unit == "%"):
                    continue
                if abs(abs(step.result) - abs(f.value)) <= f.tolerance() + 1e-9 * max(1.0, abs(f.value)):
                    if supported_step(i):
                        check.supported, check.calc_index = True, i
                        check.reason = f"calculation {i} ({step.op}) with supported inputs"
                        break
                    check.reason = f"calculation {i} gives it but its inputs are not on the cited pages"
        if not check.supported and not check.reason:
            if wrong:
                check.match = wrong[1]
                col = f"the {wrong[1].year} column" if wrong[1].year else "a non-year column"
                check.reason = f"on {wrong[0]} only in {col}, not {f.year}"
            else:
                check.reason = "not on the cited pages and not a logged calculation"
        report.checks.append(check)
    return report
