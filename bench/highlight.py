"""Evidence highlighting on real filings: are the answer's figures boxed on the right row?

For every FinanceBench dev question, each gold evidence page is parsed as ingest parses it, and every
figure of the gold answer that is written on that page (3+ significant digits or a decimal point, so a
"20" does not match everything) gives one case: the parsed line holding it is quoted, as the answerer
quotes a table row or sentence, and located with `finrag.ingest.boxes.locate_quote`. A case is

- found: the quote got at least one box;
- on the right row: one box holds the figure's own characters (their centre, from pdfium's character
  boxes, read independently of the quote matching) and no character of another text row (one that
  shares no height with the figure) has its centre inside that box.

With `--index-dir` it also asks every question through `QAService.ask` (the real citations, quotes as
the pipelines write them) and scores the citations on gold pages whose quote holds a gold figure the
same way. Evaluation only: nothing of FinanceBench is copied into the repository; screenshots go to
`--out` (outside it).

    python bench/highlight.py --fb ../shared/financebench --out /work/runs/highlight --screenshots 30
    python bench/highlight.py ... --index-dir ~/.cache/finrag/fb-copy     # + end-to-end citations

Also every line with a figure on those pages is quoted and scored the same way ("page-row"): the
locator's robustness over real layouts, beyond the few figures gold answers state verbatim.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from finrag.finance.figures import Figure, extract_figures
from finrag.finance.scales import stated_scales
from finrag.ingest.boxes import PageGlyphs, draw_boxes, locate_quote, page_glyphs
from finrag.ingest.render import render_page_png
from finrag.records import Box


@dataclass
class Case:
    qid: str
    doc: str
    page: int  # zero-based
    figure: str
    quote: str
    source: str  # "gold-line" (the parsed line quoted) or "citation" (a real answer's citation)
    boxes: list[dict[str, float]] = field(default_factory=list)
    found: bool = False
    right_row: bool = False
    figure_located: bool = True
    why: str = ""


def figure_key(token: str) -> str:
    """Digits of a figure as written, decimals kept unless they are all zeros ("1,577.00" -> "1577")."""
    digits = re.sub(r"[^\d.]", "", token).strip(".")
    if "." in digits:
        whole, frac = digits.split(".", 1)
        digits = whole if not frac.strip("0") else f"{whole}.{frac}"
    return digits


def significant(key: str) -> bool:
    return "." in key or len(key.lstrip("0")) >= 3


_TOKEN = re.compile(r"\d[\d,]*(?:\.\d+)?")


def gold_figures(answer: str) -> list[Figure]:
    """The gold answer's figures that can be looked for on a page: 3+ significant digits, a decimal
    point, or a scale word ("$8.7 billion", matched at its own precision against a table in millions)."""
    out = []
    for f in extract_figures(answer):
        tok = _TOKEN.search(f.text)
        if tok and (significant(figure_key(tok.group())) or (f.scale > 1 and f.number >= 1)):
            out.append(f)
    return out


def written_on_page(gold: Figure, token: str, scales: list[float]) -> bool:
    """A page token is the gold figure: the same digits, or (gold with a scale word) the same amount at
    the gold's precision, the page read in one of its stated scales."""
    key = figure_key(token)
    tok = _TOKEN.search(gold.text)
    if not key or tok is None:
        return False
    if key == figure_key(tok.group()):
        return significant(key)
    if gold.scale <= 1 or len(key.split(".")[0].lstrip("0")) < 3:
        return False
    number = float(key)
    return any(round(number * s / gold.scale, gold.decimals) == round(gold.number, gold.decimals) for s in scales)


def figure_chars(g: PageGlyphs, quote: str, key: str) -> list[int] | None:
    """Character indices of the figure on the page line most like the quoted line: the ground truth of
    where the figure is, read from pdfium's characters, not from the locator's match."""
    qwords = set(re.findall(r"[a-z0-9]+", quote.lower()))
    qline = re.sub(r"[^a-z0-9]", "", quote.lower())
    best: tuple[tuple[bool, int], list[int]] | None = None
    for m in re.finditer(r"[^\r\n]+", g.text):
        for t in _TOKEN.finditer(m.group()):
            if figure_key(t.group()) != key:
                continue
            # the very line quoted first (a number repeated elsewhere on the page), then the most words shared
            same = re.sub(r"[^a-z0-9]", "", m.group().lower()) == qline
            score = (same, len(qwords & set(re.findall(r"[a-z0-9]+", m.group().lower()))))
            idx = [m.start() + i for i in range(t.start(), t.end()) if g.boxes[m.start() + i][2] > 0]
            if idx and (best is None or score > best[0]):
                best = (score, idx)
    return best[1] if best else None


