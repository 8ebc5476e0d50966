"""The web page in headless Chromium, over a live server with two sample filings already ingested: the
answer panel (trust reasons, scope with one-click re-asking, calculator table linked to pages), the
evidence highlight on the cited row, the documents view (progress, failures, corrections), keyboard use
and accessibility basics (labels, focus order, visible focus, contrast, aria-live)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from finrag.serve.app import create_app
from finrag.serve.testing import live_server
from finrag.settings import ServeSettings
from tests.test_api import CEDAR_8K, NORTHWIND_10K, build_service
from tests.test_web import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.slow

REVENUE_Q = "What was Northwind Robotics' total revenue in fiscal 2023?"
EBITDA_Q = "What was Northwind Robotics' EBITDA margin in FY2023?"


@dataclass
class Site:
    base: str
    key: str
    reader: str
    svc: Any
    docs: dict[str, str]
    browser: Any
    sample_dir: Path


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, shared_embedder, sample_dir: Path) -> Iterator[Site]:  # type: ignore[no-untyped-def]
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install -y chromium)")
    svc = build_service(tmp_path_factory.mktemp("web-panels"), shared_embedder)
    report = svc.ingest([sample_dir / NORTHWIND_10K, sample_dir / CEDAR_8K], tenant="acme")
    assert not report.failed
    docs = {Path(e.path).name: e.doc_id for e in report.events}
    app = create_app(svc.settings, svc, ServeSettings(rate_limit_per_minute=100_000))
    key, _ = app.state.finrag.keys.create("acme", "browser")
    reader, _ = app.state.finrag.keys.create("acme", "reader", ["query"])
    try:
        with live_server(app) as base, sync_api.sync_playwright() as p:
            try:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            except Exception as exc:  # only when the browser truly cannot start here
                pytest.skip(f"Chromium could not start: {exc}")
            yield Site(base, key, reader, svc, docs, browser, sample_dir)
            browser.close()
    finally:
        svc.close()


@pytest.fixture()
def page(site: Site) -> Iterator[Any]:
    """A fresh page, signed in with the key; page errors fail the test."""
    ctx = site.browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.goto(site.base + "/")
    pg.fill("#api-key", site.key)
    pg.click("#save-key")
    pg.wait_for_selector("#key-status.status-succeeded")
    pg.wait_for_selector("#documents tbody tr[data-status=ready] >> nth=1")
    yield pg
    ctx.close()
    assert not errors, errors


def ask(pg: Any, question: str) -> None:
    pg.fill("#question", question)
    pg.click("#ask-btn")
    pg.wait_for_selector("#trust:not([hidden])", timeout=60_000)
    pg.wait_for_selector("#ask-btn:not([disabled])")


def shot(pg: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / name), full_page=True)


# --- answer panel --------------------------------------------------------------------------------


def test_trust_reasons_in_words_and_scope_understood(page: Any) -> None:
    ask(page, REVENUE_Q)
    assert "4,295" in page.inner_text("#answer")
    assert page.get_attribute("#trust", "data-trusted") == "true"
    summary = page.inner_text("#trust-summary")
    assert "trusted" in summary and "score" in summary
    passed = page.locator("#trust-reasons li.passed").all_inner_texts()
    assert any("every figure found on the cited page" in r for r in passed)
    assert any("period matches the question" in r for r in passed)
    # the scope that was understood, as picked values
    assert page.eval_on_selector("#scope-company", "s => s.value") == "Northwind Robotics, Inc."
    assert page.eval_on_selector("#scope-year", "s => s.value") == "2023"
    shot(page, "web-trust-scope.png")


def test_one_click_scope_change_asks_again_with_filters(page: Any) -> None:
    ask(page, REVENUE_Q)
    bodies: list[dict[str, Any]] = []
    page.on("request", lambda r: bodies.append(json.loads(r.post_data)) if r.url.endswith("/v1/query") else None)
    other = page.eval_on_selector_all(
        "#scope-company option", "os => os.map(o => o.value).filter(v => v && !v.startsWith('Northwind'))"
    )[0]
    page.select_option("#scope-company", other)  # one change: the question is asked again
    page.wait_for_function("() => document.querySelector('#scope-note').textContent.includes('filters given')")
    page.wait_for_selector("#ask-btn:not([disabled])")
    assert bodies and bodies[-1]["filters"] == {"company": other, "fiscal_year": 2023}
    assert bodies[-1]["question"] == REVENUE_Q
    assert page.eval_on_selector("#scope-company", "s => s.value") == other
    assert page.input_value("#f-company") == other  # the filters form shows the scope in force
    cited = page.locator("#citations li a").all_inner_texts()
    assert cited and all(c.startswith("CEDARRIDGE") for c in cited), cited
    # "every filing": explicit document ids, so inference cannot narrow it again
    page.click("#scope-all")
    page.wait_for_function("() => document.querySelector('#scope-note').textContent.includes('filters given')")
    page.wait_for_selector("#ask-btn:not([disabled])")
    assert sorted(bodies[-1]["filters"]["doc_ids"]) == sorted(
        page.eval_on_selector_all("#documents tbody tr", "rows => rows.map(r => r.dataset.docId)")
    )


def test_calculation_table_links_each_input_to_its_page(page: Any, site: Site) -> None:
    ask(page, EBITDA_Q)
    page.wait_for_selector("#calc:not([hidden]) table.calc")
    tables = page.locator("#calc table.calc")
    assert tables.count() >= 2
    assert "operating income" in page.inner_text("#calc")
    assert "result of step 1" in page.inner_text("#calc")  # the chained step names its source
    final = page.locator("#calc table.calc").last.locator("tfoot td.num").inner_text()
    assert final.endswith("%") and final in page.inner_text("#answer")
    links = page.locator("#calc a.calc-source")
    assert links.count() >= 3
    label = links.first.inner_text()
    links.first.click()
    page.wait_for_selector("#viewer[open] #viewer-img[data-loaded=true]", timeout=60_000)
    doc, _, n = label.rpartition(" p.")
    assert page.inner_text("#viewer-title") == f"{doc}, page {n}"
    assert page.eval_on_selector("#viewer-img", "img => img.naturalWidth") > 300
    assert page.locator("#viewer-marks .highlight").count() >= 1  # the input's row, from its citation's boxes
    shot(page, "web-calculation.png")
    page.keyboard.press("Escape")
    page.wait_for_selector("#viewer:not([open])", state="attached")


# --- evidence highlight --------------------------------------------------------------------------


def _row_rect(pdf: Path, page_no: int, text: str) -> tuple[float, float, float, float, float, float]:
    """Where `text` is on a page, found by our own search of the PDF's text (pypdfium2), in points from
    the top-left: (x0, y0, x1, y1, page width, page height)."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(pdf))
    try:
        pg = doc[page_no - 1]
        width, height = pg.get_size()
        tp = pg.get_textpage()
        found = tp.search(text).get_next()
        assert found, f"{text!r} not on page {page_no}"
        start, count = found
        boxes = [tp.get_charbox(i) for i in range(start, start + count)]
        left, bottom = min(b[0] for b in boxes), min(b[1] for b in boxes)
        right, top = max(b[2] for b in boxes), max(b[3] for b in boxes)
        return left, height - top, right, height - bottom, width, height
    finally:
        doc.close()


