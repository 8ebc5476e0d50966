"""Evidence highlighting: a citation's quote located on its page (one box per text line), the boxes in the
API and the OpenAI-compatible endpoint, and the page image drawn with them."""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from finrag.ingest.boxes import PageGlyphs, figure_keys, locate_quote, read_page_glyphs
from finrag.records import Box
from tests.test_api import NORTHWIND_10K, bearer, build_service, ingest

ROW = "Purchases of property, plant and equipment"  # a cash-flow row of every sample 10-K


def cash_flow_page(pdf: Path) -> tuple[int, PageGlyphs]:
    import pypdfium2 as pdfium

    n = len(pdfium.PdfDocument(str(pdf)))
    for i in range(n):
        g = read_page_glyphs(pdf, i)
        if ROW in g.text and "Statements of Cash Flows" in g.text:
            return i, g
    raise AssertionError("no cash flow statement in the sample")


def line_of(g: PageGlyphs, needle: str) -> tuple[str, tuple[float, float]]:
    """The page line holding `needle` and its vertical extent, read from its own characters' boxes."""
    start = g.text.index(needle)
    line_start = g.text.rfind("\n", 0, start) + 1
    line_end = g.text.find("\r", start)
    line_end = len(g.text) if line_end < 0 else line_end
    ys = [(b[1], b[3]) for b in g.boxes[line_start:line_end] if b[2] > b[0]]
    return g.text[line_start:line_end], (min(y0 for y0, _ in ys), max(y1 for _, y1 in ys))


def neighbours(g: PageGlyphs, line: str) -> list[tuple[str, tuple[float, float]]]:
    lines = [ln for ln in g.text.replace("\r", "").split("\n") if ln.strip()]
    i = lines.index(line)
    return [line_of(g, lines[j]) for j in (i - 1, i + 1)]


def centre(span: tuple[float, float]) -> float:
    return (span[0] + span[1]) / 2


def on_row(boxes: list[Box], row: tuple[float, float], others: list[tuple[float, float]]) -> bool:
    """One box, overlapping the row's line and reaching no neighbouring row's centre."""
    if len(boxes) != 1:
        return False
    b = boxes[0]
    return b.y0 < row[1] and b.y1 > row[0] and all(not b.y0 <= centre(o) <= b.y1 for o in others)


@pytest.fixture(scope="module")
def cash_flow(sample_dir: Path) -> tuple[int, PageGlyphs]:
    return cash_flow_page(sample_dir / NORTHWIND_10K)


@pytest.mark.parametrize("shape", ["verbatim", "cells", "trimmed", "figures_only"])
def test_a_rows_quote_gets_one_box_on_that_row(cash_flow: tuple[int, PageGlyphs], shape: str) -> None:
    _, g = cash_flow
    line, row = line_of(g, ROW)
    figures = line[len(ROW) :].split()
    assert len(figures) == 2, line  # this year and last year
    quote = {
        "verbatim": line,
        "cells": " | ".join([ROW, *figures]),  # how table chunks join cells
        "trimmed": f"Purchases of property, … {figures[1]}",
        "figures_only": f"capital expenditures were {figures[0].strip('()')} and {figures[1].strip('()')}",
    }[shape]
    boxes = locate_quote(g, quote)
    assert on_row(boxes, row, [span for _, span in neighbours(g, line)]), (quote, boxes, row)
    # the figures' own characters lie inside the box, horizontally too
    first = g.text.index(figures[-1], g.text.index(ROW))
    fx0, _, fx1, _ = g.boxes[first]
    assert boxes[0].x0 <= fx0 and fx1 <= boxes[0].x1


def test_a_sentence_over_two_lines_gets_a_box_per_line(sample_dir: Path) -> None:
    import pypdfium2 as pdfium

    pdf = sample_dir / NORTHWIND_10K
    for i in range(len(pdfium.PdfDocument(str(pdf)))):
        g = read_page_glyphs(pdf, i)
        lines = [ln for ln in g.text.split("\r\n") if len(ln) > 60 and ln.rstrip()[-1] not in ".:"]
        if lines:
            break
    first = lines[0]
    second = g.text.split("\r\n")[g.text.split("\r\n").index(first) + 1]
    quote = " ".join([first, second])  # whitespace collapsed, as quotes are
    boxes = locate_quote(g, quote)
    assert len(boxes) == 2 and boxes[0].y1 <= boxes[1].y0 + 1, boxes