def judge(g: PageGlyphs, boxes: list[Box], chars: list[int]) -> tuple[bool, str]:
    """(right row?, why not), in the rendered page's space like the boxes."""
    fig = [g.rendered(g.boxes[i]) for i in chars]
    fx0, fx1 = min(b.x0 for b in fig), max(b.x1 for b in fig)
    fy0, fy1 = min(b.y0 for b in fig), max(b.y1 for b in fig)
    cx, cy = (fx0 + fx1) / 2, (fy0 + fy1) / 2
    holding = [b for b in boxes if b.x0 - 0.5 <= cx <= b.x1 + 0.5 and b.y0 - 0.5 <= cy <= b.y1 + 0.5]
    if not holding:
        return False, "no box holds the figure"
    box = holding[0]
    for i, raw in enumerate(g.boxes):
        if raw[2] <= raw[0] or not g.text[i].isalnum():
            continue  # punctuation (a comma hanging below its digits, rules) is no other row's text
        o = g.rendered(raw)
        if min(o.y1, fy1) - max(o.y0, fy0) > 0:
            continue  # shares height with the figure: the same row
        ox, oy = (o.x0 + o.x1) / 2, (o.y0 + o.y1) / 2
        if box.x0 < ox < box.x1 and box.y0 < oy < box.y1:
            return False, "the box reaches into another row"
    return True, ""


def screenshot(pdf: Path, case: Case, g: PageGlyphs, out: Path, n: int) -> None:
    from PIL import Image, ImageDraw

    boxes = [Box(**b) for b in case.boxes]
    png = draw_boxes(render_page_png(pdf, case.page, scale=2.0), boxes, g.width)
    img = Image.open(io.BytesIO(png)).convert("RGB")
    scale = img.width / g.width
    if boxes:  # the rows around the mark, full width, so the row and its neighbours can be read
        top = max(0, int((min(b.y0 for b in boxes) - 110) * scale))
        bottom = min(img.height, int((max(b.y1 for b in boxes) + 110) * scale))
        img = img.crop((0, top, img.width, bottom))
    caption = f"{case.doc} p.{case.page + 1}  figure {case.figure}  quote: {case.quote[:110]}"
    canvas = Image.new("RGB", (img.width, img.height + 28), "white")
    canvas.paste(img, (0, 28))
    ImageDraw.Draw(canvas).text((6, 8), caption, fill=(0, 0, 160))
    canvas.save(out / f"{n:02d}_{case.source}_{case.doc}_p{case.page + 1}_{case.figure}.png")


def gold_line_cases(questions: list[dict], pdf_dir: Path) -> tuple[list[Case], list[Case]]:
    """(the gold answer's figures on its evidence pages, every figure-bearing line of those pages)."""
    import pypdfium2 as pdfium

    from finrag.ingest.parse import PdfiumParser

    parser = PdfiumParser()
    cases: list[Case] = []
    rows: list[Case] = []
    pages_seen: set[tuple[str, int]] = set()
    for q in questions:
        figures = gold_figures(q["answer"])
        seen: set[tuple[str, int]] = set()
        for ev in q["evidence"]:
            doc, page = ev["doc_name"], int(ev["evidence_page_num"])
            if (doc, page) in seen:
                continue
            seen.add((doc, page))
            pdf_path = pdf_dir / f"{doc}.pdf"
            pdf = pdfium.PdfDocument(str(pdf_path))
            try:
                # one page parsed exactly as ingest parses it (the parser's per-page step)
                text = parser._page(pdf, page, pdf_path).text
            finally:
                pdf.close()
            scales = [*stated_scales(text), 1.0]
            if (doc, page) not in pages_seen:  # every line with a figure, as if each were quoted
                pages_seen.add((doc, page))
                for line in (ln.strip() for ln in text.splitlines()):
                    token = next((t for t in _TOKEN.findall(line) if significant(figure_key(t))), None)
                    if token:
                        rows.append(Case(q["financebench_id"], doc, page, figure_key(token), line, "page-row"))
            for gold in figures:
                for line in (ln.strip() for ln in text.splitlines()):
                    token = next((t for t in _TOKEN.findall(line) if written_on_page(gold, t, scales)), None)
                    if token:
                        cases.append(Case(q["financebench_id"], doc, page, figure_key(token), line, "gold-line"))
                        break
    return cases, rows


