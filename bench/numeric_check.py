"""Numeric grounding measured on FinanceBench dev: gold answers against their evidence pages.

    .venv/bin/python bench/numeric_check.py --questions ../shared/financebench/questions_dev.jsonl

(a) extraction answers (figures that should be printed on the page) must PASS: false-alarm rate.
(b) computed answers (ratios, growth, margins): share that passes directly or once a small search
    over helper formulas and evidence-page figures reproduces the figure within its rounding.
(c) copies of passing gold answers with ONE figure altered (scale x1000 / /1000, the figure of
    another year column of the same row, +-5-20 %) must FAIL: detection rate per error type.

With --pdf-dir, an evidence page that states no scale gets the note ingest appends to such pages (the
scale it inherits from the page before or from the rest of its filing, `finrag.finance.scales`), computed from
the filing's PDF as ingest computes it. Without it the pages are checked as the questions file has them.

Nothing from FinanceBench is written to the repository; the console shows ids and figures only.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.formula_solver import Derivation, Operand, derive, operand_pool, restrict
from finrag.answer.grounding import GroundingReport, check_answer
from finrag.finance import calculator as calc
from finrag.finance.calculator import CalcStep
from finrag.finance.figures import Figure, analyze_page, extract_figures, years_in

# --------------------------------------------------------------------------------------------
# Data


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


PDF_DIR: Path | None = None  # set by --pdf-dir: evidence pages get the scale note ingest adds


@cache
def inherited_scales_of(doc_name: str) -> tuple[tuple[float, str] | None, ...]:
    """What ingest computes for each page of this filing (parsed by our parser)."""
    from finrag.finance.scales import inherited_scales
    from finrag.ingest.parse import PdfiumParser

    assert PDF_DIR is not None
    pages = list(PdfiumParser().parse(PDF_DIR / f"{doc_name}.pdf"))
    return tuple(inherited_scales([pg.text for pg in pages]))


def sources_of(q: dict) -> dict[str, str]:
    """Citation key -> full page text of each (distinct) evidence page."""
    from finrag.finance.scales import stated_scales, with_scale_note

    out: dict[str, str] = {}
    for e in q["evidence"]:
        text = e["evidence_text_full_page"]
        if PDF_DIR is not None and not stated_scales(text):
            inherited = inherited_scales_of(e["doc_name"])
            n = e["evidence_page_num"]
            text = with_scale_note(text, inherited[n] if n < len(inherited) else None)
        out.setdefault(f"{e['doc_name']}#p{e['evidence_page_num'] + 1}", text)
    return out


_ARITH = re.compile(r"\d\s*[-+*/]\s*\(?\$?\d|=\s*\(?\$?\d")


def is_computed(q: dict) -> bool:
    """Computed when labelled numerical reasoning or when the justification shows arithmetic."""
    reasoning = (q.get("question_reasoning") or "").lower()
    if reasoning.strip() == "information extraction":
        return False
    return "numerical reasoning" in reasoning or bool(_ARITH.search(q.get("justification") or ""))


# --------------------------------------------------------------------------------------------
# (c) realistic errors


_UP = {"thousand": "million", "million": "billion", "billion": "trillion", "k": "M", "m": "bn", "mn": "bn"}
_UP |= {"bn": "tn", "M": "B", "B": "T", "K": "M", "mm": "bn"}
_DOWN = {"million": "thousand", "billion": "million", "trillion": "billion", "m": "k", "mn": "k", "bn": "mn"}
_DOWN |= {"M": "K", "B": "M", "T": "B", "mm": "k", "tn": "bn"}


def _fmt(x: float, decimals: int, commas: bool) -> str:
    return f"{x:,.{decimals}f}" if commas else f"{x:.{decimals}f}"


def _number_span(fig: Figure, answer: str) -> tuple[int, int]:
    m = re.search(r"\d[\d,]*(?:\.\d+)?|\.\d+", answer[fig.start : fig.end])
    assert m is not None
    return fig.start + m.start(), fig.start + m.end()


def with_number(answer: str, fig: Figure, number: float, decimals: int | None = None) -> str:
    """The answer with `fig`'s written number replaced by `number` (same style, magnitude only)."""
    s, e = _number_span(fig, answer)
    raw = answer[s:e]
    d = fig.decimals if decimals is None else decimals
    return answer[:s] + _fmt(abs(number), d, "," in raw or (abs(number) >= 10_000 and "," in answer)) + answer[e:]


