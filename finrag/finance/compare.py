"""Comparisons and superlatives over the rows of a table: "which segment had the highest operating income
in FY2022", "which region had the worst topline performance", "among operating, investing and financing
activities, which brought in the most cash". Pure: page text in, ranked rows out.

A page is read as blocks of rows (a label followed by numeric cells); a block's title is the text above
it (a heading line such as "Operating income:", or a table title such as "SUPPLEMENTAL DATA - NET
REVENUES"). Each row's cell is taken from the column of the fiscal year asked, within the column group
of the period asked ("Three months ended / Twelve months ended"): a question about a quarter never gets
an annual column, nor an annual question a quarter's. Ranked by level, or by the change from the year
before when the question asks about growth or performance. The rules are data (`data/compare.toml`)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from finrag.finance.companies import base_name
from finrag.finance.data import load
from finrag.finance.dates import column_fiscal_years
from finrag.finance.figures import extract_figures
from finrag.finance.periods import header_durations
from finrag.finance.scales import stated_scales
from finrag.finance.words import label_stem, label_terms

_DATA = load("compare")
_S = _DATA["superlative"]
_HIGH = re.compile(_S["high"], re.I)
_LOW = re.compile(_S["low"], re.I)
_GROWTH = re.compile(_S["growth"], re.I)
_DECLINE = re.compile(_S["decline"], re.I)
_AMONG = re.compile(_S["among"], re.I)
_NOT_MEMBER = re.compile(_S["not_member"], re.I)
_GENERIC = frozenset(label_stem(w) for w in _S["generic"])
_STOP = frozenset(label_stem(w) for w in ("and", "the", "had", "have", "has", "its", "which", "what"))
_GROWTH_MEASURE: str = _S["growth_measure"]
_MEASURES = tuple((re.compile(m["ask"], re.I), tuple(m["filing"])) for m in _DATA["measures"])

_NOTE_REF = re.compile(r"(?i)\((?:note|notes)\s*[\d\s,and]+\)|\(\d\)|\([a-z]\)(?=\s)")
_CELL = r"(?:\$?\s?\(?-?[\d,]*\d(?:\.\d+)?\)?%?|—|–)"
# a row: a label, then money cells ("Industrial Automation $ 318 $ 320", "Upstream (1,068) 954")
_ROW = re.compile(rf"^(?P<label>[A-Za-z][^$\d]*?)\s+(?P<cells>{_CELL}(?:\s+{_CELL})*)$")
_CELL_RE = re.compile(r"\(?-?[\d,]*\d(?:\.\d+)?\)?|—|–")
_YEAR = re.compile(r"(?<![\d,.$])((?:19|20)\d{2})(?![\d,.%])")
_MONTH_DAY = re.compile(
    r"(?i)\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d{1,2}(?:st|nd|rd|th)?,?"
)


@dataclass(frozen=True, slots=True)
class Superlative:
    """What a comparison question asks: the highest or lowest `measure`, by level or by growth, among the
    rows of a table or among the `candidates` the question names."""

    highest: bool
    measure: str  # "operating income", as the question says it
    word: str  # "highest"
    growth: bool = False  # ranked by the change from the year before
    candidates: tuple[str, ...] = ()  # "operations", "investing", "financing activities"
    phrase: str = ""  # the question's words from the superlative to the measure ("largest increase in sales")


@dataclass(frozen=True, slots=True)
class Member:
    label: str
    value: float  # in base units (dollars)
    printed: str
    line: str  # the row as printed
    prior: float | None = None  # the year before, same period, in base units
    prior_printed: str = ""

    @property
    def growth(self) -> float | None:
        """Percent change from the year before (None without a prior year, or from zero)."""
        if self.prior is None or self.prior == 0:
            return None
        return (self.value - self.prior) / abs(self.prior) * 100


@dataclass(slots=True)
class _Block:
    title: str  # the non-row lines above the rows (headings, table titles, column headers)
    rows: list[tuple[str, list[str], str]] = field(default_factory=list)  # label, cells, line
    start: int = 0  # character offset of the first row
    years: list[int] = field(default_factory=list)
    durations: list[int] = field(default_factory=list)
    scale: float = 1e6


def _measure_of(rest: str) -> str:
    return re.split(r"(?i)\b(?:in|for|during|of|among|at|as|by|from|than)\b|[?,.(]", rest, maxsplit=1)[0].strip()


def read_superlative(question: str, companies: Sequence[str] = ()) -> Superlative | None:
    """ "the highest operating income in FY2022" -> (highest, "operating income"); None when not asked.
    `companies`: names of the companies asked about, whose words are not superlatives ("Best Buy")."""
    for name in companies:
        base = base_name(name)
        if base:
            question = re.sub(re.escape(base), lambda m: " " * len(m.group(0)), question, flags=re.I)
    among = _AMONG.search(question)
    candidates: tuple[str, ...] = ()
    if among:
        parts = re.split(r"\s*,\s*(?:and\s+|or\s+)?|\s+(?:and|or)\s+", among.group("list").strip())
        candidates = tuple(p.strip() for p in parts if p.strip())
        if len(candidates) < 2:
            candidates = ()
    hits = sorted(
        ((m, highest) for rx, highest in ((_HIGH, True), (_LOW, False)) for m in rx.finditer(question)),
        key=lambda x: x[0].start(),
    )
    for m, highest in hits:
        rest = question[m.end() :]
        measure = _measure_of(rest)
        if not measure and candidates:
            # "which brought in the most (or lost the least) cash flow": the words after the aside
            measure = _measure_of(re.sub(r"^\s*\([^)]*\)", "", rest))
        clause = question[m.start() : m.end() + len(rest) - len(rest.lstrip()) + len(measure)]
        growth = bool(_GROWTH.search(clause)) and not candidates
        if measure and not _GROWTH.sub(" ", measure).strip():
            # "the largest increase in operating income": the measure follows the change word
            after = re.match(r"(?i)\s*\S+(?:\s+\S+)*?\s+(?:in|of)\s+(.+)", rest)
            measure = _measure_of(after.group(1)) if after else ""
        phrase = m.group(0).strip()
        if measure and measure in rest:
            phrase = question[m.start() : m.end() + rest.index(measure) + len(measure)].strip()
        if not measure and not candidates and _GROWTH.search(question):
            measure, growth = _GROWTH_MEASURE, True  # "which segment grew fastest": its sales
            phrase = f"{phrase} {measure} growth"
        if growth and _DECLINE.search(phrase):
            highest = not highest  # "the biggest decline": the lowest change
        if measure or candidates:
            return Superlative(highest, measure, m.group(0).strip(), growth, candidates, phrase)
    return None


def _value(cell: str) -> float:
    if cell in ("—", "–"):
        return 0.0
    neg = cell.startswith("(") or cell.startswith("-")
    return -float(cell.strip("()-").replace(",", "")) if neg else float(cell.strip("()-").replace(",", ""))


def _header_years(lines: list[str]) -> list[int]:
    """Column years of the header lines above a block, read bottom-up: one line "2023 2022", or one year
    per line ("December 31,\\n2022\\nDecember 31,\\n2021"), or dates ("January 28, 2023 January 29, 2022")."""
    years: list[int] = []
    for line in reversed(lines):
        flat = _MONTH_DAY.sub(" ", line)
        found = [int(y) for y in _YEAR.findall(flat)]
        others = re.findall(r"\d[\d,.]*", _YEAR.sub(" ", flat))
        if not found or others:
            if years and header_durations(line):
                break  # the period header above the column years
            continue
        years = found + years
        if len(found) >= 2:
            break  # a one-line header holds them all
    return years


def blocks(text: str) -> list[_Block]:
    """The page's blocks of rows, each with its title, column years, period groups and scale."""
    out: list[_Block] = []
    head: list[str] = []  # non-row lines since the last block
    cur: _Block | None = None
    page_scale = (stated_scales(text) or [1e6])[0]
    pos = 0
    for raw in text.split("\n"):
        start, pos = pos, pos + len(raw) + 1
        line = _NOTE_REF.sub("", raw).strip()
        m = _ROW.match(line)
        if m is None or not re.search(r"[A-Za-z]{2}", m.group("label")):
            if cur is not None:
                out.append(cur)
                cur, head = None, []
            if line:
                head.append(line)
            continue
        if cur is None:
            context = head[-12:]
            # a title is a short line, not prose: the bullets and sentences above a table name other things
            cur = _Block(title="\n".join(ln for ln in context if _title_line(ln)), start=start)
            years = _header_years(context)
            durations = _durations(context)
            if years:
                # "January 1, 2023  January 2, 2022": the columns of fiscal 2022 and 2021
                years = column_fiscal_years("\n".join(context), years, durations)
            # a group under a heading line ("Operating income:") inherits the columns of the table above
            cur.years = years or (out[-1].years if out else [])
            cur.durations = durations or (out[-1].durations if out and not years else [])
            cur.scale = (stated_scales(cur.title) or [page_scale])[0]
        cur.rows.append((m.group("label").strip(), _CELL_RE.findall(m.group("cells")), line))
        if re.match(r"(?i)total\b", m.group("label")):
            out.append(cur)  # a total closes its group
            cur, head = None, []
    if cur is not None:
        out.append(cur)
    return out