def citation_cases(questions: list[dict], index_dir: Path, stats: dict[str, float]) -> list[Case]:
    """The real answers' citations on gold pages whose quote holds a figure of the answer (the system's
    answer text, or the gold answer)."""
    from finrag.service import QAService
    from finrag.settings import load_settings

    svc = QAService(load_settings(data_dir=index_dir))
    cases: list[Case] = []
    located, cited, box_ms, total_ms = 0, 0, [], []
    try:
        for q in questions:
            gold = {(e["doc_name"], int(e["evidence_page_num"])) for e in q["evidence"]}
            answer = svc.ask(q["question"])
            cited += len(answer.citations)
            located += sum(bool(c.boxes) for c in answer.citations)
            box_ms.append(answer.timings_ms.get("boxes", 0.0))
            total_ms.append(answer.timings_ms.get("total", 0.0))
            said = re.sub(r"\[[^\]]*\]", " ", answer.text)  # citation markers hold page numbers
            keys = {figure_key(t) for t in _TOKEN.findall(said) + _TOKEN.findall(q["answer"])}
            keys = {k for k in keys if significant(k) and not re.fullmatch(r"(19|20)\d\d", k)}
            for c in answer.citations:
                doc = c.doc_name.removesuffix(".pdf")
                if (doc, c.page - 1) not in gold:
                    continue
                token = next((t for t in _TOKEN.findall(c.quote) if figure_key(t) in keys), None)
                if token:
                    case = Case(q["financebench_id"], doc, c.page - 1, figure_key(token), c.quote, "citation")
                    case.boxes = [b.model_dump() for b in c.boxes]
                    cases.append(case)
    finally:
        svc.close()
    # every citation of every answer, on any page: how many got a highlight, and what locating cost
    stats.update(
        citations=cited,
        citations_with_boxes=located,
        boxes_ms_p50=round(float(np.percentile(box_ms, 50)), 1),
        boxes_ms_p95=round(float(np.percentile(box_ms, 95)), 1),
        # the same run's whole ask time: a ratio that holds when other jobs share the cores
        boxes_share_of_ask=round(sum(box_ms) / max(sum(total_ms), 1e-9), 3),
    )
    return cases


def score(cases: list[Case], pdf_dir: Path) -> None:
    for c in cases:
        g = page_glyphs(pdf_dir / f"{c.doc}.pdf", c.page)
        if c.source != "citation":
            c.boxes = [b.model_dump() for b in locate_quote(g, c.quote)]
        boxes = [Box(**b) for b in c.boxes]
        c.found = bool(boxes)
        chars = figure_chars(g, c.quote, c.figure)
        if chars is None:
            c.figure_located, c.why = False, "figure not among pdfium's characters"
            continue
        if not c.found:
            c.why = "no box"
            continue
        c.right_row, c.why = judge(g, boxes, chars)


def summary(cases: list[Case]) -> dict[str, float | int]:
    n = len(cases)
    return {
        "cases": n,
        "questions": len({c.qid for c in cases}),
        "found": sum(c.found for c in cases),
        "figure_not_located": sum(not c.figure_located for c in cases),  # no ground truth: counted as misses
        "right_row": sum(c.right_row for c in cases),
        "right_row_share": round(sum(c.right_row for c in cases) / n, 3) if n else 0.0,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--fb", type=Path, default=Path("../shared/financebench"))
    ap.add_argument("--out", type=Path, default=Path("/work/runs/highlight"))
    ap.add_argument("--screenshots", type=int, default=30, help="cases saved as PNG (spread evenly)")
    ap.add_argument("--index-dir", type=Path, help="a FinanceBench index: also score real answers' citations")
    args = ap.parse_args()
    questions = [json.loads(line) for line in (args.fb / "questions_dev.jsonl").read_text().splitlines() if line]
    pdf_dir = args.fb / "pdfs"
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    gold_lines, page_rows = gold_line_cases(questions, pdf_dir)
    groups = {"gold-line": gold_lines, "page-row": page_rows}
    if args.index_dir:
        stats: dict[str, float] = {}
        groups["citation"] = citation_cases(questions, args.index_dir, stats)
        print(
            f"all citations: {stats['citations_with_boxes']}/{stats['citations']} with a box; locating took "
            f"p50 {stats['boxes_ms_p50']} ms, p95 {stats['boxes_ms_p95']} ms per answer, "
            f"{stats['boxes_share_of_ask']:.1%} of the asks' time"
        )
    report: dict[str, object] = {"citations": stats} if args.index_dir else {}
    for name, cases in groups.items():
        score(cases, pdf_dir)
        report[name] = {"summary": summary(cases), "cases": [asdict(c) for c in cases]}
        s = summary(cases)
        print(
            f"{name}: {s['right_row']}/{s['cases']} on the right row ({s['right_row_share']:.1%}), "
            f"{s['found']} with a box, over {s['questions']} questions"
        )
        for c in [c for c in cases if not c.right_row][:25]:
            print(f"   miss {c.doc} p.{c.page + 1} {c.figure}: {c.why} | {c.quote[:90]}")
    shots = groups.get("citation") if args.index_dir and groups.get("citation") else groups["gold-line"]
    chosen = shots[:: max(1, len(shots) // args.screenshots)][: args.screenshots] if args.screenshots else []
    for old in args.out.glob("*.png"):
        old.unlink()
    for n, c in enumerate(chosen, 1):
        screenshot(pdf_dir / f"{c.doc}.pdf", c, page_glyphs(pdf_dir / f"{c.doc}.pdf", c.page), args.out, n)
    report["screenshots"] = [f"{n:02d}" for n in range(1, len(chosen) + 1)]
    (args.out / "report.json").write_text(json.dumps(report, indent=1))
    print(
        f"{len(chosen)} screenshots and report.json in {args.out} ({time.perf_counter() - t0:.0f} s)", file=sys.stderr
    )


if __name__ == "__main__":
    main()