def scale_error(answer: str, fig: Figure, up: bool) -> str | None:
    if fig.unit in ("%", "bps", "x") or (fig.unit or "").endswith("/share"):
        return None
    if fig.scale_word:
        word = fig.scale_word
        table = _UP if up else _DOWN
        # the word as written in the answer (case kept for letters)
        m = re.search(r"(?i)thousand|million|billion|trillion|bn|mn|mm|tn|[kmbt](?![a-z])", answer[fig.start : fig.end])
        if not m:
            return None
        written = m.group(0)
        new = table.get(written) or table.get(written.lower()) or table.get(word)
        if not new:
            return None
        s = fig.start + m.start()
        return answer[:s] + new + answer[s + len(written) :]
    factor = 1000.0 if up else 0.001
    return with_number(answer, fig, fig.number * factor, fig.decimals if up else fig.decimals + 3)


def perturb(answer: str, fig: Figure, factor: float) -> str:
    """The figure off by `factor`, written with its decimals, or with more when those would round
    the error away ("0.01" * 1.12 is written "0.011", not "0.01")."""
    new = fig.number * factor
    d = fig.decimals
    while _fmt(new, d, False) == _fmt(fig.number, d, False) or float(_fmt(new, d, False)) == 0:
        d += 1
    return with_number(answer, fig, new, d)


# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Variant:
    qid: str
    kind: str
    text: str
    calcs: list[CalcStep]
    detected: bool = False


