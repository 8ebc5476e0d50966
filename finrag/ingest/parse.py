"""PDF text and table extraction with pypdfium2.

pdfium's `get_text_range()` keeps a table row (label and figures) on one line, which is what the
chunker and the extractive answerer need, so the text is used as pdfium gives it, only cleaned.
Tables are found with a cheap line heuristic (the corpus has ~10,000 pages and must parse in
well under a minute), not with layout analysis.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from finrag.ingest.render import PDFIUM_LOCK
from finrag.protocols import ParseError
from finrag.records import Page, Table

log = logging.getLogger(__name__)

_MAGIC = b"%PDF-"
_MAGIC_WINDOW = 1024  # the PDF spec lets the header start anywhere in the first 1024 bytes

# ---------------------------------------------------------------------------------------------
# Text clean-up
# ---------------------------------------------------------------------------------------------

# Control characters other than \n and \t, plus Unicode non-characters pdfium emits.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufeff\uffff\u200b\u00ad]")
_TRAILING_WS = re.compile(r"[ \t]+$", re.MULTILINE)
_BLANK_RUNS = re.compile(r"\n{3,}")


def normalise_text(text: str) -> str:
    """Clean pdfium text: one newline style, no control characters, no trailing spaces,
    at most one blank line in a row. Rows stay on their lines."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # pdfium marks a hyphen it found at a line break with U+FFFE ("forward\ufffelooking").
    text = text.replace("\ufffe", "-").replace("\u00a0", " ").replace("\t", " ")
    text = _CONTROL.sub("", text)
    text = _TRAILING_WS.sub("", text)
    text = _BLANK_RUNS.sub("\n\n", text)
    return text.strip("\n")


# ---------------------------------------------------------------------------------------------
# Reflow of "one word per line" pages
# ---------------------------------------------------------------------------------------------

_SEGMENT = re.compile(r"[^\r\n]+")


def _is_fragmented(lines: list[str]) -> bool:
    """Justified text positioned word by word comes out of pdfium one word per line."""
    if len(lines) < 30:
        return False
    single = sum(1 for line in lines if " " not in line.strip())
    return single > 0.6 * len(lines)


def _reflow(textpage: pdfium.PdfTextPage, raw: str) -> str | None:
    """Rebuild visual lines from the position of each pdfium line; None when it cannot help."""
    if textpage.count_chars() != len(raw):
        return None  # char indices and string offsets disagree: positions would be wrong
    # (centre y, height, left x, right x, text) of each pdfium line
    items: list[tuple[float, float, float, float, str]] = []
    for match in _SEGMENT.finditer(raw):
        seg = match.group()
        stripped = seg.strip()
        if not stripped:
            continue
        first = match.start() + (len(seg) - len(seg.lstrip()))
        last = first + len(stripped) - 1
        left, bottom, _right, top = textpage.get_charbox(first)
        right = textpage.get_charbox(last)[2]
        items.append(((bottom + top) / 2, max(top - bottom, 1.0), left, right, stripped))
    if not items:
        return None
    items.sort(key=lambda it: (-it[0], it[2]))
    rows: list[list[tuple[float, float, float, float, str]]] = []
    for item in items:
        if rows and abs(rows[-1][0][0] - item[0]) <= 0.5 * max(rows[-1][0][1], item[1]):
            rows[-1].append(item)
        else:
            rows.append([item])
    if len(rows) > 0.7 * len(items):
        return None  # the page really has that many lines (e.g. a list): leave it alone
    out: list[str] = []
    for row in rows:
        row.sort(key=lambda it: it[2])
        line = row[0][4]
        for prev, item in itertools.pairwise(row):
            # Pieces that touch are one word split by a font change ("R" + "ESORTS" in small caps).
            touching = item[2] - prev[3] < 0.12 * min(prev[1], item[1])
            line += ("" if touching else " ") + item[4]
        out.append(line)
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# Table detection
# ---------------------------------------------------------------------------------------------

