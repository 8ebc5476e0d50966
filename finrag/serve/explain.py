"""What the answer panel shows of how an answer was checked: the trust score's checks split into failed
and passed, in words, and the calculator's steps with each input linked to its page."""

from __future__ import annotations

import math
import re
from typing import Any

from finrag.answer.trust import TRUSTED
from finrag.answer.verdict import logged_calculations
from finrag.finance.text import page_label
from finrag.records import Answer
from finrag.serve.schemas import CalcInputOut, CalcStepOut, TrustOut

_LABEL = re.compile(r"^(?P<doc>.+) p\.(?P<page>\d+)$")


def trust_out(answer: Answer, threshold: float = TRUSTED) -> TrustOut | None:
    if answer.faithfulness is None:
        return None
    trust: dict[str, Any] = answer.trace.get("trust") or {}
    reasons = [str(r) for r in trust.get("reasons", [])]  # the scorer words each check already
    # Traces written before the split was recorded: a score under the line means the first reason failed.
    n_failed = int(trust.get("failed", 1 if answer.faithfulness < threshold and reasons else 0))
    failed, passed = reasons[:n_failed], reasons[n_failed:]
    judge = answer.trace.get("judge")
    if isinstance(judge, dict) and "score" in judge and "heuristic" in judge:
        unsupported = [c["claim"] for c in judge.get("claims", []) if not c.get("supported")]
        if unsupported:
            failed.append(f"an LLM judge found {len(unsupported)} claim(s) the cited pages do not support")
        else:
            passed.append(f"an LLM judge found every claim supported (judge score {float(judge['score']):.2f})")
    return TrustOut(
        score=answer.faithfulness,
        threshold=threshold,
        trusted=answer.faithfulness >= threshold,
        failed=failed,
        passed=passed,
    )


def _earlier(steps: list[CalcStepOut], value: float) -> int | None:
    """The latest earlier step whose result is `value` (a chained calculation's intermediate)."""
    for n in range(len(steps) - 1, -1, -1):
        if math.isclose(steps[n].result, value, rel_tol=1e-9, abs_tol=1e-12):
            return n
    return None


def calculation_out(answer: Answer, page_url: Any) -> list[CalcStepOut]:
    """`page_url(doc_id, page)`: the page image's URL. Inputs are linked through the answer's citations
    (the calculator logs the citation label an input was read from)."""
    by_label = {page_label(c.doc_name, c.page): c for c in answer.citations}
    doc_ids = {c.doc_name: c.doc_id for c in answer.citations}
    steps = []
    for step in logged_calculations(answer.trace.get("calculations", [])):
        inputs = []
        for i in step.inputs:
            label = i.citation or ""
            cited = by_label.get(label)
            m = _LABEL.match(label)
            doc_name = cited.doc_name if cited else (m.group("doc") if m else "")
            page = cited.page if cited else (int(m.group("page")) if m else None)
            doc_id = cited.doc_id if cited else doc_ids.get(doc_name, "")
            inputs.append(
                CalcInputOut(
                    label=i.name,
                    value=i.value,
                    year=i.year,
                    citation=label,
                    doc_id=doc_id,
                    doc_name=doc_name,
                    page=page,
                    page_image_url=page_url(doc_id, page) if doc_id and page else "",
                    from_step=None if label else _earlier(steps, i.value),
                )
            )
        steps.append(
            CalcStepOut(
                op=step.op,
                formula=step.formula,
                expression=step.expression,
                result=step.result,
                unit=step.unit,
                inputs=inputs,
            )
        )
    return steps