def _title_line(line: str) -> bool:
    return len(line) <= 100 and not re.search(r"[$%]|^[•·▪◦(]|[.;,]$|\.\s", line)


def _per_share(cells: list[str]) -> bool:
    """Cells with cents ("3.49"): per-share amounts or ratios, not amounts at the table's scale."""
    return any(re.search(r"\.\d{2}\)?$", c) for c in cells)


def _durations(lines: list[str]) -> list[int]:
    for line in reversed(lines):
        if len(line) < 120 and not re.search(r"[$%]", line):
            found = header_durations(line)
            if found:
                return found
    return []


def column(years: list[int], durations: list[int], year: int, months: int | None) -> int | None:
    """The cell index of `year` in the column group of the period asked (`months`, None: a year).
    None when the table has no such column: a quarter is never read from an annual table, nor a year
    from a quarter's, nor any column from a table whose repeated years name no period."""
    want = months or 12
    if durations and len(years) % len(durations) == 0:
        if want not in durations:
            return None
        width = len(years) // len(durations)
        k = durations.index(want)
        group = years[k * width : (k + 1) * width]
        return k * width + group.index(year) if year in group else None
    if want != 12 or len(set(years)) != len(years) or year not in years:
        return None  # no period header: an annual table, which never answers a quarter
    return years.index(year)