# One numeric cell: 1,577  (234)  $34,229  12.4%  -0.5  .01  — ; "$" and "%" may stand alone.
_NUM_CELL = re.compile(r"^\(?[-–−]?\$?\(?(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+)\)?%?\)?\*?$")
_DASH_CELL = re.compile(r"^(?:[-–—−]+|n/?a|nm|N/?A|NM)$")
_ABSORBED = {"$", "%", "€", "£", "¥", "pts", "bps", "x"}
_YEAR = re.compile(r"^\(?(?:19|20)\d{2}\)?[,:]?$")
_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
_HEADING_WORDS = re.compile(
    r"\b(?:(?:years?|months?|weeks?|quarters?|periods?|days?)\s+ended|ended|ending|as of|"
    r"in (?:millions|thousands|billions)|except (?:per|share)|fiscal|q[1-4]|"
    rf"(?:first|second|third|fourth)[- ]quarter|{_MONTHS})\b"
    r"|\((?:dollars|amounts|in\b|millions|thousands|billions|\$)|% change",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[.;][\"”’')]*$")
_MONTH = re.compile(rf"^(?:{_MONTHS}|jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec)\.?$", re.IGNORECASE)
_TITLE_START = re.compile(r"^[A-Z0-9(]")
_TITLE_WORDS = re.compile(
    r"\b(?:consolidated|condensed|statements?|balance sheets?|income|operations|cash flows?|equity|"
    r"results|summary|highlights|financials|information|segments?|data|reconciliation|schedule)\b",
    re.IGNORECASE,
)
_BOILERPLATE = re.compile(r"^(?:table of contents|index|page \d+.*|\d+)$", re.IGNORECASE)

# Line kinds.
_ROW, _ROW1, _HEADER, _LABEL, _PROSE = "row", "row1", "header", "label", "prose"


def _trailing_cells(tokens: list[str]) -> tuple[int, bool]:
    """How many numeric cells end the line, and whether they are all plain years."""
    cells = 0
    years = True
    for pos in range(len(tokens) - 1, -1, -1):
        tok = tokens[pos]
        if tok in _ABSORBED:
            continue
        if _NUM_CELL.match(tok):
            if pos and _MONTH.match(tokens[pos - 1]):
                break  # "December 31" is a date, not a figure
            cells += 1
            years = years and bool(_YEAR.match(tok))
        elif _DASH_CELL.match(tok):
            cells += 1
            years = False
        else:
            break
    return cells, years and cells > 0


def _classify(line: str) -> str:
    tokens = line.split()
    cells, all_years = _trailing_cells(tokens)
    short = len(line) <= 100
    if cells >= 2 and not all_years:
        return _ROW
    sentence = bool(_SENTENCE_END.search(line))
    if short and not sentence:
        if all_years or (cells == 0 and _HEADING_WORDS.search(line)):
            return _HEADER
        if cells == 0 and sum(1 for tok in tokens if _YEAR.match(tok)) >= 2:
            return _HEADER  # "GAAP results 2022 $ million 2023 $ million"
    if cells == 1 and short:
        return _ROW1
    if len(line) <= 80 and len(tokens) <= 10 and not sentence:
        return _LABEL
    return _PROSE


def _pick_title(lines: list[str], kinds: list[str], head: list[int], truncated: bool) -> str:
    """The heading line that names the table: the nearest one above the column headings that
    reads like a statement title, else the line right above them when the block is complete."""
    first_heading = next((h for h in head if kinds[h] == _HEADER), None)
    above = [h for h in head if first_heading is None or h < first_heading]
    labels = [h for h in above if kinds[h] == _LABEL and _TITLE_START.match(lines[h])]
    for h in reversed(labels):
        if _TITLE_WORDS.search(lines[h]):
            return lines[h]
    if labels and not truncated and labels[-1] == above[-1]:
        return lines[labels[-1]]
    return ""


@dataclass(slots=True)
class _Span:
    start: int
    end: int  # inclusive, always a _ROW line


def find_tables(text: str, min_rows: int = 2, max_gap: int = 3, max_header: int = 8) -> list[Table]:
    """Tables in normalised page text: runs of lines ending with 2+ numeric cells.

    Up to `max_gap` label lines ("Current assets") may sit between rows. The header is the run of
    heading lines (years, "Years ended December 31", "(Millions)") above the first row; the line
    above those is the title ("Consolidated Statement of Income")."""
    lines = [ln.strip() for ln in text.split("\n")]
    lines = [ln for ln in lines if ln]
    kinds = [_classify(ln) for ln in lines]

    spans: list[_Span] = []
    i = 0
    while i < len(lines):
        if kinds[i] != _ROW:
            i += 1
            continue
        start = end = i
        rows = 1
        j = i + 1
        gap = 0
        while j < len(lines):
            kind = kinds[j]
            if kind == _ROW:
                end, gap = j, 0
                rows += 1
            elif kind in (_LABEL, _ROW1) and gap < max_gap:
                gap += 1
            else:
                break  # prose, a new heading, or too many labels: the table is over
            j += 1
        if rows >= min_rows:
            spans.append(_Span(start, end))
        i = end + 1

    tables: list[Table] = []
    floor = 0  # never look back past the previous table
    for span in spans:
        above: list[int] = []
        k = span.start - 1
        while k >= floor and len(above) < max_header and kinds[k] in (_HEADER, _LABEL):
            if _BOILERPLATE.match(lines[k]):
                break
            above.append(k)
            k -= 1
        above.reverse()  # top to bottom
        headers = [a for a in above if kinds[a] == _HEADER]
        if headers:
            lead = [a for a in above if a > headers[-1]]  # "Assets", "Current assets": rows
            head = [a for a in above if a <= headers[-1]]
        else:
            lead, head = above[-2:], above[:-2]
            if not head and lead:
                head, lead = lead[:1], lead[1:]  # "Segment information" right above the rows
        title = _pick_title(lines, kinds, head, truncated=len(above) >= max_header)
        header = [lines[h] for h in head]
        rows = [lines[r] for r in lead] + lines[span.start : span.end + 1]
        tables.append(Table(header=header, rows=rows, title=title))
        floor = span.end + 1
    return tables


# ---------------------------------------------------------------------------------------------
# Parser
# ---------------------------------------------------------------------------------------------

_NO_TEXT = "no extractable text (scanned PDF? OCR is not enabled)"


def _check_file(path: Path) -> None:
    if not path.is_file():
        raise ParseError(f"file not found: {path}")
    try:
        with path.open("rb") as fh:
            head = fh.read(_MAGIC_WINDOW)
    except OSError as exc:
        raise ParseError(f"cannot read {path.name}: {exc.strerror or exc}") from exc
    if not head:
        raise ParseError(f"{path.name} is empty (0 bytes), not a PDF")
    if _MAGIC not in head:
        raise ParseError(f"{path.name} is not a PDF (no %PDF- header in its first {_MAGIC_WINDOW} bytes)")


_PAGES_COUNT_0 = re.compile(rb"/Count\s+0\b")
_PAGE_OBJECT = re.compile(rb"/Type\s*/Page(?![A-Za-z])")


def _empty_page_tree(path: Path) -> bool:
    """A page tree that says /Count 0 and no page object anywhere (only checked after pdfium failed)."""
    try:
        data = path.read_bytes()
    except OSError:
        return False
    return bool(_PAGES_COUNT_0.search(data)) and not _PAGE_OBJECT.search(data)


def _open(path: Path) -> pdfium.PdfDocument:
    """Open a checked file; encrypted files with an empty user password open as-is."""
    _check_file(path)
    try:
        with PDFIUM_LOCK:
            pdf = pdfium.PdfDocument(path)
            pages = len(pdf)
    except pdfium.PdfiumError as exc:
        code = getattr(exc, "err_code", None)
        log.info("pdfium cannot open file", extra={"file": path.name, "pdfium_error": code})
        if code == pdfium_c.FPDF_ERR_PASSWORD:
            raise ParseError(f"{path.name} is password-protected; remove the password and upload it again") from exc
        if _empty_page_tree(path):
            # pdfium refuses a well-formed file whose page tree is empty (with a stale error code).
            raise ParseError(f"{path.name} has no pages") from exc
        if code == pdfium_c.FPDF_ERR_SECURITY:
            raise ParseError(f"{path.name} uses an unsupported security handler (encryption)") from exc
        raise ParseError(f"{path.name} is corrupt or truncated and cannot be read as a PDF") from exc
    if pages == 0:
        _close(pdf)
        raise ParseError(f"{path.name} has no pages")
    return pdf


def _close(pdf: pdfium.PdfDocument) -> None:
    with PDFIUM_LOCK:
        pdf.close()


class PdfiumParser:
    """`Parser` over pypdfium2. Holds only settings, so it pickles and is cheap to build."""

    def __init__(self, tables: bool = True, reflow: bool = True) -> None:
        self.tables = tables
        self.reflow = reflow

    def page_count(self, path: Path) -> int:
        pdf = _open(Path(path))
        try:
            with PDFIUM_LOCK:
                return len(pdf)
        finally:
            _close(pdf)

    def parse(self, path: Path) -> Iterator[Page]:
        """Pages in order, zero-based. File-level problems raise ParseError here, before the
        first page; a file whose pages hold no text at all raises it instead of yielding."""
        path = Path(path)
        self.page_count(path)  # fail fast (missing, not a PDF, corrupt, password, no pages)
        return self._pages(path)

    def _pages(self, path: Path) -> Iterator[Page]:
        pdf = _open(path)
        held: list[Page] = []  # leading pages without text, held back until some text shows up
        seen_text = False
        try:
            with PDFIUM_LOCK:
                count = len(pdf)
            for index in range(count):
                # one page at a time under the process's PDFium lock: the API answers (citation boxes,
                # vision renders) in other threads of the process that may be ingesting
                with PDFIUM_LOCK:
                    page = self._page(pdf, index, path)
                if seen_text:
                    yield page
                elif page.text.strip():
                    seen_text = True
                    yield from held
                    held.clear()
                    yield page
                else:
                    held.append(page)
        finally:
            _close(pdf)
        if not seen_text:
            log.info("no text in any page", extra={"file": path.name, "pages": len(held)})
            raise ParseError(f"{path.name}: {_NO_TEXT}")

    def _page(self, pdf: pdfium.PdfDocument, index: int, path: Path) -> Page:
        try:
            page = pdf[index]
        except pdfium.PdfiumError as exc:
            raise ParseError(f"{path.name}: page {index + 1} is corrupt and cannot be read") from exc
        try:
            textpage = page.get_textpage()
            try:
                raw = textpage.get_text_range()
                if self.reflow and _is_fragmented(raw.splitlines()):
                    reflowed = _reflow(textpage, raw)
                    log.debug("fragmented page", extra={"file": path.name, "page": index, "reflowed": bool(reflowed)})
                    raw = reflowed or raw
            finally:
                textpage.close()
        except pdfium.PdfiumError as exc:
            raise ParseError(f"{path.name}: text of page {index + 1} cannot be read") from exc
        finally:
            page.close()
        text = normalise_text(raw)
        tables = find_tables(text) if self.tables and text else []
        return Page(number=index, text=text, tables=tables)


def parse_file(path: str) -> list[Page]:
    """All pages of one file; a top-level function so a multiprocessing pool can pickle it."""
    return list(PdfiumParser().parse(Path(path)))
