"""Where a cited quote sits on its page: character boxes from pypdfium2, a quote matched to the page's
characters, and one box per text line of the match.

Boxes are computed lazily, when a citation is made or a highlight is drawn, and each page's characters
are kept in a small in-process LRU: a 10-K page reads in ~20 ms and only cited pages are ever read, so
nothing is stored at ingest. An answer's citations read the page's text and then the boxes of only the
characters their quotes cover (half of a page's read is the per-character box calls); the highlight
route reads them all. A quote found more than once on its page is taken inside the cited chunk.
Coordinates are PDF points with the origin at the TOP-LEFT of the page as rendered (crop box, page
rotation applied), y growing downward like the PNG.

Matching is robust to how quotes are shaped upstream (table cells joined with "|", whitespace
collapsed, "$" or thousands separators dropped, a quote trimmed with "…"): quote and page are compared
on their letters and digits only; a quote that is not found whole is matched part by part, and failing
that, by its figures on the one page line that holds most of them.
"""

from __future__ import annotations

import ctypes
import io
import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from finrag.records import Box, Citation

log = logging.getLogger(__name__)

_MAX_LINES = 24  # a quote longer than this is a whole block; its first lines are enough to find it
_MIN_PART = 6  # letters/digits a quote part needs before it is matched on its own (shorter ones match anywhere)
_NEAR = 80  # letters/digits between two parts of one quote (a table row's cells)
_PARTS = re.compile(r"\s*(?:\||…|\.\.\.|\n|;)\s*")
_FIGURE = re.compile(r"\(?\$?\d[\d,]*(?:\.\d+)?%?\)?")

_CITATION_MARK = re.compile(r"\[[^\]]*\]")  # "[DOC p.12]": page numbers are not figures of the answer
# (tenant, doc_id) -> the document's PDF path, None when unknown
SourceLookup = Callable[[str, str], "str | None"]
# (tenant, chunk ids) -> {chunk id: chunk text}, the tenant's chunks only
ChunkLookup = Callable[[str, Sequence[str]], dict[str, str]]


# (page text) -> which characters' boxes are wanted (a boolean mask as long as the text)
WantedChars = Callable[[str], np.ndarray]


@dataclass(frozen=True, slots=True)
class PageGlyphs:
    """A page's characters as pdfium reads them (generated spaces and line breaks included) and each
    character's box in the UNROTATED page's top-left space (crop box origin), where text lines run
    horizontally; a space or line break has an empty box (all zero). `rotation` (/Rotate, clockwise)
    turns them into the rendered page's space. `known`: which characters' boxes were read (None: all);
    an unread character's box is empty too."""

    text: str
    boxes: np.ndarray  # float32 (n, 4): x0, y0, x1, y1
    page_w: float  # unrotated
    page_h: float
    rotation: int = 0
    known: np.ndarray | None = None  # bool (n,)

    @property
    def width(self) -> float:
        """Width of the page as rendered, in points."""
        return self.page_h if self.rotation in (90, 270) else self.page_w

    @property
    def height(self) -> float:
        return self.page_w if self.rotation in (90, 270) else self.page_h

    def covers(self, wanted: np.ndarray) -> bool:
        """Whether every wanted character's box was read."""
        return self.known is None or not bool((wanted & ~self.known).any())

    def rendered(self, box: Sequence[float]) -> Box:
        """A box of the unrotated page as it appears on the rendered (rotated) page."""
        x0, y0, x1, y1 = box
        w, h = self.page_w, self.page_h
        if self.rotation == 90:
            x0, y0, x1, y1 = h - y1, x0, h - y0, x1
        elif self.rotation == 180:
            x0, y0, x1, y1 = w - x1, h - y1, w - x0, h - y0
        elif self.rotation == 270:
            x0, y0, x1, y1 = y0, w - x1, y1, w - x0
        return Box(x0=round(x0, 2), y0=round(y0, 2), x1=round(x1, 2), y1=round(y1, 2))


