"""A labeled set for calibrating the trust score, built at run time from questions with gold answers and
gold evidence pages (FinanceBench format: the dev questions, the sample filings' golden questions).

Nothing of the source set is stored: items are made by general rules from each question's gold answer
and evidence page text, then scored by `score` — the ONE function the trust score is measured through,
so a new scorer is measured by swapping its body.

Labels (an item is "correct" or one of the ways of being wrong):
- correct: the gold answer, and paraphrases of it by rule: scale conventions ("$1,577M", "1.58 billion"),
  percent as ratio, rounding, the metric named by a glossary synonym ("capital spending was …").
- altered: the gold figure changed (+/-7 %, x10, digits swapped).
- wrong_period: another year column of the gold figure's table row on the evidence page.
- wrong_row: another row of the same year column on the evidence page.
- wrong_company: another company's gold answer with that company's evidence pages cited.
- non_answer: a quote dump of the evidence page's opening lines, or an evasive sentence.
- flipped_yes_no: a yes/no gold answer with its first word turned ("Yes, ..." -> "No, ...").
- refusal: "the cited pages do not say" with the evidence pages cited. Not wrong, but not an answer to
  trust: it must score under the line too (reported apart, outside the issue's four targets).
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from finrag.answer.trust import trust_score
from finrag.eval.grading import gold_figure
from finrag.eval.metrics import Question
from finrag.eval.splits import halves
from finrag.finance.figures import Figure, analyze_page
from finrag.finance.glossary import GLOSSARY

WRONG_LABELS = ("altered", "wrong_period", "wrong_row", "wrong_company", "non_answer", "flipped_yes_no", "refusal")
TARGETS = {  # the targets: (direction, bound)
    "false_alarms": ("<=", 0.02),
    "altered_caught": (">=", 0.99),
    "wrong_period_company_row_caught": (">=", 0.95),
    "non_answers_flagged": (">=", 0.95),
}


@dataclass(slots=True)
class CalibrationItem:
    id: str  # question id + variant
    question_id: str
    source: str  # "financebench" | "sample" | ...
    question: str
    answer: str
    cited_pages: dict[str, str]  # citation key -> page text
    label: str  # "correct" or one of WRONG_LABELS
    variant: str  # the rule that made it ("gold", "paraphrase:compact-scale", "altered:+7%", ...)
    tags: list[str] = field(default_factory=list)  # "computed": the gold figure is not printed on its pages

    @property
    def correct(self) -> bool:
        return self.label == "correct"


def score(question: str, answer_text: str, cited_pages: Mapping[str, str]) -> tuple[float, list[str]]:
    """The product's trust score of an answer given its cited pages, and its reasons.

    `finrag.answer.trust.trust_score`, the scorer the engine, online evaluation and the API use. The
    item carries no answer kind, so it is scored as free text (what an LLM writes)."""
    t = trust_score(question, None, answer_text, cited_pages, cited=bool(cited_pages))
    return t.score, t.reasons


Scorer = Callable[[str, str, Mapping[str, str]], tuple[float, list[str]]]


# ---------------------------------------------------------------------------------------------------------
# Building items


def _pages(q: Question) -> dict[str, str]:
    raw = q.raw or {}
    out: dict[str, str] = {}
    for e in raw.get("evidence", []):
        text = str(e.get("evidence_text_full_page") or e.get("evidence_text") or "")
        if text.strip():
            out[f"{e['doc_name']} p.{int(e['evidence_page_num']) + 1}"] = text
    return out


def _company(q: Question) -> str:
    raw = q.raw or {}
    return str(raw.get("company") or (q.evidence[0][0].split("_")[0] if q.evidence else ""))


def _cite(pages: Mapping[str, str]) -> str:
    return f"[{next(iter(pages))}]" if pages else ""


def format_like(fig: Figure, value: float, decimals: int | None = None) -> str:
    """`value` (base units) written the way `fig` is written: same unit, scale word and decimals."""
    num = abs(value) / (fig.scale or 1.0)
    dec = fig.decimals if decimals is None else decimals
    digits = f"{num:,.{dec}f}" if "," in fig.text or num >= 10_000 else f"{num:.{dec}f}"
    sign = "-" if value < 0 else ""
    unit = fig.unit or ""
    if unit == "%":
        return f"{sign}{digits}%"
    scale = f" {fig.scale_word}" if fig.scale_word and len(fig.scale_word) > 2 else (fig.scale_word or "")
    if unit in ("USD", "USD/share"):
        return f"{sign}${digits}{scale}"
    if unit == "x":
        return f"{sign}{digits}x"
    return f"{sign}{digits}{scale}"


def _replace(text: str, fig: Figure, new: str) -> str:
    return text[: fig.start] + new + text[fig.end :]


def _money_words(value: float, tolerance: float = 0.0) -> list[tuple[str, str]]:
    """Paraphrases of an amount in base units: (rule, text). A paraphrase states no more precision than
    the gold (`tolerance`: half a unit of its last stated digit, in base units): "$0.40" billion is not
    rewritten "$400M", which claims the amount to the million."""
    out: list[tuple[str, str]] = []
    v = abs(value)
    neg = "-" if value < 0 else ""

    def decimals(scale: float, most: int) -> int | None:
        """Decimals at `scale` that keep within the gold's precision; None when even whole units are finer."""
        if tolerance <= 0:
            return most
        d = math.floor(math.log10(0.5 * scale / tolerance) + 1e-9)
        return None if d < 0 else min(d, most)

    dm = decimals(1e6, 1)
    if v >= 1e6 and dm is not None:
        m = v / 1e6
        out.append(("compact-scale", f"{neg}${m:,.{0 if m >= 100 else dm}f}M"))
        out.append(("million-words", f"{neg}${m:,.{dm}f} million"))
    db = decimals(1e9, 2)
    if v >= 1e8 and db is not None:
        out.append(("billions", f"{neg}{v / 1e9:.{db}f} billion dollars"))
    return out