def test_a_long_quote_is_narrowed_to_the_lines_holding_the_answers_figures(cash_flow: tuple[int, PageGlyphs]) -> None:
    _, g = cash_flow
    line, row = line_of(g, ROW)
    lines = [ln for ln in g.text.replace("\r", "").split("\n") if ln.strip()]
    at = lines.index(line)
    quote = " ".join(lines[at - 2 : at + 2])  # four rows, the capex row third
    assert len(locate_quote(g, quote)) == 4
    figure = line.split()[-2].strip("()$")
    narrowed = locate_quote(g, quote, figure_keys(f"capital expenditure was ${figure} million"))
    assert on_row(narrowed, row, [span for _, span in neighbours(g, line)]), (quote, narrowed)
    # a figure on none of the lines leaves the quote whole
    assert len(locate_quote(g, quote, figure_keys("98,765"))) == 4


def test_a_quote_found_twice_is_taken_where_the_cited_chunk_is(cash_flow: tuple[int, PageGlyphs]) -> None:
    _, g = cash_flow
    begin, begin_row = line_of(g, "Cash and cash equivalents at beginning of year")
    end, end_row = line_of(g, "Cash and cash equivalents at end of year")
    shared = sorted({t for t in begin.split() if any(c.isdigit() for c in t)} & set(end.split()))
    assert shared, (begin, end)  # last year's closing cash is this year's opening cash
    quote = shared[0]
    for context, row in ((end, end_row), (begin, begin_row)):
        boxes = locate_quote(g, quote, context=f"Cash flows\n{context}")
        others = [span for line, span in line_spans(g) if line not in (context,)]
        assert len(boxes) == 1 and boxes[0].y0 < row[1] and boxes[0].y1 > row[0], (context, boxes)
        assert not any(boxes[0].y0 <= centre(o) <= boxes[0].y1 for o in others if not o[0] < centre(row) < o[1])


def test_citation_boxes_read_from_the_quoted_characters_only_equal_the_full_pages(sample_dir: Path) -> None:
    """The locator reads only the characters its quotes cover; its boxes must be the ones a full read of
    the page gives, for a row, cells, a trimmed quote, a figures-only quote and a quote found twice
    (taken in its cited chunk); and a page first read in part is read whole when asked whole."""
    from finrag.ingest import boxes as boxes_mod
    from finrag.ingest.boxes import CitationLocator, page_glyphs
    from finrag.records import Citation

    pdf = sample_dir / NORTHWIND_10K
    index, full = cash_flow_page(pdf)
    line, _ = line_of(full, ROW)
    figures = line[len(ROW) :].split()
    begin, _ = line_of(full, "Cash and cash equivalents at beginning of year")
    end, _ = line_of(full, "Cash and cash equivalents at end of year")
    shared = sorted({t for t in begin.split() if any(c.isdigit() for c in t)} & set(end.split()))[0]
    quotes = {
        "row": ("c1", line),
        "cells": ("c2", " | ".join([ROW, *figures])),
        "trimmed": ("c3", f"Purchases of property, … {figures[1]}"),
        "figures": ("c4", f"capital expenditures were {figures[0].strip('()')} and {figures[1].strip('()')}"),
        "twice, end": ("c5", shared),
        "twice, begin": ("c6", shared),
        "absent": ("c7", "Goodwill impairment charges 98,765 87,654"),
    }
    chunks = {"c5": f"Cash flows\n{end}", "c6": f"Cash flows\n{begin}"}
    asked: list[list[str]] = []

    def chunks_of(_tenant: str, ids: Sequence[str]) -> dict[str, str]:
        asked.append(list(ids))
        return {i: chunks[i] for i in ids if i in chunks}

    citations = [
        Citation(doc_id="d", doc_name="N", page=index + 1, chunk_id=cid, quote=q, score=1.0)
        for cid, q in quotes.values()
    ]
    boxes_mod._pages.clear()
    located = CitationLocator(lambda _t, _d: str(pdf), chunks_of).locate("t", citations, f"capex {figures[0]}")
    cached = boxes_mod._pages[next(iter(boxes_mod._pages))]
    assert cached.known is not None and 0 < cached.known.sum() < len(cached.text)  # read in part
    focus = figure_keys(f"capex {figures[0]}")
    for c, (cid, quote) in zip(located, quotes.values(), strict=True):
        expected = locate_quote(full, quote, focus, chunks.get(cid, ""))
        assert c.boxes == expected, (cid, c.boxes, expected)
        assert (c.page_width, c.page_height) == (full.width, full.height)
    assert sum(bool(c.boxes) for c in located) == 6 and located[4].boxes != located[5].boxes
    ids = [i for batch in asked for i in batch]
    assert {"c5", "c6"} <= set(ids) and "c1" not in ids and len(ids) == len(set(ids))  # each asked once
    whole = page_glyphs(pdf, index)  # the highlight route asks for every character
    assert whole.known is None and np.array_equal(whole.boxes, full.boxes) and whole.text == full.text