def _member(label: str, cells: list[str], line: str, b: _Block, col: int, prior_col: int | None) -> Member:
    prior = _value(cells[prior_col]) * b.scale if prior_col is not None else None
    return Member(
        label, _value(cells[col]) * b.scale, cells[col], line, prior, cells[prior_col] if prior_col is not None else ""
    )


Concept = tuple[frozenset[str], ...]  # alternative phrases (each a set of word stems) naming one thing


def _stems(text: str) -> frozenset[str]:
    return frozenset(label_stem(w) for w in label_terms(text)) - _GENERIC - _STOP


def _measure_terms(measure: str) -> list[Concept]:
    """The measure as concepts: "topline performance" -> [(revenue | revenues | sales)]; "operating income"
    -> [(operat), (income)]."""
    out: list[Concept] = []
    for rx, filing in _MEASURES:
        if rx.search(measure):
            out.append(tuple(_stems(f) for f in filing))
            measure = rx.sub(" ", measure)
    out += [(frozenset({w}),) for w in sorted(_stems(measure))]
    return out


def _names(concept: Concept, words: set[str] | frozenset[str]) -> bool:
    return any(phrase and phrase <= words for phrase in concept)


def _columns(b: _Block, year: int, months: int | None, growth: bool) -> tuple[int, int | None] | None:
    col = column(b.years, b.durations, year, months)
    if col is None:
        return None
    prior = column(b.years, b.durations, year - 1, months)
    if growth and prior is None:
        return None
    return col, prior