def _synonym(question: str) -> tuple[str, str] | None:
    """(term in the question, another plain wording of it from the glossary): "capex" -> "capital spending"."""
    for pattern, _ in GLOSSARY:
        alts = [a.replace("s?", "") for a in pattern.split("|")]
        plain = [a for a in alts if re.fullmatch(r"[a-z &]+", a)]
        for a in plain:
            if re.search(rf"(?i)\b{re.escape(a)}\b", question):
                others = [b for b in plain if b != a and len(b) > 3]
                if others:
                    return a, others[-1]
    return None


def _find_on_page(gold: Figure, pages: Mapping[str, str]) -> tuple[str, Any, int] | None:
    """(page key, PageIndex, figure index) of a page table cell that prints the gold figure's number."""
    for key, text in pages.items():
        idx = analyze_page(text)
        for i, f in enumerate(idx.figures):
            if i in idx.row_of and f.number > 0 and math.isclose(f.number, gold.number, rel_tol=1e-9):
                return key, idx, i
    return None


def items_for_question(q: Question, source: str) -> list[CalibrationItem]:
    """Correct answers and single-question wrong answers (wrong_company needs a second question)."""
    pages = _pages(q)
    if not pages or not q.answer.strip():
        return []
    cite = _cite(pages)
    company = _company(q)
    out: list[CalibrationItem] = []

    def add(label: str, variant: str, answer: str, tags: Sequence[str] = ()) -> None:
        out.append(CalibrationItem(f"{q.id}:{variant}", q.id, source, q.question, answer, pages, label, variant,
                                   list(tags)))  # fmt: skip

    gold_text = q.answer.strip()
    gf = gold_figure(gold_text, q.question)
    on_page = _find_on_page(gf.figure, pages) if gf else None
    tags = ["computed"] if gf and on_page is None else []
    add("correct", "gold", f"{gold_text} {cite}", tags)
    if gf is not None:
        fig, value = gf.figure, gf.figure.value
        wrap = (lambda s: f"{company}: {s} {cite}") if gf.bare else (lambda s: _replace(gold_text, fig, s) + f" {cite}")
        if fig.unit in ("USD", None) and abs(value) >= 1e6:
            for rule, text in _money_words(value, fig.tolerance()):
                add("correct", f"paraphrase:{rule}", wrap(text), tags)
        if fig.unit == "%":
            add("correct", "paraphrase:ratio", wrap(f"{value / 100:.{fig.decimals + 2}f}"), tags)
        if fig.decimals >= 2 and fig.unit not in ("USD", "USD/share"):  # money's cents are format, not precision
            rounded = format_like(fig, round(value, fig.decimals - 1), fig.decimals - 1)
            add("correct", "paraphrase:rounded", wrap(rounded), tags)
        syn = _synonym(q.question)
        if syn is not None:
            add("correct", "paraphrase:synonym", f"{company}'s {syn[1]} was {fig.text} {cite}.", tags)
        for rule, factor in (("+7%", 1.07), ("-7%", 0.93), ("x10", 10.0)):
            altered = format_like(fig, value * factor)
            if altered != format_like(fig, value):  # "0.01" +7% still reads 0.01: not an altered answer
                add("altered", f"altered:{rule}", wrap(altered))
        digits = re.sub(r"\D", "", fig.text)
        if len(set(digits)) > 1:
            swapped = _swap_digits(fig.text)
            if swapped != fig.text:
                add("altered", "altered:digits-swapped", wrap(swapped))
        if on_page is not None:
            _key, idx, i = on_page
            row = idx.rows.get(idx.row_of[i], [])
            cell = idx.cells.get(i)
            others = [j for j in row if j is not None and j != i and idx.figures[j].number != fig.number]
            dated = [j for j in others if idx.cells.get(j) is not None and idx.cells[j].year is not None]
            if dated:
                other = idx.figures[dated[0]]
                add("wrong_period", f"wrong-period:{idx.cells[dated[0]].year}",
                    wrap(format_like(fig, math.copysign(other.number * (fig.scale or 1.0), value))))  # fmt: skip
            if cell is not None and cell.year is not None:
                same_col = [
                    j for j, c in idx.cells.items()
                    if c.col == cell.col and c.row != cell.row and idx.figures[j].number not in (0, fig.number)
                ]  # fmt: skip
                if same_col:
                    other = idx.figures[same_col[len(same_col) // 2]]
                    add("wrong_row", "wrong-row",
                        wrap(format_like(fig, math.copysign(other.number * (fig.scale or 1.0), value))))  # fmt: skip
    # non-answers: a dump of page lines that carry figures (not the gold's: a quote of the answer's own row
    # could count as answering), and an evasive sentence
    first_page = next(iter(pages.values()))
    gold_digits = f"{gf.figure.number:,.0f}" if gf is not None and gf.figure.number >= 1 else None
    lines = [
        ln.strip() for ln in first_page.splitlines()
        if re.search(r"\d", ln) and len(ln.strip()) > 20 and not (gold_digits and gold_digits in ln)
    ][:3]  # fmt: skip
    if lines:
        add("non_answer", "quote-dump", "\n".join(f"{ln} {cite}" for ln in lines))
    add("non_answer", "evasive", f"The cited pages of {company}'s filing discuss this topic in detail {cite}.")
    flipped = _flip_yes_no(gold_text)
    if flipped is not None:
        add("flipped_yes_no", "flipped-yes-no", f"{flipped} {cite}")
    add("refusal", "refusal", f"I cannot determine this from the sources: the cited pages do not state it {cite}.")
    return out


def _flip_yes_no(gold: str) -> str | None:
    """The gold answer with its opening "Yes"/"No" turned, or None when it opens with neither."""
    m = re.match(r"(?i)^\s*(yes|no)\b", gold)
    if m is None:
        return None
    word = m.group(1)
    turned = {"yes": "no", "no": "yes"}[word.lower()]
    turned = turned.capitalize() if word[0].isupper() else turned
    return gold[: m.start(1)] + turned + gold[m.end(1) :]


def _swap_digits(text: str) -> str:
    """The first two different adjacent digits swapped: "1,577" -> "5,177"."""
    chars = list(text)
    pos = [i for i, c in enumerate(chars) if c.isdigit()]
    for a, b in itertools.pairwise(pos):
        if chars[a] != chars[b]:
            chars[a], chars[b] = chars[b], chars[a]
            return "".join(chars)
    return text


def wrong_company_items(questions: Sequence[Question], source: str) -> list[CalibrationItem]:
    """For each question with a figure answer: the next such question (by id) of another company, its gold
    answer and its evidence pages cited — a grounded answer about the wrong company."""
    usable = [q for q in sorted(questions, key=lambda q: q.id) if _pages(q) and gold_figure(q.answer, q.question)]
    out: list[CalibrationItem] = []
    for n, q in enumerate(usable):
        other = next((o for o in usable[n + 1 :] + usable[:n] if _company(o) != _company(q)), None)
        if other is None:
            continue
        pages = _pages(other)
        answer = f"{_company(other)}: {other.answer.strip()} {_cite(pages)}"
        out.append(CalibrationItem(f"{q.id}:wrong-company", q.id, source, q.question, answer, pages, "wrong_company",
                                   f"wrong-company:{other.id}"))  # fmt: skip
    return out


def build_items(questions: Sequence[Question], source: str) -> list[CalibrationItem]:
    items = [it for q in questions for it in items_for_question(q, source)]
    return items + wrong_company_items(questions, source)


# ---------------------------------------------------------------------------------------------------------
# Measuring


def auroc(scores_correct: Sequence[float], scores_wrong: Sequence[float]) -> float | None:
    """P(score of a correct item > score of a wrong one), ties counting half (Mann-Whitney U)."""
    if not scores_correct or not scores_wrong:
        return None
    wins = 0.0
    for c in scores_correct:
        for w in scores_wrong:
            wins += 1.0 if c > w else 0.5 if c == w else 0.0
    return round(wins / (len(scores_correct) * len(scores_wrong)), 4)


def _rate(flags: Iterable[bool]) -> tuple[float | None, int]:
    f = list(flags)
    return (round(sum(f) / len(f), 4) if f else None), len(f)


def measure(items: Sequence[CalibrationItem], scorer: Scorer = score, threshold: float = 0.7) -> dict[str, Any]:
    """Score every item; rates of flags (score < threshold) per label, against the targets, and AUROC."""
    rows = []
    for it in items:
        s, reasons = scorer(it.question, it.answer, it.cited_pages)
        rows.append({"id": it.id, "source": it.source, "label": it.label, "variant": it.variant, "tags": it.tags,
                     "score": round(s, 4), "flagged": s < threshold, "reasons": reasons[:4]})  # fmt: skip

    def part(sel: Sequence[dict[str, Any]]) -> dict[str, Any]:
        correct = [r for r in sel if r["label"] == "correct"]
        wrong = [r for r in sel if r["label"] != "correct"]
        fa, n_c = _rate(r["flagged"] for r in correct)
        out: dict[str, Any] = {"n": len(sel), "correct": n_c, "false_alarms": fa}
        fa_page, n_page = _rate(r["flagged"] for r in correct if "computed" not in r["tags"])
        out["false_alarms_figure_on_page"] = fa_page
        out["correct_figure_on_page"] = n_page
        for label in WRONG_LABELS:
            out[f"{label}_caught"], out[f"{label}_n"] = _rate(r["flagged"] for r in wrong if r["label"] == label)
        out["altered_caught"] = out.pop("altered_caught")
        out["wrong_period_company_row_caught"], out["wrong_period_company_row_n"] = _rate(
            r["flagged"] for r in wrong if r["label"] in ("wrong_period", "wrong_company", "wrong_row")
        )
        out["non_answers_flagged"] = out.pop("non_answer_caught")
        # over the five ways of being wrong (comparable with the first measurement), and with the
        # flipped yes/no and refusal items too
        first = [r["score"] for r in wrong if r["label"] in WRONG_LABELS[:5]]
        out["auroc"] = auroc([r["score"] for r in correct], first)
        out["auroc_all"] = auroc([r["score"] for r in correct], [r["score"] for r in wrong])
        out["targets_met"] = {
            k: (out[k] is not None and (out[k] <= bound if op == "<=" else out[k] >= bound))
            for k, (op, bound) in TARGETS.items()
        }
        by_variant: dict[str, list[bool]] = {}
        for r in sel:
            by_variant.setdefault(r["variant"].split(":")[0] + ":" + r["label"], []).append(r["flagged"])
        out["flag_rate_by_variant"] = {k: _rate(v)[0] for k, v in sorted(by_variant.items())}
        return out

    sources = sorted({r["source"] for r in rows})
    by_half: dict[str, dict[str, Any]] = {}
    for s in sources:
        qids = [{"id": q} for q in sorted({r["id"].split(":")[0] for r in rows if r["source"] == s})]
        for half, part_ids in halves(qids).items():
            ids = {q["id"] for q in part_ids}
            by_half[f"{s} {half}"] = part([r for r in rows if r["source"] == s and r["id"].split(":")[0] in ids])
    return {
        "threshold": threshold,
        "overall": part(rows),
        "by_source": {s: part([r for r in rows if r["source"] == s]) for s in sources},
        "by_half": by_half,  # halves of each source's question ids (finrag.eval.splits.halves)
        "items": rows,
    }