def line_spans(g: PageGlyphs) -> list[tuple[str, tuple[float, float]]]:
    lines = [ln for ln in g.text.replace("\r", "").split("\n") if ln.strip()]
    return [line_of(g, ln) for ln in lines if g.text.count(ln) == 1]


def test_a_quote_that_is_not_on_the_page_gets_no_box(cash_flow: tuple[int, PageGlyphs]) -> None:
    _, g = cash_flow
    assert locate_quote(g, "Goodwill impairment charges 98,765 87,654") == []
    assert locate_quote(g, "") == []


def ink_inside(png: bytes, boxes: list[Box], page_width: float) -> int:
    """Dark (text) pixels of the page image inside the boxes."""
    from PIL import Image

    img = np.asarray(Image.open(io.BytesIO(png)).convert("L"))
    scale = img.shape[1] / page_width
    inside = np.zeros(img.shape, dtype=bool)
    for b in boxes:
        inside[int(b.y0 * scale) : int(b.y1 * scale) + 1, int(b.x0 * scale) : int(b.x1 * scale) + 1] = True
    return int(((img < 128) & inside).sum())


def row_ink(pdf: Path, index: int) -> tuple[int, tuple[float, float]]:
    from finrag.ingest.render import render_page_png

    g = read_page_glyphs(pdf, index)
    line, _ = line_of(g, ROW)
    boxes = locate_quote(g, line)
    assert len(boxes) == 1
    return ink_inside(render_page_png(pdf, index, scale=2.0), boxes, g.width), (g.width, g.height)


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_boxes_follow_the_rendered_page_whatever_its_rotation(sample_dir: Path, tmp_path: Path, rotation: int) -> None:
    import pypdfium2 as pdfium

    index, _ = cash_flow_page(sample_dir / NORTHWIND_10K)
    upright, size = row_ink(sample_dir / NORTHWIND_10K, index)
    pdf = pdfium.PdfDocument(str(sample_dir / NORTHWIND_10K))
    pdf[index].set_rotation(rotation)
    rotated = tmp_path / "rotated.pdf"
    pdf.save(str(rotated))
    pdf.close()
    turned, turned_size = row_ink(rotated, index)
    # the box holds the row's ink on the turned page as it does upright (a box left unturned, or turned
    # the wrong way, would hold other ink or none)
    assert upright > 500 and abs(turned - upright) < 0.1 * upright, (upright, turned)
    assert turned_size == (size[::-1] if rotation in (90, 270) else size)


# ---------------------------------------------------------------------------------------------
# The API
# ---------------------------------------------------------------------------------------------

CAPEX_Q = "What was Northwind Robotics' capital expenditure in fiscal 2023?"