def read_page_glyphs(pdf_path: str | Path, index: int, wanted: WantedChars | None = None) -> PageGlyphs:
    """Characters and boxes of zero-based page `index` (PDFium calls serialised by the renderer's lock).
    `wanted`: given the page's text, the characters whose boxes are needed; only those are read (the
    per-character box calls are half of a page's read, and a citation needs a few lines of it)."""
    import pypdfium2.raw as pdfium_c

    from finrag.ingest.render import open_page

    with open_page(pdf_path, index) as page:
        crop = tuple(float(v) for v in page.get_cropbox())
        rotation = int(page.get_rotation()) % 360
        tp = page.get_textpage()
        try:
            n = tp.count_chars()
            text = tp.get_text_range()
            if len(text) != n:  # offsets and char indices disagree: read char by char
                text = "".join(chr(pdfium_c.FPDFText_GetUnicode(tp.raw, i) or 32) for i in range(n))
            known = None if wanted is None else np.asarray(wanted(text), dtype=bool)
            raw = np.zeros((n, 4), dtype=np.float64)
            # the raw call with reused out-parameters: twice as fast as get_charbox on a 5,000-char page
            left, right, bottom, top = (ctypes.c_double() for _ in range(4))
            refs = [ctypes.byref(v) for v in (left, right, bottom, top)]
            get_box, handle = pdfium_c.FPDFText_GetCharBox, tp.raw
            for i in range(n) if known is None else np.flatnonzero(known).tolist():
                if not text[i].isspace() and get_box(handle, i, *refs):  # spaces and line breaks: no box
                    raw[i] = (left.value, bottom.value, right.value, top.value)
        finally:
            tp.close()
    left, bottom, right, top = crop
    # PDF user space (origin bottom-left) to top-left space from the crop box, which is what is rendered
    boxes = np.stack([raw[:, 0] - left, top - raw[:, 3], raw[:, 2] - left, top - raw[:, 1]], axis=1)
    boxes[~raw.any(axis=1)] = 0.0
    if rotation not in (0, 90, 180, 270):
        rotation = 0
    return PageGlyphs(text, boxes.astype(np.float32), right - left, top - bottom, rotation, known)


_CACHED_PAGES = 64
_pages: OrderedDict[tuple[str, int, int], PageGlyphs] = OrderedDict()
_pages_lock = threading.Lock()


def page_glyphs(pdf_path: str | Path, index: int, wanted: WantedChars | None = None) -> PageGlyphs:
    """`read_page_glyphs` through an in-process LRU of pages (keyed by the file's modification time: a
    replaced file is re-read). `wanted` as there (None: every character); a cached page whose wanted
    boxes were not all read is read again for them and the ones it had."""
    p = Path(pdf_path)
    key = (str(p), p.stat().st_mtime_ns, index)
    with _pages_lock:
        cached = _pages.get(key)
    if cached is not None:
        need = np.ones(len(cached.text), dtype=bool) if wanted is None else np.asarray(wanted(cached.text), dtype=bool)
        if cached.covers(need):
            with _pages_lock:
                if key in _pages:
                    _pages.move_to_end(key)
            return cached
        if cached.known is not None and wanted is not None:
            need = need | cached.known
            glyphs = read_page_glyphs(p, index, lambda _text: need)
        else:
            glyphs = read_page_glyphs(p, index)
    else:
        glyphs = read_page_glyphs(p, index, wanted)
    with _pages_lock:
        _pages[key] = glyphs
        _pages.move_to_end(key)
        while len(_pages) > _CACHED_PAGES:
            _pages.popitem(last=False)
    return glyphs


# ---------------------------------------------------------------------------------------------
# Matching a quote to the page's characters
# ---------------------------------------------------------------------------------------------


@lru_cache(maxsize=64)  # a page text's offsets take ~100 KB: a few answers' pages and quotes
def _key(text: str) -> tuple[str, tuple[int, ...]]:
    """Lower-case letters and digits of `text`, with each one's offset in `text`. Remembered: one
    answer's citations ask it of the same page text several times (ambiguity test, context, match)."""
    where = tuple(i for i, ch in enumerate(text) if ch.isalnum())
    return "".join([text[i].lower() for i in where]), where  # per character: no final-sigma rule