def test_highlight_overlaps_the_cited_row(page: Any, site: Site) -> None:
    ask(page, REVENUE_Q)
    cites = page.locator("#citations li a")
    labels = cites.all_inner_texts()
    i = next(k for k, t in enumerate(labels) if t.endswith("p.9"))  # the income statement
    cites.nth(i).click()
    page.wait_for_selector("#viewer[open] #viewer-img[data-loaded=true]", timeout=60_000)
    marks = page.locator("#viewer-marks .highlight")
    assert marks.count() >= 1, page.inner_text("#viewer-note")
    assert "highlighted" in page.inner_text("#viewer-note")
    # Where the revenue figure is on screen, from our own search of the PDF, scaled to the shown image.
    x0, y0, x1, y1, w, h = _row_rect(site.sample_dir / NORTHWIND_10K, 9, "4,295")
    img = page.locator("#viewer-img").bounding_box()
    sx, sy = img["width"] / w, img["height"] / h
    row = {"x0": img["x"] + x0 * sx, "y0": img["y"] + y0 * sy, "x1": img["x"] + x1 * sx, "y1": img["y"] + y1 * sy}
    boxes = [marks.nth(k).bounding_box() for k in range(marks.count())]
    hit = [
        b
        for b in boxes
        if b["x"] <= row["x0"] + 1
        and b["x"] + b["width"] >= row["x1"] - 1  # the figure lies inside the mark
        and b["y"] <= (row["y0"] + row["y1"]) / 2 <= b["y"] + b["height"]
    ]
    assert hit, (row, boxes)
    # the mark is one row tall, not a block of the page
    assert all(b["height"] < 4 * (row["y1"] - row["y0"]) for b in hit)
    # scrolled into view inside the viewer
    view = page.locator("#viewer-scroll").bounding_box()
    assert view["y"] <= hit[0]["y"] and hit[0]["y"] + hit[0]["height"] <= view["y"] + view["height"]
    shot(page, "web-highlight.png")


