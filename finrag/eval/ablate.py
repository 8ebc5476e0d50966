"""Ablation: each retrieval lever on/off over one index -> recall@k, MRR, latency, in one table."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from finrag.eval.financebench import evaluate
from finrag.eval.metrics import Question, summarise
from finrag.eval.splits import folds, halves
from finrag.retrieve.rerank import build_reranker
from finrag.retrieve.retriever import Retriever
from finrag.service import QAService
from finrag.settings import RetrievalSettings

# name -> changes against the default settings. Query-time levers only: they share one index.
ABLATIONS: list[tuple[str, dict[str, Any]]] = [
    ("default (all levers)", {}),
    ("- scope inference", {"scope": False}),
    ("- glossary rewrite", {"glossary": False}),
    ("+ glossary words in the BM25 query too", {"glossary_sparse": True}),
    ("- rerank (lexical)", {"rerank": "none"}),
    ("- auto-merge", {"automerge": False}),
    ("+ neighbour pages", {"neighbour_pages": 1}),
    ("dense route only", {"routes": "dense"}),
    ("sparse route only", {"routes": "sparse"}),
    ("+ GraphRAG route (cross-filing questions)", {"graph": True}),
    ("- multi-query (≥ 2 line items / years / companies)", {"multi_query": False}),
    ("multi-query with up to 4 sub-queries", {"multi_query_max": 4}),
    ("- section priors", {"section_priors": False}),
    ("- form priors", {"form_priors": False}),
    ("- period grammar in the scope", {"periods": False}),
    ("bare: hybrid only", {"scope": False, "glossary": False, "rerank": "none", "automerge": False}),
]


def ablate(
    service: QAService,
    questions: list[Question],
    configs: list[tuple[str, dict[str, Any]]] | None = None,
    on_config: Callable[[str, dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    base = service.settings.retrieval
    original = service.retriever
    rows = []
    try:
        for name, changes in configs or ABLATIONS:
            settings = RetrievalSettings(**{**base.model_dump(), **changes})
            reranker = build_reranker(settings.rerank, settings.cross_encoder_model, url=settings.rerank_url or None)
            service.retriever = Retriever(
                service.c.store,
                service.c.embedder,
                service.c.sparse,
                service.c.registry,
                settings,
                reranker,
                graph_dir=service.settings.data_dir / "graph",
            )
            result = evaluate(service, questions)
            row = {"config": name, **split_figures(result.pop("questions")), **result}
            rows.append(row)
            if on_config:
                on_config(name, row)
    finally:
        service.retriever = original
    return rows


SPLIT_METRICS = ("page_recall@1", "page_recall@5", "page_recall@10", "page_recall@20", "doc_recall@5", "mrr")


def split_figures(rows: list[dict[str, Any]], k: int = 5) -> dict[str, Any]:
    """The figures of each half by id (A, B) and of k folds, from one evaluation's per-question rows: a
    lever is kept only if it helps both halves (never fitted to one question)."""

    def figures(part: list[dict[str, Any]]) -> dict[str, float]:
        report = summarise(part, [])
        return {m: report[m] for m in SPLIT_METRICS}

    return {
        "halves": {name: figures(part) for name, part in halves(rows).items()},
        "folds": [figures(part) for part in folds(rows, k)],
    }
