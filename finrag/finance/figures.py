"""Figures in text and on filing pages.

- `extract_figures(text)`: the figures of free text ("$1,577 million", "(234)", "12.4%", "USD 2.5bn",
  "10.21 per share", "0.41x") with value in base units, unit, scale word and written precision; years,
  dates, page references ("[doc p.12]") and section numbers ("Item 7A", "Note 19") are not figures.
- `years_in(text)`: the years a text mentions; `scale_from_text`: the scale an instruction asks for.
- `analyze_page(text)`: a page's figures, stated scale, table rows with year columns, and contexts.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache

from finrag.finance.dates import column_fiscal_years
from finrag.finance.periods import header_durations
from finrag.finance.scales import SCALE_WORDS, stated_scales

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
# A bare year token anywhere ("2019" in a label, a header or a question), for cues that need no context.
YEAR_TOKEN = re.compile(r"\b((?:19|20)\d{2})\b")
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


def _fiscal_header(lines: list[str], years: list[int]) -> list[int]:
    """A header run's column years as fiscal years: "At January 1, 2023 and January 2, 2022" heads fiscal
    2022 and 2021 (`dates.column_fiscal_years`)."""
    text = "\n".join(lines)
    return column_fiscal_years(text, years, header_durations(text))


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
    run_text: list[str] = []
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
                run, run_text, in_run = [], [], True
            run.extend(hyears)
            run_text.append(stripped)
            continue
        if in_run:
            in_run = False
            if len(run) >= 2:
                header = _fiscal_header(run_text, run)
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