def ranked_members(
    text: str, measure: str, year: int, *, months: int | None = None, growth: bool = False
) -> list[Member]:
    """The members of the block whose title names `measure`, in `year`'s column of the period asked, best
    first (highest value, or highest growth with `growth`); [] if none."""
    terms = _measure_terms(measure)
    if not terms:
        return []
    best: tuple[float, list[Member]] | None = None
    for b in blocks(text):
        cols = _columns(b, year, months, growth)
        if cols is None:
            continue
        title_terms = {label_stem(w) for w in label_terms(b.title)}
        # the heading right above the rows names the measure best ("Operating income:")
        last = {label_stem(w) for w in label_terms(b.title.split("\n")[-1])} if b.title else set()
        score = sum(_names(c, title_terms) for c in terms) / len(terms) + 0.5 * all(_names(c, last) for c in terms)
        if score < 0.5:
            continue
        members = [
            _member(label, cells, line, b, *cols)
            for label, cells, line in b.rows
            if len(cells) == len(b.years) and not _NOT_MEMBER.search(label) and not _per_share(cells)
        ]
        if growth:
            members = [m for m in members if m.growth is not None]
        if len(members) >= 2 and (best is None or score > best[0]):
            best = (score, members)
    if best is None:
        return []
    key = (lambda x: -(x.growth or 0.0)) if growth else (lambda x: -x.value)
    return sorted(best[1], key=key)


def candidate_members(text: str, sup: Superlative, year: int, *, months: int | None = None) -> list[Member]:
    """One row per candidate the question names ("operations", "investing"), in `year`'s column, best first.
    A candidate's row holds its word and the most measure words; totals are preferred ("Total cash
    provided by operating activities" over a line item inside the section)."""
    terms = _measure_terms(sup.measure)
    found: list[Member] = []
    for cand in sup.candidates:
        key = next((label_stem(w) for w in label_terms(cand) if label_stem(w) not in _GENERIC | _STOP), None)
        if key is None:
            return []
        best: tuple[float, Member] | None = None
        for b in blocks(text):
            cols = _columns(b, year, months, False)
            if cols is None:
                continue
            for label, cells, line in b.rows:
                words = {label_stem(w) for w in label_terms(label)}
                if key not in words or len(cells) != len(b.years):
                    continue
                score = sum(_names(c, words) for c in terms) + (1.0 if re.match(r"(?i)(?:total|net)\b", label) else 0.0)
                if best is None or score > best[0]:
                    best = (score, _member(label, cells, line, b, *cols))
        if best is None:
            return []
        found.append(best[1])
    if len({m.line for m in found}) != len(found):
        return []  # two candidates read the same row: not a comparison
    return sorted(found, key=lambda x: -x.value)


def named_row(text: str, question: str, year: int, prior_year: int, *, months: int | None = None) -> Member | None:
    """The row the question names ("Did Northwind's Industrial Automation revenue rise in FY2022?"), with
    `year`'s cell and `prior_year`'s (as `prior`), in the period asked; None unless one row is named.
    Every word of the row's label must be in the question; the words the label leaves out ("revenue")
    must be named by its group's title when the label does not say them itself."""
    asked = set(_stems(question))
    best: tuple[float, Member] | None = None
    tied = False
    for b in blocks(text):
        col = column(b.years, b.durations, year, months)
        prior = column(b.years, b.durations, prior_year, months)
        if col is None or prior is None:
            continue
        title = set(_stems(b.title))
        last = set(_stems(b.title.split("\n")[-1])) if b.title else set()
        for label, cells, line in b.rows:
            words = set(_stems(label))
            if not words or not words <= asked or len(cells) != len(b.years):
                continue
            rest = asked - words
            # the heading right above the rows ("Operating income:") names the measure best
            score = len(words) + 0.5 * len(rest & title) + len(rest & last)
            if best is not None and score == best[0] and best[1].line != line:
                tied = True
            elif best is None or score > best[0]:
                best, tied = (score, _member(label, cells, line, b, col, prior)), False
    if best is None or tied:
        return None
    return best[1]


_P = _DATA["prose"]
_NOT_OWNER = frozenset(_P["not_owner"])
_PRIOR = re.compile(_P["prior"], re.I)
_NEGATIVE = re.compile(_P["negative"], re.I)
_INTERIM = re.compile(_P["interim"], re.I)
_MAX_FIGURES = int(_P["max_figures"])
_BULLET = re.compile(r"^[•·▪◦\-–*]\s*")
_OWNER_RUN = re.compile(r"^((?:[A-Z][A-Za-z&.'’-]*|and|of|&)(?:\s+(?:[A-Z][A-Za-z&.'’-]*|and|of|&))*)")