def run(path: Path, seed: int, verbose: bool) -> int:
    console = Console(width=160)
    questions = load(path)
    rng = random.Random(seed)

    extraction = [q for q in questions if not is_computed(q)]
    computed = [q for q in questions if is_computed(q)]

    # ---- (a)
    a_rows = []
    a_pass: list[tuple[dict, GroundingReport, list[CalcStep]]] = []
    a_figs = a_fig_fail = 0
    for q in extraction:
        src = sources_of(q)
        rep = check_answer(q["answer"], src, question=q["question"])
        if rep.total == 0:
            continue
        a_figs += rep.total
        a_fig_fail += rep.total - rep.supported
        if rep.passed:
            a_pass.append((q, rep, []))
        a_rows.append((q, rep))
    a_n = len(a_rows)
    a_fail = sum(not r.passed for _, r in a_rows)

    # ---- (b)
    b_rows = []
    b_pass: list[tuple[dict, GroundingReport, list[CalcStep]]] = []
    derivations: dict[str, dict[int, Derivation]] = {}
    for q in computed:
        src = sources_of(q)
        direct = check_answer(q["answer"], src, question=q["question"])
        if direct.total == 0:
            continue
        pool = operand_pool(src)
        found: dict[int, Derivation] = {}
        steps: list[CalcStep] = []
        for i, c in enumerate(direct.checks):
            if c.supported:
                continue
            d = derive(c.figure, pool)
            if d:
                found[i] = d
                steps.extend(d.steps)
        rep = check_answer(q["answer"], src, steps, question=q["question"]) if steps else direct
        how = "direct" if direct.passed else ("search" if rep.passed else ("partial" if rep.supported else "no"))
        b_rows.append((q, rep, how, found))
        derivations[q["financebench_id"]] = found
        if rep.passed:
            b_pass.append((q, rep, steps))
    b_n = len(b_rows)
    b_direct = sum(h == "direct" for _, _, h, _ in b_rows)
    b_search = sum(h == "search" for _, _, h, _ in b_rows)

    # ---- (c)
    variants: list[Variant] = []
    not_applicable: dict[str, int] = defaultdict(int)
    for origin, passed in (("extraction", a_pass), ("computed", b_pass)):
        for q, rep, steps in passed:
            qid = q["financebench_id"]
            answer = q["answer"]
            figs = extract_figures(answer)
            for fi, (fig, chk) in enumerate(zip(figs, rep.checks, strict=True)):
                for up in (True, False):
                    t = scale_error(answer, fig, up)
                    if t is None:
                        not_applicable[f"{origin}: scale {'×' if up else '÷'}1000"] += 1
                    else:
                        variants.append(Variant(qid, f"{origin}: scale {'×' if up else '÷'}1000", t, steps))
                for sign in (1, -1):
                    u = rng.uniform(0.05, 0.20)
                    variants.append(Variant(qid, f"{origin}: ±5–20 %", perturb(answer, fig, 1 + sign * u), steps))
                # swapped year
                kind = f"{origin}: swapped year"
                made = False
                if chk.match is not None and chk.match.row is not None and chk.match.source_key:
                    page = analyze_page(sources_of(q)[chk.match.source_key])
                    cells = page.rows.get(chk.match.row, [])
                    for idx in cells:
                        if idx is None:
                            continue
                        cell = page.cells.get(idx)
                        if cell is None or cell.col == chk.match.col or cell.year == chk.match.year:
                            continue
                        other = page.figures[idx]
                        base = abs(other.value) if other.scale_word else other.number * chk.match.scale
                        new_number = base / chk.figure.scale
                        if _fmt(new_number, fig.decimals, False) == _fmt(fig.number, fig.decimals, False):
                            continue
                        variants.append(Variant(qid, kind, with_number(answer, fig, new_number), steps))
                        made = True
                elif chk.calc_index is not None:
                    d = derivations[qid].get(fi)
                    if d is not None:
                        for oi, op in enumerate(d.operands):
                            if op.row is None or op.year is None:
                                continue
                            for other in pool_rows(sources_of(q))[op.row]:
                                if other is None or other.year in (None, op.year):
                                    continue
                                swapped = [*d.operands]
                                # the wrong column's value, still labelled with the intended year
                                swapped[oi] = Operand(other.value, op.key, other.text, op.year, op.row, op.col)
                                try:
                                    rebuilt = d.rebuild(swapped)
                                except calc.CalculatorError:
                                    continue
                                new_number = abs(rebuilt[-1].result) / chk.figure.scale
                                if _fmt(new_number, fig.decimals, False) == _fmt(fig.number, fig.decimals, False):
                                    continue
                                new_steps = [x for x in steps if all(x is not y for y in d.steps)] + rebuilt
                                variants.append(Variant(qid, kind, with_number(answer, fig, new_number), new_steps))
                                made = True
                                break
                if not made:
                    not_applicable[kind] += 1

    q_by_id = {q["financebench_id"]: q for q in questions}
    for v in variants:
        q = q_by_id[v.qid]
        rep = check_answer(v.text, sources_of(q), v.calcs, question=q["question"])
        v.detected = not rep.passed

    # ---- (b') how often does the search "derive" a wrong figure? (calibrates (b)); and a strict
    # search over the cells of the years the question names only
    chance = {"loose": [0, 0], "strict": [0, 0]}
    strict_pass = 0
    for q, rep, how, _found in b_rows:
        pool = operand_pool(sources_of(q))
        strict_pool = restrict(pool, years_in(q["question"]))
        unsupported_direct = [i for i, c in enumerate(rep.checks) if c.calc_index is not None or not c.supported]
        if how == "direct" or all(derive(rep.checks[i].figure, strict_pool) for i in unsupported_direct):
            strict_pass += 1
        for i in unsupported_direct:
            fig = rep.checks[i].figure
            for sign in (1, -1):
                u = rng.uniform(0.05, 0.20)
                wrong = extract_figures(perturb(fig.text, _at_zero(fig), 1 + sign * u))[0]
                if fig.scale != 1.0:
                    wrong = wrong.rescaled(fig.scale)
                for mode, pl in (("loose", pool), ("strict", strict_pool)):
                    chance[mode][0] += 1
                    chance[mode][1] += derive(wrong, pl) is not None

    # ---- (d) synthetic one-line answers for every year-column cell of the evidence pages
    synth = synthetic_cells(questions, rng)

    # ---- report
    t = Table(title="(a) extraction gold answers vs their evidence pages (should PASS)", show_lines=False)
    for col in ("id", "reasoning", "figures", "supported", "verdict", "unsupported"):
        t.add_column(col)
    for q, rep in a_rows:
        t.add_row(
            q["financebench_id"][-5:],
            (q.get("question_reasoning") or q["question_type"])[:28],
            " ".join(c.figure.text for c in rep.checks)[:50],
            f"{rep.supported}/{rep.total}",
            "[green]PASS" if rep.passed else "[red]FAIL",
            "; ".join(f"{c.figure.text}: {c.reason}" for c in rep.checks if not c.supported)[:70],
        )
    console.print(t)

    t = Table(title="(b) computed gold answers: direct support or a derivation found by the formula search")
    for col in ("id", "figures", "result", "derivation(s)"):
        t.add_column(col)
    for q, rep, how, found in b_rows:
        colour = {"direct": "green", "search": "green", "partial": "yellow", "no": "red"}[how]
        t.add_row(
            q["financebench_id"][-5:],
            " ".join(c.figure.text for c in rep.checks)[:40],
            f"[{colour}]{how} {rep.supported}/{rep.total}",
            "; ".join(f"{d.step.formula} = {d.step.result:.4g}" for d in found.values())[:90],
        )
    console.print(t)

    by_kind: dict[str, list[Variant]] = defaultdict(list)
    for v in variants:
        by_kind[v.kind].append(v)
    t = Table(
        title="(c) gold answers with ONE figure altered (should FAIL); computed answers are checked with the "
        "steps the search logged for the gold figure; n/a: figures the error cannot apply to (percent for "
        "scale errors; no year column / logged input for a swap)"
    )
    for col in ("error type", "variants", "detected", "rate", "figures n/a", "missed (ids)"):
        t.add_column(col)
    for kind in sorted(by_kind):
        vs = by_kind[kind]
        det = sum(v.detected for v in vs)
        missed = [v for v in vs if not v.detected]
        t.add_row(
            kind,
            str(len(vs)),
            str(det),
            f"{det / len(vs):.1%}",
            str(not_applicable.get(kind, 0)),
            "; ".join(f"{v.qid[-5:]}" for v in missed)[:60],
        )
    for kind, n in not_applicable.items():
        if kind not in by_kind:
            t.add_row(kind, "0", "0", "-", str(n), "")
    console.print(t)
    if verbose:
        for v in variants:
            if not v.detected:
                console.print(f"[yellow]missed[/] {v.kind} {v.qid}: {v.text[:150]!r}")

    t = Table(title="(d) synthetic answers, one per year-column cell of the evidence pages")
    for col in ("case", "answers", "flagged", "rate"):
        t.add_column(col)
    for kind, (n, flagged) in sorted(synth.items()):
        t.add_row(kind, str(n), str(flagged), f"{flagged / max(n, 1):.1%}")
    console.print(t)

    all_v = len(variants)
    all_det = sum(v.detected for v in variants)
    s = Table(title="Summary", show_header=True)
    s.add_column("measure")
    s.add_column("value")
    s.add_row(
        "(a) false alarms (extraction answers with figures)",
        f"{a_fail}/{a_n} = {a_fail / max(a_n, 1):.1%} (figures: {a_fig_fail}/{a_figs})",
    )
    s.add_row(
        "(b) computed answers passing",
        f"{b_direct + b_search}/{b_n} = {(b_direct + b_search) / max(b_n, 1):.1%} "
        f"(direct {b_direct}, via search {b_search})",
    )
    s.add_row(
        "(b) strict search (cells of the question's years only)",
        f"{strict_pass}/{b_n} = {strict_pass / max(b_n, 1):.1%}",
    )
    for mode, (n, hit) in chance.items():
        s.add_row(f"(b') {mode} search 'derives' a figure off by 5–20 %", f"{hit}/{n} = {hit / max(n, 1):.1%}")
    s.add_row("(c) altered answers detected", f"{all_det}/{all_v} = {all_det / max(all_v, 1):.1%}")
    for kind, (n, flagged) in sorted(synth.items()):
        s.add_row(f"(d) synthetic {kind}: flagged", f"{flagged}/{n} = {flagged / max(n, 1):.1%}")
    console.print(s)
    return 0