# --- documents view ------------------------------------------------------------------------------


def test_documents_show_progress_and_failures_with_their_reason(page: Any, tmp_path: Path) -> None:
    rows = page.locator("#documents tbody tr[data-status=ready]")
    for k in range(rows.count()):
        text = rows.nth(k).inner_text()
        assert "pages embedded" in text
        done, total = rows.nth(k).locator("progress").evaluate("p => [p.value, p.max]")
        assert done == total > 0
    broken = tmp_path / "broken-filing.pdf"
    broken.write_bytes(b"%PDF-1.7\nthis is not a PDF body at all\n")
    page.set_input_files("#file-input", str(broken))
    page.click("#upload-btn")
    page.wait_for_selector("#jobs li[data-status=failed]", timeout=60_000)
    job = page.inner_text("#jobs li[data-status=failed]")
    assert "broken-filing" in job and "failed:" in job  # the reason is shown, not just the status
    row = page.locator("#documents tbody tr[data-status=failed]")
    row.wait_for()
    reason = row.locator(".reason").inner_text()
    assert "broken-filing.pdf" in reason and ".pdf" not in reason.replace("broken-filing.pdf", "")  # no stored name
    assert row.locator("button", has_text="edit").count() == 0  # only ready filings can be corrected
    # the failure is still listed with its reason after a reload
    page.reload()
    page.wait_for_selector("#jobs li[data-status=failed]")
    assert "broken-filing" in page.inner_text("#jobs")
    shot(page, "web-documents.png")


def test_correcting_a_filing_from_the_documents_view(page: Any, site: Site) -> None:
    doc = site.docs[CEDAR_8K]
    row = page.locator(f'#documents tr[data-doc-id="{doc}"]')
    points = site.svc.c.store.count("acme", doc)
    row.locator("button", has_text="edit").click()
    company = page.locator(f"#edit-company-{doc}")
    assert company.evaluate("e => e === document.activeElement")  # focus moves into the form
    company.fill("Cedar Ridge Utilities")
    page.fill(f"#edit-fiscal_year-{doc}", "2024")
    page.select_option(f"#edit-doc_type-{doc}", "10-K")
    page.locator(f'#documents tr[data-doc-id="{doc}"] button', has_text="Save").click()
    page.wait_for_function(
        f"""() => {{ const r = document.querySelector('#documents tr[data-doc-id="{doc}"]');
        const year = r && r.querySelector('[data-field=fiscal_year]');
        return year && year.textContent.includes('2024'); }}"""
    )
    cells = {f: row.locator(f"[data-field={f}]").inner_text() for f in ("company", "doc_type", "fiscal_year")}
    assert cells["company"].startswith("Cedar Ridge Utilities") and "corrected" in cells["company"]
    assert cells["doc_type"].startswith("10-K") and cells["fiscal_year"].startswith("2024")
    rec = site.svc.document(doc, "acme")
    assert rec.filing.company == "Cedar Ridge Utilities" and rec.filing.fiscal_year == 2024
    assert site.svc.c.store.count("acme", doc) == points  # re-scoped, not re-embedded
    # Escape cancels an edit without saving
    row.locator("button", has_text="edit").click()
    page.fill(f"#edit-company-{doc}", "Something Else")
    page.keyboard.press("Escape")
    page.wait_for_selector(f'#documents tr[data-doc-id="{doc}"] [data-field=company]')
    assert site.svc.document(doc, "acme").filing.company == "Cedar Ridge Utilities"
    assert row.locator("[data-field=company]").inner_text().startswith("Cedar Ridge Utilities")
    page.wait_for_function("() => document.activeElement.textContent === 'edit'")  # focus back on the row