def _owner_of(line: str) -> str:
    """The segment a line names first: its leading capitalised words ("Industrial Automation"), unless they
    are words that lead any sentence ("Segment", "Net", "The")."""
    m = _OWNER_RUN.match(line)
    if m is None:
        return ""
    words = m.group(1).split()
    while words and words[-1].lower() in ("and", "of", "&"):
        words.pop()
    if not words or words[0].lower() in _NOT_OWNER:
        return ""
    return " ".join(words)


def _heading(line: str) -> bool:
    """A short line of capitalised words and no figure: a segment's heading ("Regional Operations")."""
    words = line.split()
    return (
        0 < len(words) <= 6
        and not re.search(r"[\d$%:.;,]", line)
        and all(w[0].isupper() or w in ("and", "of", "&") for w in words)
    )


def _items(text: str) -> list[tuple[str, str]]:
    """(segment, sentence) pairs: lines re-joined into sentences, each owned by the segment heading above
    it or by the segment name leading its paragraph."""
    items: list[tuple[str, str]] = []
    owner = ""
    for raw in text.split("\n"):
        stripped = raw.strip()
        if not stripped:
            continue
        bullet = bool(_BULLET.match(stripped))
        line = _BULLET.sub("", stripped)
        if not bullet and _heading(line):
            owner = _owner_of(line)  # "" for a section title such as "Segment Results"
            continue
        if items and not bullet and not items[-1][1].rstrip().endswith((".", ";")):
            items[-1] = (items[-1][0], items[-1][1] + " " + line)  # the sentence goes on
            continue
        if not bullet:
            owner = _owner_of(line) or owner  # a paragraph led by a segment's name
        items.append((owner, line))
    return [(who, s) for who, item in items for s in re.split(r"(?<=[.;])\s+", item) if who and s]


def prose_members(text: str, measure: str, year: int, *, months: int | None = None) -> list[Member]:
    """Segment figures written as prose, best first: for each segment (a heading line, or the name leading
    its paragraph) the first amount after the measure's words in its first sentence naming the measure,
    and the amount after "compared to" as the year before. [] unless two or more segments state it. A
    quarter is read only from sentences naming a shorter period, a year only from sentences naming none."""
    terms = _measure_terms(measure)
    if not terms:
        return []
    found: dict[str, Member] = {}
    for who, sentence in _items(text):
        if who in found or (_INTERIM.search(sentence) is not None) != (months in (3, 6, 9)):
            continue
        if any(_names(c, set(_stems(who))) for c in terms):
            continue  # a heading naming the measure ("Selected Revenue Data") is a title, not a segment
        if not all(_names(c, set(_stems(sentence))) for c in terms):
            continue
        named = [
            w.end()
            for w in re.finditer(r"[A-Za-z]+", sentence)
            if any(label_stem(w.group(0).lower()) in p for c in terms for p in c)
        ]
        figures = extract_figures(sentence)
        if len(figures) > _MAX_FIGURES:
            continue  # a table flattened into one line, not a sentence about one segment
        amounts = [f for f in figures if f.unit == "USD" and named and f.start > named[0]]
        cur = next((f for f in amounts if f.year in (None, year)), None)
        if cur is None:
            continue
        value = -abs(cur.value) if _NEGATIVE.search(sentence[: cur.start]) else cur.value
        prior_m = _PRIOR.search(sentence, cur.end)
        prior = next(
            (f for f in amounts if prior_m is not None and f.start > prior_m.start() and f.year in (None, year - 1)),
            None,
        )
        prior_value = None
        if prior is not None:
            prior_value = -abs(prior.value) if _NEGATIVE.search(sentence[: prior.start]) else prior.value
        found[who] = Member(who, value, cur.text, sentence, prior_value, prior.text if prior is not None else "")
    if len(found) < 2:
        return []
    return sorted(found.values(), key=lambda x: -x.value)
