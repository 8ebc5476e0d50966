"""Online evaluation: sampling, the background worker, SQLite rows and the Prometheus histogram."""

from __future__ import annotations

import random
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import create_engine, inspect

from finrag.answer.llm_answerer import LLMAnswerer
from finrag.answer.online_eval import EvalItem, OnlineEvaluator, score_item
from finrag.answer.pipelines import AnswerEngine, AnswerSettings, service_context
from finrag.llm import LLMSettings
from finrag.observability.metrics import build_metrics

QUESTIONS = [
    "What is Bluefin Foods' FY2023 inventory turnover ratio?",
    "What was Bluefin Foods Corporation formerly known as?",
]


def evaluator(tmp_path: Path, **kw: Any) -> OnlineEvaluator:
    return OnlineEvaluator(f"sqlite:///{tmp_path / 'eval.sqlite3'}", **kw)


def engine(online: OnlineEvaluator | None) -> AnswerEngine:
    llm = LLMAnswerer.from_settings(LLMSettings(providers=["extractive"]))
    return AnswerEngine(llm, AnswerSettings(online_eval_share=0), online_eval=online)


def histogram_count(metrics: Any, metric: str) -> float:
    return metrics.registry.get_sample_value("finrag_online_eval_score_count", {"metric": metric}) or 0.0


def test_default_share_is_one_percent() -> None:
    assert AnswerSettings().online_eval_share == 0.01
    ev = OnlineEvaluator("sqlite://", share=0.01, rng=random.Random(7))
    sampled = sum(ev.sampled() for _ in range(20_000))
    assert 140 <= sampled <= 260  # 1 % of 20,000 = 200
    ev.close()


def test_share_zero_never_samples(tmp_path: Path) -> None:
    ev = evaluator(tmp_path, share=0.0)
    assert not any(ev.sampled() for _ in range(1000))
    ev.close()


def test_live_answers_are_scored_stored_and_exported(sample_service: Any, tmp_path: Path) -> None:
    metrics = build_metrics()
    ev = evaluator(tmp_path, share=1.0, metrics=metrics)
    eng = engine(ev)
    ctx = service_context(sample_service, "default")
    answers = [eng.answer(q, sample_service.retrieve(q), "auto", ctx) for q in QUESTIONS]
    assert ev.join(timeout=20)
    rows = ev.recent()
    assert len(rows) == 2 and {r["question"] for r in rows} == set(QUESTIONS)
    by_q = {r["question"]: r for r in rows}
    calc = by_q[QUESTIONS[0]]
    assert calc["pipeline"] == "agentic" and calc["answered_by"] == "calculator"
    # the background scorer re-checks the calculator answer against the cited pages: fully grounded
    assert calc["faithfulness"] == 1.0 and calc["numeric_support"] == 1.0 and calc["unsupported_figures"] == []
    assert calc["inline_faithfulness"] == answers[0].faithfulness
    for r in rows:
        assert r["tenant"] == "default" and r["citations"] >= 1
        assert 0.0 <= r["relevance"] <= 1.0 and 0.0 <= r["faithfulness"] <= 1.0
    for name in ("faithfulness", "numeric_support", "answer_relevance"):
        assert histogram_count(metrics, name) == 2
    assert ev.stats()["scored"] == 2 and ev.stats()["dropped"] == 0
    ev.close()
    # its own table next to whatever else lives in the database
    assert "online_eval" in inspect(create_engine(f"sqlite:///{tmp_path / 'eval.sqlite3'}")).get_table_names()


def test_scores_flag_an_unsupported_figure() -> None:
    page = "Consolidated Statements of Income\n(In millions)\n2023 2022\nNet sales $ 5,648 $ 5,328\n"
    item = EvalItem(
        tenant="t",
        question="What was Bluefin Foods' revenue in fiscal 2023?",
        answer_text="Revenue was $9,999 million in fiscal 2023 [BF p.9].",
        pipeline="easy",
        answered_by="anthropic:claude-sonnet-4-6",
        sources={"BF p.9": page},
        citations=1,
    )
    s = score_item(item)
    assert s.numeric_support == 0.0 and s.unsupported_figures == ["$9,999 million"]
    assert s.faithfulness < 0.7 and s.relevance > 0


def test_full_queue_drops_instead_of_blocking(tmp_path: Path) -> None:
    ev = evaluator(tmp_path, share=1.0, queue_size=2, autostart=False)
    item = EvalItem("t", "q?", "I don't know based on the provided sources.", "easy", "x", {}, 0)
    results = [ev.submit(item) for _ in range(5)]
    assert results == [True, True, False, False, False]
    assert ev.stats()["dropped"] == 3 and ev.stats()["queued"] == 2
    ev.start()
    assert ev.join(timeout=10)
    assert ev.stats()["scored"] == 2 and len(ev.recent()) == 2
    ev.close()


def test_a_bad_item_does_not_stop_the_worker(tmp_path: Path) -> None:
    ev = evaluator(tmp_path, share=1.0)
    bad = EvalItem("t", "q?", "Revenue was $5 million [X p.1].", "easy", "x", {"X p.1": "Revenue $5"}, 1)
    bad.calculations = [{"op": "ratio", "formula": "{0}", "expression": "not an expression", "inputs": [], "result": 1}]
    good = EvalItem("t", "q2?", "Revenue was $5 million [X p.1].", "easy", "x", {"X p.1": "Revenue was $5 million."}, 1)
    ev.submit(bad)
    ev.submit(good)
    assert ev.join(timeout=10)
    stats = ev.stats()
    assert stats["scored"] + stats["failed"] == 2 and stats["scored"] >= 1
    ev.submit(good)
    assert ev.join(timeout=10) and ev.stats()["scored"] >= 2
    ev.close()


def test_engine_from_settings_wires_the_evaluator(tmp_path: Path) -> None:
    # what AnswerEngine.from_settings reads from finrag.settings.Settings (once it has `answer`)
    settings = SimpleNamespace(
        llm=LLMSettings(providers=["extractive"]),
        answer=AnswerSettings(online_eval_share=0.5),
        sqlite_url=f"sqlite:///{tmp_path / 'registry.sqlite3'}",
    )
    eng = AnswerEngine.from_settings(settings)
    assert eng.online_eval is not None and eng.online_eval.share == 0.5
    metrics = build_metrics()
    eng.attach_metrics(metrics)
    assert eng.online_eval.metrics is metrics
    eng.close()