# --- keyboard and accessibility ------------------------------------------------------------------


def test_every_control_has_a_label(page: Any) -> None:
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input, select, textarea, button')]
        .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.textContent.trim())
        .map(e => e.id || e.outerHTML.slice(0, 80))"""
    )
    assert unlabelled == []
    assert page.get_attribute("#answer-live", "aria-live") == "polite"
    assert page.get_attribute("#ask-error", "role") == "alert"


def test_focus_order_follows_the_page_and_focus_is_visible(page: Any) -> None:
    page.goto(page.url)  # a fresh load: focus starts at the top
    page.wait_for_selector("#documents tbody tr")
    order = []
    outlines = {}
    for _ in range(8):
        page.keyboard.press("Tab")
        info = page.evaluate(
            """() => { const e = document.activeElement; const s = getComputedStyle(e);
            return [e.id || e.tagName.toLowerCase(), s.outlineStyle, parseFloat(s.outlineWidth)]; }"""
        )
        order.append(info[0])
        outlines[info[0]] = (info[1], info[2])
    assert order[:7] == ["skip", "api-key", "save-key", "question", "mode", "ask-btn", "summary"]
    # the skip link leads to the question
    page.keyboard.press("Shift+Tab")
    page.evaluate("() => document.querySelector('#skip').focus()")
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "question"
    for name, (style, width) in outlines.items():
        assert style != "none" and width >= 2, (name, style, width)


def test_keyboard_only_ask_open_source_and_close(page: Any) -> None:
    page.focus("#question")
    page.keyboard.type(REVENUE_Q)
    page.keyboard.press("Enter")
    page.wait_for_selector("#trust:not([hidden])", timeout=60_000)
    assert "4,295" in page.inner_text("#answer")
    link = page.locator("#citations li a").first
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#viewer[open] #viewer-img[data-loaded=true]", timeout=60_000)
    assert page.evaluate("() => document.activeElement.closest('#viewer') !== null")  # focus is in the dialog
    page.keyboard.press("Escape")
    page.wait_for_selector("#viewer:not([open])", state="attached")
    assert page.evaluate("() => document.activeElement.dataset.citation") == "0"  # back where it opened


CONTRAST = """() => {
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
  const lum = ([r, g, b]) => {
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const background = (e) => { for (; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor);
    if (c.length === 3 || c[3] > 0) return c.slice(0, 3); } return [255, 255, 255]; };
  const out = [];
  for (const e of document.querySelectorAll('body *')) {
    const own = [...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own || !e.getClientRects().length || e.closest('[hidden], .visually-hidden, dialog:not([open])')) continue;
    const s = getComputedStyle(e);
    if (s.visibility === 'hidden' || e.disabled) continue;
    const a = lum(rgb(s.color)), b = lum(background(e));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const name = e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : '');
    out.push([name, Math.round(ratio * 100) / 100]);
  }
  return out;
}"""


def test_text_contrast_is_at_least_4_5_to_1(page: Any) -> None:
    ask(page, EBITDA_Q)
    page.wait_for_selector("#calc:not([hidden])")
    measured = page.evaluate(CONTRAST)
    assert len(measured) > 40  # the answer panel, the documents table, the header
    low = [(name, ratio) for name, ratio in measured if ratio < 4.5]
    assert low == [], low
