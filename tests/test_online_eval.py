"""Online evaluation: sampling, the background worker, SQLite rows and the Prometheus histogram."""

from __future__ import annotations

import random
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect

from finrag.answer.context import service_context
from finrag.answer.engine import AnswerEngine
from finrag.answer.llm_answerer import LLMAnswerer
from finrag.answer.online_eval import EvalItem, OnlineEvaluator, score_item
from finrag.answer.wiring import build_engine
from finrag.llm import LLMSettings
from finrag.observability.metrics import build_metrics
from finrag.settings import AnswerSettings

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
    # one scorer: the background score of every sampled answer is the score served with it
    assert all(r["faithfulness"] == r["inline_faithfulness"] for r in rows)
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
    # what build_engine reads from finrag.settings.Settings (once it has `answer`)
    settings = SimpleNamespace(
        llm=LLMSettings(providers=["extractive"]),
        answer=AnswerSettings(online_eval_share=0.5),
        sqlite_url=f"sqlite:///{tmp_path / 'registry.sqlite3'}",
    )
    eng = build_engine(settings)
    assert eng.online_eval is not None and eng.online_eval.share == 0.5
    metrics = build_metrics()
    eng.attach_metrics(metrics)
    assert eng.online_eval.metrics is metrics
    eng.close()


@pytest.mark.integration
def test_sampled_answers_go_through_the_redis_queue_to_a_worker(
    sample_service: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """online_eval_via_queue: the API side enqueues `online_eval` jobs on a real redis-server; the
    worker's handler scores them into the shared database and exports them; with Redis gone, the API
    scores in process instead of losing the sample."""
    from finrag.jobs import service_handlers
    from finrag.queue import JobStatus
    from finrag.queue.redis_queue import RedisQueue
    from finrag.queue.worker import Worker
    from finrag.service import QAService, build_components
    from finrag.settings import ServeSettings
    from tests.conftest import make_settings
    from tests.servers import HashEmbedder, redis_or_skip

    with redis_or_skip() as redis:
        db = f"sqlite:///{tmp_path / 'shared.sqlite3'}"  # Postgres in production: shared by API and workers
        api_settings = make_settings(
            tmp_path / "api",
            database_url=db,
            llm=LLMSettings(providers=["extractive"]),
            answer=AnswerSettings(online_eval_share=1.0, online_eval_via_queue=True),
            serve=ServeSettings(redis_url=redis.url),
        )
        eng = build_engine(api_settings)
        assert eng.online_eval is not None and isinstance(eng.online_eval.job_queue, RedisQueue)
        ctx = service_context(sample_service, "default")
        for q in QUESTIONS:
            eng.answer(q, sample_service.retrieve(q), "auto", ctx)
        queue = eng.online_eval.job_queue
        assert queue.counts()["queued"] == 2 and eng.online_eval.recent() == []  # nothing scored in the API

        worker_settings = make_settings(tmp_path / "worker", database_url=db)
        components = build_components(worker_settings)
        components.embedder = HashEmbedder()
        worker_service = QAService(worker_settings, components)
        metrics = build_metrics()
        worker = Worker(queue, service_handlers(worker_service, metrics), poll_s=0.2)
        jobs = [worker.run_one(2.0) for _ in QUESTIONS]
        assert all(j is not None and j.status is JobStatus.SUCCEEDED for j in jobs)
        rows = {r["question"]: r for r in eng.online_eval.recent()}
        assert set(rows) == set(QUESTIONS)
        assert rows[QUESTIONS[0]]["faithfulness"] == 1.0  # the calculator answer, re-checked by the worker
        assert histogram_count(metrics, "faithfulness") == 2

        redis.kill()  # Redis gone: the sample is scored in the API process, not lost
        eng.answer(QUESTIONS[1], sample_service.retrieve(QUESTIONS[1]), "auto", ctx)
        assert eng.online_eval.join(timeout=20)
        assert len(eng.online_eval.recent()) == 3
        worker_service.close()
        eng.close()


def test_worker_exports_the_scores_of_its_online_eval_jobs(tmp_path: Path) -> None:
    """`finrag worker --metrics-port`: the worker's own /metrics shows the histogram its jobs feed."""
    import dataclasses
    import threading
    import time

    import httpx

    from finrag.answer.online_eval import ONLINE_EVAL_JOB
    from finrag.jobs import run_worker
    from finrag.queue import JobStatus
    from finrag.queue.memory import InProcessQueue
    from finrag.serve.testing import free_port
    from tests.conftest import make_settings

    q = InProcessQueue(visibility_s=30)
    port = free_port()
    stop = threading.Event()
    settings = make_settings(tmp_path / "data", answer=AnswerSettings(online_eval_share=0.0))
    t = threading.Thread(target=run_worker, args=(settings,), kwargs={"queue": q, "stop": stop, "metrics_port": port})
    t.start()
    try:
        item = EvalItem(
            "t",
            "What was revenue?",
            "Revenue was $5 million [X p.1].",
            "easy",
            "x",
            {"X p.1": "Revenue was $5 million."},
            1,
        )
        job = q.enqueue(ONLINE_EVAL_JOB, dataclasses.asdict(item))
        deadline = time.monotonic() + 60
        while (done := q.get(job.id)) is None or done.status is not JobStatus.SUCCEEDED:
            assert time.monotonic() < deadline, done
            time.sleep(0.1)
        body = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        assert 'finrag_online_eval_score_count{metric="faithfulness"} 1.0' in body
        assert OnlineEvaluator(settings.sqlite_url).recent()[0]["question"] == "What was revenue?"
    finally:
        stop.set()
        t.join(30)