@dataclass
class Api:
    client: TestClient
    acme: str
    globex: str
    acme_doc: str
    globex_doc: str


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, shared_embedder, sample_dir: Path) -> Iterator[Api]:
    from finrag.serve.app import create_app
    from finrag.settings import ServeSettings

    svc = build_service(tmp_path_factory.mktemp("api-highlight"), shared_embedder)
    app = create_app(svc.settings, svc, ServeSettings(rate_limit_per_minute=100_000, max_concurrent_per_key=64))
    acme, _ = app.state.finrag.keys.create("acme", "app")
    globex, _ = app.state.finrag.keys.create("globex", "app")
    with TestClient(app) as client:
        acme_doc = ingest(client, acme, sample_dir / NORTHWIND_10K)["doc_id"]
        globex_doc = ingest(client, globex, sample_dir / NORTHWIND_10K)["doc_id"]
        yield Api(client, acme, globex, acme_doc, globex_doc)
    app.state.finrag.pages.close()
    svc.close()


def capex_citation(api: Api, key: str) -> dict:
    body = api.client.post("/v1/query", headers=bearer(key), json={"question": CAPEX_Q}).json()
    rows = [c for c in body["citations"] if ROW in c["quote"]]
    assert rows, body["citations"]
    return rows[0]


@pytest.mark.slow
def test_query_citations_carry_boxes_on_the_cited_row(api: Api, sample_dir: Path) -> None:
    c = capex_citation(api, api.acme)
    _, g = cash_flow_page(sample_dir / NORTHWIND_10K)
    line, row = line_of(g, ROW)
    assert (c["page_width"], c["page_height"]) == (g.width, g.height) == (612.0, 792.0)
    boxes = [Box(**b) for b in c["boxes"]]
    assert on_row(boxes, row, [span for _, span in neighbours(g, line)]), (c, row)


def changed_pixels(plain: bytes, marked: bytes) -> np.ndarray:
    from PIL import Image

    a = np.asarray(Image.open(io.BytesIO(plain)).convert("RGB")).astype(int)
    b = np.asarray(Image.open(io.BytesIO(marked)).convert("RGB")).astype(int)
    assert a.shape == b.shape
    return np.argwhere(np.abs(a - b).sum(axis=2) > 30)  # (row, col) of every pixel the highlight changed


@pytest.mark.slow
def test_page_image_highlight_marks_exactly_the_cited_row(api: Api) -> None:
    c = capex_citation(api, api.acme)
    url = c["page_image_url"]
    plain = api.client.get(url, headers=bearer(api.acme))
    assert plain.status_code == 200 and plain.headers["content-type"] == "image/png"
    marked = api.client.get(url, headers=bearer(api.acme), params={"highlight": c["chunk_id"], "quote": c["quote"]})
    assert marked.status_code == 200 and marked.headers["content-type"] == "image/png"
    assert marked.headers["cache-control"].startswith("private")
    changed = changed_pixels(plain.content, marked.content)
    assert len(changed) > 500  # a visible mark
    scale = 110 / 72  # the page renderer's dpi
    (b,) = [Box(**x) for x in c["boxes"]]
    slack = 5  # the mark's padding and outline, in image pixels beyond the box
    assert changed[:, 0].min() >= b.y0 * scale - slack - 3 and changed[:, 0].max() <= b.y1 * scale + slack + 3
    assert changed[:, 1].min() >= b.x0 * scale - slack - 3 and changed[:, 1].max() <= b.x1 * scale + slack + 3
    # the highlighted pixels are yellow
    from PIL import Image

    rgb = np.asarray(Image.open(io.BytesIO(marked.content)).convert("RGB")).astype(int)
    r, g, bl = (rgb[changed[:, 0], changed[:, 1], k] for k in range(3))
    assert np.median(r) > 200 and np.median(g) > 180 and np.median(bl) < 200
    # ?box= draws the same boxes the citation carries
    boxed = api.client.get(url, headers=bearer(api.acme), params={"box": [f"{b.x0},{b.y0},{b.x1},{b.y1}"]})
    assert boxed.status_code == 200
    assert np.array_equal(changed_pixels(plain.content, boxed.content), changed)
    # and the plain image is unchanged by all this
    assert api.client.get(url, headers=bearer(api.acme)).content == plain.content


