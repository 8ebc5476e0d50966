"""Retrieval metrics for questions with evidence pages (FinanceBench format)."""

from __future__ import annotations

import json
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from finrag.records import Hit

KS = (1, 5, 10, 20)


@dataclass(slots=True)
class Question:
    id: str
    question: str
    evidence: list[tuple[str, int]]  # (doc_name, zero-based page)
    answer: str = ""
    raw: dict[str, Any] | None = None


def load_questions(path: Path) -> list[Question]:
    out: list[Question] = []
    for i, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines()):
        if not line.strip():
            continue
        row = json.loads(line)
        evidence = [(e["doc_name"], int(e["evidence_page_num"])) for e in row.get("evidence", [])]
        if not evidence and row.get("doc_name"):
            evidence = [(row["doc_name"], -1)]
        out.append(
            Question(str(row.get("financebench_id", i)), row["question"], evidence, str(row.get("answer", "")), row)
        )
    return out


def first_hits(hits: Sequence[Hit], evidence: Sequence[tuple[str, int]]) -> tuple[int | None, int | None]:
    """1-based rank of the first hit on an evidence page, and on an evidence document."""
    page_rank = doc_rank = None
    docs = {d for d, _ in evidence}
    for rank, hit in enumerate(hits, start=1):
        name = str(hit.chunk.metadata.get("doc_name", ""))
        if name in docs:
            doc_rank = doc_rank or rank
            if page_rank is None and any(
                d == name and hit.chunk.page_start <= p <= hit.chunk.page_end for d, p in evidence
            ):
                page_rank = rank
        if page_rank and doc_rank:
            break
    return page_rank, doc_rank


def summarise(rows: list[dict[str, Any]], latencies_ms: list[float]) -> dict[str, Any]:
    n = len(rows)

    def recall(key: str, k: int) -> float:
        return round(sum(1 for r in rows if r[key] is not None and r[key] <= k) / n, 4) if n else 0.0

    report: dict[str, Any] = {"n": n}
    for k in KS:
        report[f"page_recall@{k}"] = recall("page_rank", k)
    for k in (1, 5, 10, 20):
        report[f"doc_recall@{k}"] = recall("doc_rank", k)
    report["mrr"] = (
        round(sum(1.0 / r["page_rank"] for r in rows if r["page_rank"] and r["page_rank"] <= 20) / n, 4) if n else 0.0
    )
    lat = sorted(latencies_ms)
    report["latency_ms_p50"] = round(statistics.median(lat), 2) if lat else 0.0
    report["latency_ms_p95"] = round(lat[min(len(lat) - 1, int(0.95 * len(lat)))], 2) if lat else 0.0
    report["questions"] = rows
    return report