def _at_zero(fig: Figure) -> Figure:
    """`fig` with its span moved to the start of its own text (to perturb the text alone)."""
    from dataclasses import replace

    return replace(fig, start=0, end=len(fig.text))


_SCALE_NAME = {1e3: "thousand", 1e6: "million", 1e9: "billion"}


def synthetic_cells(questions: list[dict], rng: random.Random) -> dict[str, tuple[int, int]]:
    """For every cell in a year column (pages that state their scale), write "The <row label> was
    $<cell> <scale> in FY<year>." and check it (must pass), then the same with the figure of another
    year column of the row, x1000 / /1000 the scale, and +-5-20 % (must fail).
    Returns kind -> (answers, flagged)."""
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    seen: set[str] = set()
    for q in questions:
        for key, text in sources_of(q).items():
            if key in seen:
                continue
            seen.add(key)
            page = analyze_page(text)
            if len(page.scales) != 1:
                continue
            scale = page.scales[0]
            for idx, cell in page.cells.items():
                f = page.figures[idx]
                if cell.year is None or f.number == 0 or f.scale_word:
                    continue
                label = re.sub(r"\s+", " ", page.contexts[idx]).strip()
                if not re.search(r"[A-Za-z]{3}", label):
                    continue
                if f.unit == "%":
                    body = f"{f.number:,.{f.decimals}f}%"
                elif f.decimals:  # per-share amounts and ratios are not scaled
                    continue
                else:
                    body = f"${f.number:,.0f} {_SCALE_NAME[scale]}"
                answer = f"The {label} was {body} in FY{cell.year}."
                src = {key: text}

                def flagged(a: str, src: dict[str, str] = src) -> bool:
                    return not check_answer(a, src).passed

                out["gold cell (should pass)"][0] += 1
                out["gold cell (should pass)"][1] += flagged(answer)
                fig = extract_figures(answer)[0]
                others = [
                    page.figures[i]
                    for i in page.rows[cell.row]
                    if i is not None and i in page.cells and page.cells[i].year not in (None, cell.year)
                ]
                for o in others:
                    if o.number == f.number:
                        continue
                    out["swapped year"][0] += 1
                    out["swapped year"][1] += flagged(with_number(answer, fig, o.number))
                if f.unit != "%":
                    for up in (True, False):
                        t = scale_error(answer, fig, up)
                        if t:
                            out["scale ×1000" if up else "scale ÷1000"][0] += 1
                            out["scale ×1000" if up else "scale ÷1000"][1] += flagged(t)
                u = rng.uniform(0.05, 0.20) * rng.choice((1, -1))
                out["±5–20 %"][0] += 1
                out["±5–20 %"][1] += flagged(perturb(answer, fig, 1 + u))
    return {k: (v[0], v[1]) for k, v in out.items()}


def pool_rows(sources: dict[str, str]) -> dict[tuple[str, int], list[Operand | None]]:
    return operand_pool(sources).rows


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--questions", type=Path, default=Path("../shared/financebench/questions_dev.jsonl"))
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("-v", "--verbose", action="store_true", help="list the altered answers that passed")
    p.add_argument("--pdf-dir", type=Path, default=None, help="the filings: add ingest's inherited-scale notes")
    args = p.parse_args(argv)
    global PDF_DIR
    PDF_DIR = args.pdf_dir
    return run(args.questions, args.seed, args.verbose)


if __name__ == "__main__":
    raise SystemExit(main())
