"""Online evaluation: a share of live answers (1 % by default) scored in the background.

Sampled answers go onto an in-process queue; one worker thread scores them (faithfulness, numeric
support, answer relevance), stores a row per answer in SQL (tables in finrag.db.models) and feeds the
`finrag_online_eval_score{metric=...}` histogram. The request path only pays for a random draw and a
`put_nowait`: a full queue drops the item instead of waiting.

With a job queue (`FINRAG_ANSWER_ONLINE_EVAL_VIA_QUEUE=true` and Redis), sampled answers become
`online_eval` jobs that `finrag worker` scores (`score_now`) into the shared database, off the API
replicas' CPUs; when the queue is unreachable the item is scored in process instead."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import queue
import random
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from finrag.answer.judge import FaithfulnessJudge, combine
from finrag.answer.support import answer_relevance
from finrag.answer.verdict import logged_calculations, score_trust
from finrag.db import create_tables, make_engine
from finrag.db.models import OnlineEvalRow, OnlineJudgeRow
from finrag.queue import JobQueue
from finrag.records import Answer, AnswerKind

log = logging.getLogger(__name__)


ONLINE_EVAL_JOB = "online_eval"  # job kind on the shared queue


@dataclass(slots=True)
class EvalItem:
    tenant: str
    question: str
    answer_text: str
    pipeline: str
    answered_by: str
    sources: dict[str, str]  # citation label -> page text
    citations: int
    calculations: list[dict[str, Any]] = field(default_factory=list)
    inline_faithfulness: float | None = None
    cost_usd: float = 0.0
    kind: str = AnswerKind.TEXT.value  # the answer's kind: the trust score reads it as the engine did

    @classmethod
    def from_answer(cls, tenant: str, answer: Answer, sources: Mapping[str, str]) -> EvalItem:
        return cls(
            tenant=tenant,
            question=answer.question,
            answer_text=answer.text,
            pipeline=answer.pipeline,
            answered_by=str(answer.trace.get("answered_by", "")),
            sources=dict(sources),
            citations=len(answer.citations),
            calculations=list(answer.trace.get("calculations", [])),
            inline_faithfulness=answer.faithfulness,
            cost_usd=answer.cost_usd,
            kind=str(answer.kind),
        )


@dataclass(slots=True)
class EvalScores:
    faithfulness: float
    numeric_support: float
    relevance: float
    unsupported_figures: list[str]
    judge: float | None = None  # the LLM judge's score, when one judged this answer

    def metrics(self) -> dict[str, float]:
        out = {
            "faithfulness": self.faithfulness,
            "numeric_support": self.numeric_support,
            "answer_relevance": self.relevance,
        }
        if self.judge is not None:
            out["judge_faithfulness"] = self.judge
        return out


def score_item(item: EvalItem) -> EvalScores:
    """Re-score an answer against its cited pages with the trust score the engine serves
    (`finrag.answer.trust`), independently of what the pipeline reported."""
    steps = logged_calculations(item.calculations)
    t = score_trust(
        item.question, None, item.answer_text, item.sources, steps, cited=item.citations > 0, kind=item.kind
    )
    numeric = t.checks.get("numeric", {})
    total = int(numeric.get("total", 0))
    return EvalScores(
        faithfulness=round(t.score, 4),
        numeric_support=round(numeric.get("supported", 0) / total, 4) if total else 1.0,
        relevance=round(answer_relevance(item.question, item.answer_text), 4),
        unsupported_figures=t.unsupported_figures,
    )


class OnlineEvaluator:
    """Samples answers, scores them on a worker thread, stores and exports the scores."""

    def __init__(
        self,
        url: str,
        *,
        share: float = 0.01,
        metrics: Any = None,  # finrag.observability.metrics.Metrics; set later by the app when it has one
        queue_size: int = 1000,
        rng: random.Random | None = None,
        autostart: bool = True,
        judge: FaithfulnessJudge | None = None,
        judge_weight: float = 0.5,
        job_queue: JobQueue | None = None,
    ) -> None:
        if not 0.0 <= share <= 1.0:
            raise ValueError("online evaluation share must be between 0 and 1")
        self.url = url
        self.share = share
        self.metrics = metrics
        self.rng = rng or random.Random()
        self.queue: queue.Queue[EvalItem | None] = queue.Queue(maxsize=queue_size)
        self.engine = make_engine(url)
        create_tables(self.engine)
        self.submitted = 0
        self.dropped = 0
        self.scored = 0
        self.failed = 0
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False
        self.autostart = autostart  # False: items wait in the queue until `start()` (tests, deferred start)
        self.judge = judge
        self.judge_weight = judge_weight
        self.job_queue = job_queue
        self.queued_jobs = 0

    # request path ----------------------------------------------------------------------------
    def sampled(self) -> bool:
        return self.share > 0 and self.rng.random() < self.share

    def maybe_submit(self, tenant: str, answer: Answer, sources: Mapping[str, str]) -> bool:
        """Queue the answer for scoring with probability `share`; True when queued."""
        if self._closed or not self.sampled():
            return False
        return self.submit(EvalItem.from_answer(tenant, answer, sources))

    def submit(self, item: EvalItem) -> bool:
        if self.job_queue is not None:
            try:
                self.job_queue.enqueue(ONLINE_EVAL_JOB, dataclasses.asdict(item), max_attempts=2)
            except Exception:  # Redis down: score here rather than lose the sample
                log.warning("online evaluation queue unavailable: scoring in process", exc_info=True)
            else:
                with self._lock:
                    self.submitted += 1
                    self.queued_jobs += 1
                return True
        if self.autostart:
            self.start()
        try:
            self.queue.put_nowait(item)
        except queue.Full:
            with self._lock:
                self.dropped += 1
            return False
        with self._lock:
            self.submitted += 1
        return True

    # worker ----------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the worker thread (idempotent; also restarts one that died)."""
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="finrag-online-eval", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            item = self.queue.get()
            try:
                if item is None:
                    return
                self._process(item)
            except Exception:  # one bad item must not stop the worker
                log.exception("online evaluation failed")
                with self._lock:
                    self.failed += 1
            finally:
                self.queue.task_done()

    def _process(self, item: EvalItem) -> None:
        self.score_now(item)

    def score_now(self, item: EvalItem) -> EvalScores:
        """Score, store and export one item on the calling thread (the in-process worker thread, or
        `finrag worker` running an `online_eval` job)."""
        scores = score_item(item)
        heuristic = scores.faithfulness
        verdict = None
        if self.judge is not None and item.answered_by not in ("", "extractive") and item.answer_text.strip():
            verdict = self.judge.judge(item.question, item.answer_text, item.sources)
            scores.faithfulness = round(combine(heuristic, verdict, self.judge_weight), 4)
            scores.judge = verdict.score if verdict is not None else None
        row = OnlineEvalRow(
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            tenant=item.tenant,
            question=item.question[:4000],
            pipeline=item.pipeline,
            answered_by=item.answered_by[:128],
            faithfulness=scores.faithfulness,
            numeric_support=scores.numeric_support,
            relevance=scores.relevance,
            citations=item.citations,
            unsupported_figures=json.dumps(scores.unsupported_figures),
            inline_faithfulness=item.inline_faithfulness,
            cost_usd=item.cost_usd,
        )
        with Session(self.engine) as s, s.begin():
            s.add(row)
            if verdict is not None:
                s.flush()
                s.add(
                    OnlineJudgeRow(
                        eval_id=row.id,
                        judge=verdict.judge[:160],
                        score=verdict.score,
                        heuristic=heuristic,
                        claims=json.dumps(verdict.to_dict()["claims"]),
                        cost_usd=verdict.cost_usd,
                    )
                )
        if self.metrics is not None:
            for name, value in scores.metrics().items():
                self.metrics.online_eval.labels(metric=name).observe(value)
        with self._lock:
            self.scored += 1
        return scores

    # control ---------------------------------------------------------------------------------
    def join(self, timeout: float = 10.0) -> bool:
        """Wait until every queued item is scored (tests, shutdown); False on timeout."""
        deadline = time.monotonic() + timeout
        while self.queue.unfinished_tasks:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def close(self, timeout: float = 5.0) -> None:
        self._closed = True
        if self._thread is not None and self._thread.is_alive():
            with contextlib.suppress(queue.Full):
                self.queue.put(None, timeout=timeout)
            self._thread.join(timeout)
        if self.job_queue is not None:
            with contextlib.suppress(Exception):  # a dead Redis has nothing left to close
                self.job_queue.close()
        self.engine.dispose()

    def recent(self, limit: int = 50, tenant: str | None = None) -> list[dict[str, Any]]:
        stmt = select(OnlineEvalRow).order_by(OnlineEvalRow.id.desc()).limit(limit)
        if tenant is not None:
            stmt = stmt.where(OnlineEvalRow.tenant == tenant)
        with Session(self.engine) as s:
            rows = s.scalars(stmt).all()
            return [
                {
                    "id": r.id,
                    "created_at": r.created_at,
                    "tenant": r.tenant,
                    "question": r.question,
                    "pipeline": r.pipeline,
                    "answered_by": r.answered_by,
                    "faithfulness": r.faithfulness,
                    "numeric_support": r.numeric_support,
                    "relevance": r.relevance,
                    "citations": r.citations,
                    "unsupported_figures": json.loads(r.unsupported_figures or "[]"),
                    "inline_faithfulness": r.inline_faithfulness,
                    "cost_usd": r.cost_usd,
                }
                for r in rows
            ]

    def stats(self) -> dict[str, int | float]:
        with self._lock:
            return {
                "share": self.share,
                "submitted": self.submitted,
                "scored": self.scored,
                "dropped": self.dropped,
                "failed": self.failed,
                "queued": self.queue.qsize(),
                "queued_jobs": self.queued_jobs,  # sent to `finrag worker` through the job queue
            }