def _find_all(hay: str, needle: str) -> list[int]:
    out, at = [], hay.find(needle)
    while at >= 0:
        out.append(at)
        at = hay.find(needle, at + 1)
    return out


def _line_spans(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(r"[^\r\n]+", text)]


def match_spans(text: str, quote: str, region: Sequence[tuple[int, int]] = ()) -> list[tuple[int, int]]:
    """Character spans [start, end) of `text` that the quote covers; [] when it is not on the page.
    `region`: the spans of the cited chunk on the page; a quote found more than once is taken there."""
    key, where = _key(text)
    qkey, _ = _key(quote)
    if not qkey:
        return []

    def span(at: int, length: int) -> tuple[int, int]:
        return where[at], where[at + length - 1] + 1

    def distance(offset: int) -> int:
        return min((max(s - offset, offset - e, 0) for s, e in region), default=0)

    def first(found: list[int]) -> int:
        """The occurrence inside the region (else the nearest to it), else the first on the page."""
        return found[0] if len(found) < 2 else min(found, key=lambda f: distance(where[f]))

    # 1. The whole quote, letters and digits only (whitespace, "|", "$", "," and "…" do not matter).
    hits = _find_all(key, qkey)
    if hits and (len(qkey) >= _MIN_PART or len(hits) == 1 or region):
        return [span(first(hits), len(qkey))]
    # 2. Part by part (cells, a quote trimmed with "…", a block's lines), each part near the previous one.
    # A short part (a lone figure cell) counts only right after the previous part: alone it could be anywhere.
    parts = [p for p in (_key(p)[0] for p in _PARTS.split(quote)) if p]
    spans: list[tuple[int, int]] = []
    cursor: int | None = None
    for part in parts[:_MAX_LINES]:
        found = _find_all(key, part)
        after = [f for f in found if cursor is not None and cursor <= f <= cursor + _NEAR]
        if after:
            at = after[0]
        elif found and len(part) >= _MIN_PART:
            at = first(found)
        else:
            continue
        spans.append(span(at, len(part)))
        cursor = at + len(part)
    if spans:
        return spans
    # 3. The figures: the one page line holding most of them (a table row re-flowed or re-labelled).
    figures = {_figure_key(f) for f in _FIGURE.findall(quote)} - {""}
    if not figures:
        return []
    words = set(re.findall(r"[a-z]{3,}", quote.lower()))
    best: tuple[int, bool, int, list[tuple[int, int]]] | None = None
    for start, end in _line_spans(text):
        line = text[start:end]
        found = [
            (start + m.start(), start + m.end()) for m in _FIGURE.finditer(line) if _figure_key(m.group()) in figures
        ]
        if not found:
            continue
        hits = len({_figure_key(text[s:e]) for s, e in found})
        inside = distance(start) == 0
        score = (hits, inside, len(words & set(re.findall(r"[a-z]{3,}", line.lower()))))
        if best is None or score > best[:3]:
            best = (*score, found)
    if best is None or best[0] < max(1, (len(figures) + 1) // 2):
        return []
    return [(min(s for s, _ in best[3]), max(e for _, e in best[3]))]


def _figure_key(token: str) -> str:
    """A figure's digits and decimal point ("$(1,577)" -> "1577"); "" for a lone digit, which says nothing."""
    key = re.sub(r"[^\d.]", "", token).strip(".")
    return key if len(key.replace(".", "")) >= 2 else ""


def _overlap(a: Sequence[float], b: Sequence[float]) -> float:
    """Vertical overlap of two boxes as a share of the shorter one's height."""
    inter = min(a[3], b[3]) - max(a[1], b[1])
    return inter / max(min(a[3] - a[1], b[3] - b[1]), 1e-6)


def _lines(glyphs: PageGlyphs, spans: Sequence[tuple[int, int]]) -> list[tuple[list[float], str]]:
    """(box, text) of each text line of the characters in `spans`, the box the union of its characters'
    boxes (unrotated space). A new line starts where pdfium put a line break or where a character shares
    no height with the line (a comma hanging below the digits still belongs to its line)."""
    lines: list[tuple[list[float], list[str]]] = []
    for start, end in spans:
        current: list[float] | None = None
        broke = False
        for i in range(start, min(end, len(glyphs.boxes))):
            ch = glyphs.text[i]
            if ch in "\r\n":
                broke = True
                continue
            x0, y0, x1, y1 = (float(v) for v in glyphs.boxes[i])
            if x1 <= x0 or y1 <= y0:
                if lines:
                    lines[-1][1].append(" ")
                continue  # a generated space
            if current is not None and not broke and _overlap(current, (x0, y0, x1, y1)) > 0:
                current[0], current[1] = min(current[0], x0), min(current[1], y0)
                current[2], current[3] = max(current[2], x1), max(current[3], y1)
            else:
                current = [x0, y0, x1, y1]
                lines.append((current, []))
            lines[-1][1].append(ch)
            broke = False
    # one box per visual line, also when two spans (cells) or two pdfium lines sit on the same one
    merged: list[tuple[list[float], list[str]]] = []
    for b, chars in lines:
        same = next((m for m in merged if _overlap(m[0], b) >= 0.5), None)
        if same is None:
            merged.append((list(b), list(chars)))
        else:
            m = same[0]
            m[0], m[1], m[2], m[3] = min(m[0], b[0]), min(m[1], b[1]), max(m[2], b[2]), max(m[3], b[3])
            same[1].extend([" ", *chars])
    return [(b, "".join(chars)) for b, chars in merged]


def line_boxes(glyphs: PageGlyphs, spans: Sequence[tuple[int, int]]) -> list[Box]:
    """One box per text line of the characters in `spans` (rendered page space)."""
    return [glyphs.rendered(b) for b, _ in _lines(glyphs, spans)]


def figure_keys(text: str) -> frozenset[str]:
    """The figures of a text as comparable keys ("$(1,577)" -> "1577"), lone digits left out."""
    return frozenset(_figure_key(f) for f in _FIGURE.findall(text)) - {""}


def _ambiguous(text: str, quote: str) -> bool:
    qkey = _key(quote)[0]
    return not qkey or len(_find_all(_key(text)[0], qkey)) != 1


def quote_spans(text: str, quote: str, context: str = "") -> list[tuple[int, int]]:
    """The character spans of `quote` on a page's text, taken inside `context` (the cited chunk's text)
    when the quote is found more than once."""
    region = match_spans(text, context) if context and _ambiguous(text, quote) else []
    return match_spans(text, quote, region)


def locate_quote(glyphs: PageGlyphs, quote: str, focus: frozenset[str] = frozenset(), context: str = "") -> list[Box]:
    """The boxes of `quote` on the page, one per text line; [] when it is not found. `focus`: figure
    keys of the answer; a quote longer than two lines is narrowed to the lines holding them (a press
    release's whole bullet list quoted for one growth rate), when any line does. `context`: the cited
    chunk's text, which decides between several occurrences of the quote."""
    lines = _lines(glyphs, quote_spans(glyphs.text, quote, context))
    if focus and len(lines) > 2:
        lines = [ln for ln in lines if figure_keys(ln[1]) & focus] or lines
    return [glyphs.rendered(b) for b, _ in lines]


class CitationLocator:
    """Adds boxes and the page size to citations, reading each cited page once (LRU). `source_of` maps
    (tenant, doc_id) to the document's PDF path, or None when unknown (no boxes then); `chunks_of`
    gives cited chunks' texts, asked only for quotes found more than once on their page."""

    def __init__(self, source_of: SourceLookup, chunks_of: ChunkLookup | None = None) -> None:
        self.source_of = source_of
        self.chunks_of = chunks_of

    def glyphs(self, tenant: str, doc_id: str, page: int, wanted: WantedChars | None = None) -> PageGlyphs | None:
        """The characters of 1-based `page`, or None when the PDF is gone or unreadable. `wanted`: the
        characters whose boxes are needed (None: all of them)."""
        path = self.source_of(tenant, doc_id)
        if path is None or not Path(path).is_file():
            return None
        try:
            return page_glyphs(path, page - 1, wanted)
        except _LookupFailed:
            raise
        except Exception as exc:  # a damaged page must not fail the answer: the citation just has no boxes
            log.warning("page characters unreadable", extra={"doc_id": doc_id, "page": page, "error": repr(exc)})
            return None

    def locate(self, tenant: str, citations: Sequence[Citation], answer_text: str = "") -> list[Citation]:
        """`answer_text`: its figures narrow a long quote's boxes to the lines they are read from."""
        focus = figure_keys(_CITATION_MARK.sub(" ", answer_text))
        context: dict[str, str] = {}  # chunk id -> text, for quotes not found exactly once on their page
        asked: set[str] = set()

        def contexts(text: str, cited: Sequence[Citation]) -> None:
            unsure = [c.chunk_id for c in cited if c.chunk_id not in asked and _ambiguous(text, c.quote)]
            asked.update(unsure)
            if unsure and self.chunks_of is not None:
                try:
                    context.update(self.chunks_of(tenant, unsure))
                except Exception as exc:  # a store failure is the answer's, not a damaged page's
                    raise _LookupFailed from exc

        by_page: dict[tuple[str, int], list[Citation]] = {}
        for c in citations:
            by_page.setdefault((c.doc_id, c.page), []).append(c)
        pages: dict[tuple[str, int], PageGlyphs | None] = {}
        for (doc_id, page), cited in by_page.items():

            def wanted(text: str, cited: Sequence[Citation] = cited) -> np.ndarray:
                # Only the characters the quotes cover get their boxes read: the same spans
                # `locate_quote` draws below, from the same text and chunk contexts.
                contexts(text, cited)
                mask = np.zeros(len(text), dtype=bool)
                for c in cited:
                    for start, end in quote_spans(text, c.quote, context.get(c.chunk_id, "")):
                        mask[start:end] = True
                return mask

            try:
                pages[doc_id, page] = self.glyphs(tenant, doc_id, page, wanted)
            except _LookupFailed as exc:
                raise exc.__cause__ from None  # type: ignore[misc]
        out: list[Citation] = []
        for c in citations:
            g = pages[c.doc_id, c.page]
            if g is None:
                out.append(c)
                continue
            contexts(g.text, [c])  # a page read before this answer: its contexts were not asked yet
            boxes = locate_quote(g, c.quote, focus, context.get(c.chunk_id, ""))
            out.append(c.model_copy(update={"boxes": boxes, "page_width": g.width, "page_height": g.height}))
        return out


class _LookupFailed(Exception):
    """A chunk lookup that failed while a page was read: raised past the page reader's damaged-page
    handling, as the original error."""


def draw_boxes(png: bytes, boxes: Sequence[Box], page_width: float, fallback_scale: float = 1.0) -> bytes:
    """The page image with each box filled semi-transparent yellow and outlined (boxes in points,
    scaled to the image by its width over the page's). Needs Pillow (the `serve` extra)."""
    from PIL import Image, ImageDraw

    with Image.open(io.BytesIO(png)) as img:
        base = img.convert("RGBA")
    scale = base.width / page_width if page_width > 0 else fallback_scale
    layer = Image.new("RGBA", base.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    pad = 2.0  # points: glyph boxes are tight; a little air keeps the text readable inside the mark
    for b in boxes:
        rect = ((b.x0 - pad) * scale, (b.y0 - pad) * scale, (b.x1 + pad) * scale, (b.y1 + pad) * scale)
        draw.rectangle(rect, fill=(255, 221, 0, 90), outline=(214, 137, 0, 255), width=2)
    out = io.BytesIO()
    Image.alpha_composite(base, layer).convert("RGB").save(out, format="PNG")
    return out.getvalue()