@pytest.mark.slow
def test_highlight_is_tenant_isolated_and_checked(api: Api) -> None:
    acme_c = capex_citation(api, api.acme)
    globex_c = capex_citation(api, api.globex)
    page = acme_c["page"]
    acme_url = f"/v1/documents/{api.acme_doc}/pages/{page}.png"
    # the same filing in both tenants (same doc id, same page), each tenant's chunks its own
    assert acme_c["chunk_id"] != globex_c["chunk_id"] and acme_c["page"] == globex_c["page"]
    for key, doc, foreign in ((api.globex, api.globex_doc, acme_c), (api.acme, api.acme_doc, globex_c)):
        url = f"/v1/documents/{doc}/pages/{page}.png"
        r = api.client.get(url, headers=bearer(key), params={"highlight": foreign["chunk_id"]})
        assert r.status_code == 404, r.text
    # the right chunk on another page, and a chunk id that is no id: 404 too
    other = f"/v1/documents/{api.acme_doc}/pages/{page - 1}.png"
    assert api.client.get(other, headers=bearer(api.acme), params={"highlight": acme_c["chunk_id"]}).status_code == 404
    assert api.client.get(acme_url, headers=bearer(api.acme), params={"highlight": "nope"}).status_code == 404
    # malformed boxes are refused, corners in either order are one box
    for bad in ("1,2,3", "a,b,c,d", "1.2.3,1,2,3", "1e9,1,2,3", "1234567,1,2,3"):
        assert api.client.get(acme_url, headers=bearer(api.acme), params={"box": bad}).status_code == 422
    assert api.client.get(acme_url, headers=bearer(api.acme), params={"box": ["1,1,5,5"] * 51}).status_code == 422
    swapped = api.client.get(acme_url, headers=bearer(api.acme), params={"box": "300,200,100,150"})
    upright = api.client.get(acme_url, headers=bearer(api.acme), params={"box": "100,150,300,200"})
    assert swapped.status_code == upright.status_code == 200 and swapped.content == upright.content
    # the owner's highlight works
    ok = api.client.get(acme_url, headers=bearer(api.acme), params={"highlight": acme_c["chunk_id"]})
    assert ok.status_code == 200 and ok.content[:4] == b"\x89PNG"


@pytest.mark.slow
def test_openai_endpoint_citations_carry_boxes(api: Api) -> None:
    r = api.client.post(
        "/v1/chat/completions",
        headers=bearer(api.acme),
        json={"model": "finrag", "messages": [{"role": "user", "content": CAPEX_Q}]},
    )
    assert r.status_code == 200, r.text
    cites = [c for c in r.json()["citations"] if ROW in c["quote"]]
    assert cites and len(cites[0]["boxes"]) == 1 and cites[0]["page_width"] == 612.0
    b = cites[0]["boxes"][0]
    assert 0 <= b["x0"] < b["x1"] <= 612 and 0 <= b["y0"] < b["y1"] <= 792


def test_boxes_and_parsing_share_the_process_safely(sample_dir: Path) -> None:
    """The API reads citation boxes while an upload is parsed in another thread of the same process:
    PDFium is not thread-safe, so both go through one lock and both keep reading the right text."""
    import threading

    from finrag.ingest.parse import PdfiumParser

    pdf = sample_dir / NORTHWIND_10K
    index, expected = cash_flow_page(pdf)
    pages = [p.text for p in PdfiumParser().parse(pdf)]
    failures: list[str] = []

    def parse_loop() -> None:
        for _ in range(6):
            if [p.text for p in PdfiumParser().parse(pdf)] != pages:
                failures.append("parse")

    def boxes_loop() -> None:
        for _ in range(30):
            g = read_page_glyphs(pdf, index)
            if g.text != expected.text or not np.array_equal(g.boxes, expected.boxes):
                failures.append("boxes")

    threads = [threading.Thread(target=parse_loop), threading.Thread(target=boxes_loop)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
