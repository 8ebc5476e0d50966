"""Answer accuracy end to end: every question asked through `QAService.ask` (question text only, the
facade users call), graded by `finrag.eval.grading`, summarised overall, per question type, per grader
and per half of the set (`finrag.eval.splits.halves`)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from finrag.eval.financebench import evaluate
from finrag.eval.grading import TOLERANCES, AnswerJudge, grade_answer
from finrag.eval.metrics import KS, Question
from finrag.eval.splits import halves
from finrag.service import QAService

GRADES = ("correct", "incorrect", "refused", "ungraded")
HIGH_TRUST = 0.9  # an answer graded wrong at this trust or above is a trust-score failure
TRUST_BINS = 10


WARM_UP_QUESTION = "What was total revenue in the most recent fiscal year?"


def _percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


def _share(n: int, d: int) -> float:
    return round(n / d, 4) if d else 0.0


def summarise_rows(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Counts of each grade, numeric exactness at both tolerances, yes/no polarity, latency, trust misses."""
    n = len(rows)
    counts = {g: sum(1 for r in rows if r["grade"] == g) for g in GRADES}
    numeric = [r for r in rows if r["kind"] == "numeric"]
    yn = [r for r in rows if r["kind"] == "yes/no"]
    lat = [r["latency_ms"] for r in rows]
    wrong_trusted = [r["id"] for r in rows if r["grade"] == "incorrect" and (r["trust"] or 0.0) >= HIGH_TRUST]
    return {
        "n": n,
        **counts,
        "accuracy": _share(counts["correct"], n),
        "accuracy_of_graded": _share(counts["correct"], counts["correct"] + counts["incorrect"]),
        "numeric": {
            "n": len(numeric),
            f"exact@{TOLERANCES[0]:.0%}": _share(sum(r["grade"] == "correct" for r in numeric), len(numeric)),
            f"exact@{TOLERANCES[1]:.1%}": _share(sum(r["grade_loose"] == "correct" for r in numeric), len(numeric)),
            "refused": sum(r["grade"] == "refused" for r in numeric),
        },
        "yes_no": {
            "n": len(yn),
            "right_polarity": _share(sum(r["grade"] == "correct" for r in yn), len(yn)),
            "answered_yes_or_no": sum(
                1 for r in yn if any(g["details"].get("polarity") for g in r["graders"] if g["grader"] == "yes/no")
            ),
            "refused": sum(r["grade"] == "refused" for r in yn),
        },
        "latency_ms_p50": round(statistics.median(lat), 2) if lat else 0.0,
        "latency_ms_p95": _percentile(lat, 0.95),
        f"wrong_with_trust>={HIGH_TRUST}": len(wrong_trusted),
        "wrong_trusted_ids": wrong_trusted,
    }


def by_grader(rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Per grader (numeric, yes/no, judge:<model>, refusal): how it graded the questions it graded."""
    out: dict[str, dict[str, int]] = {}
    for r in rows:
        for g in r["graders"]:
            name = g["grader"]
            slot = out.setdefault(name, {"n": 0, **{k: 0 for k in GRADES}})
            slot["n"] += 1
            slot[g["grade"]] += 1
    return out


def reliability(rows: Iterable[dict[str, Any]], bins: int = TRUST_BINS) -> list[dict[str, Any]]:
    """Trust-score bins vs the share graded correct (of the correct + incorrect answers in the bin)."""
    out = [{"lo": i / bins, "hi": (i + 1) / bins, "n": 0, "correct": 0} for i in range(bins)]
    for r in rows:
        if r["trust"] is None or r["grade"] not in ("correct", "incorrect"):
            continue
        b = out[min(bins - 1, int(r["trust"] * bins))]
        b["n"] += 1
        b["correct"] += r["grade"] == "correct"
    for b in out:
        b["share_correct"] = _share(b["correct"], b["n"]) if b["n"] else None
    return out


def grade_questions(
    service: QAService,
    questions: Sequence[Question],
    *,
    judge: AnswerJudge | None = None,
    tenant: str | None = None,
    retrieval: bool = True,
    on_question: Callable[[Question, dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Ask each question through the facade, grade it, and build the report (JSON-ready). A question
    outside the set is asked first and not counted, so latency is the warm service's (model loaded,
    store open); that first ask's time is reported apart as `cold_start_ms`."""
    rows: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    service.ask(WARM_UP_QUESTION, tenant=tenant)
    cold_start_ms = round((time.perf_counter() - t0) * 1000, 2)
    for q in questions:
        raw = q.raw or {}
        t0 = time.perf_counter()
        answer = service.ask(q.question, tenant=tenant)
        latency = (time.perf_counter() - t0) * 1000
        graded = grade_answer(q.question, answer.text, q.answer, str(raw.get("justification", "")), judge)
        row = {
            "id": q.id,
            "question_type": str(raw.get("question_type", "")) or "unknown",
            "question": q.question,
            "gold": q.answer,
            "answer": answer.text,
            **graded.to_dict(),
            "pipeline": answer.pipeline,
            "trust": answer.faithfulness,
            "unsupported_figures": answer.unsupported_figures,
            "citations": [f"{c.doc_name} p.{c.page}" for c in answer.citations],
            "latency_ms": round(latency, 2),
        }
        rows.append(row)
        if on_question:
            on_question(q, row)
    types = sorted({r["question_type"] for r in rows})
    report: dict[str, Any] = {
        "n": len(rows),
        "cold_start_ms": cold_start_ms,
        "tolerances": list(TOLERANCES),
        "judge": (judge.model or "configured") if judge is not None else None,
        "overall": summarise_rows(rows),
        "by_type": {t: summarise_rows([r for r in rows if r["question_type"] == t]) for t in types},
        "by_grader": by_grader(rows),
        "by_half": {h: summarise_rows(part) for h, part in halves(rows).items()},
        "reliability": reliability(rows),
    }
    if retrieval:
        ret = evaluate(service, list(questions), tenant)
        ret.pop("questions")
        report["retrieval"] = ret
        report["retrieval"]["ks"] = list(KS)
    report["questions"] = rows
    return report
