"""FinanceBench-style evaluation through the same facade users call (question text only)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from finrag.eval.metrics import Question, first_hits, load_questions, summarise
from finrag.service import QAService


def evaluate(
    service: QAService,
    questions: list[Question],
    tenant: str | None = None,
    on_question: Callable[[Question, dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    latencies: list[float] = []
    for q in questions:
        t0 = time.perf_counter()
        result = service.retrieve(q.question, tenant=tenant, top_k=20)
        latencies.append((time.perf_counter() - t0) * 1000)
        page_rank, doc_rank = first_hits(result.hits, q.evidence)
        row = {
            "id": q.id,
            "page_rank": page_rank,
            "doc_rank": doc_rank,
            "scope": result.scope.note,
            "top": [f"{h.chunk.metadata.get('doc_name')}:{h.chunk.page_start}" for h in result.hits[:5]],
        }
        rows.append(row)
        if on_question:
            on_question(q, row)
    return summarise(rows, latencies)


def run_financebench(
    service: QAService,
    questions_file: Path,
    pdf_dir: Path | None,
    tenant: str | None = None,
    on_question: Callable[[Question, dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Ingest (idempotent: an existing index is reused) then evaluate."""
    if pdf_dir is not None:
        service.ingest([pdf_dir], tenant=tenant)
    return evaluate(service, load_questions(questions_file), tenant, on_question)
