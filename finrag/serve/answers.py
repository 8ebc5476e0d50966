"""Stored answers, feedback on them and per-tenant LLM spend (SQL, on the gateway's engine).

Every answer the API serves gets an id and a row: question, the answer (JSON), its full trace and
cost. Feedback (up / down, optional comment) points at an answer of the same tenant. Spend is a
counter per tenant and calendar month (UTC), bumped in the same transaction as the answer row."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from finrag.db import session
from finrag.db.models import AnswerRow, FeedbackRow, SpendRow
from finrag.records import Answer

Rating = Literal["up", "down"]


def month_of(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m")


def new_answer_id() -> str:
    return f"ans_{uuid.uuid4().hex[:24]}"


@dataclass(slots=True)
class StoredAnswer:
    answer_id: str
    tenant: str
    created_at: str
    request_id: str
    question: str
    mode: str
    pipeline: str
    cached: bool
    cost_usd: float
    charged_usd: float
    answer: Answer  # with its full trace
    feedback: dict[str, Any] | None


@dataclass(slots=True)
class Feedback:
    answer_id: str
    rating: Rating
    comment: str
    created_at: str
    updated_at: str
    replaced: bool  # an earlier rating of this answer was replaced


class AnswerStore:
    def __init__(self, engine: Engine, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.engine = engine
        self.now = now
        self._lock = threading.Lock()  # SQLite: one writer of the spend counter at a time in this process

    def _iso(self) -> str:
        return self.now().isoformat(timespec="seconds")

    # answers ------------------------------------------------------------------------------------
    def save(
        self,
        tenant: str,
        answer: Answer,
        *,
        mode: str,
        cached: bool,
        request_id: str = "",
        key_id: str = "",
        store: bool = True,
    ) -> tuple[str, float]:
        """(answer id, the tenant's spend this month after it). A cache hit is stored but charged 0.
        With `store=False` only the spend is counted (the id is still returned, unresolvable)."""
        answer_id = new_answer_id()
        charged = 0.0 if cached else max(0.0, float(answer.cost_usd or 0.0))
        data = answer.model_dump(mode="json")
        trace = data.pop("trace", {}) or {}
        month = month_of(self.now())
        with self._lock, session(self.engine) as s, s.begin():
            if store:
                s.add(
                    AnswerRow(
                        answer_id=answer_id,
                        tenant=tenant,
                        created_at=self._iso(),
                        request_id=request_id[:128],
                        key_id=key_id,
                        question=answer.question,
                        mode=mode,
                        pipeline=answer.pipeline,
                        cached=cached,
                        cost_usd=float(answer.cost_usd or 0.0),
                        charged_usd=charged,
                        answer=data,
                        trace=trace,
                    )
                )
            spent = self._add_spend(s, tenant, month, charged)
        return answer_id, spent

    @staticmethod
    def _add_spend(s: Any, tenant: str, month: str, usd: float) -> float:
        res = s.execute(
            update(SpendRow)
            .where(SpendRow.tenant == tenant, SpendRow.month == month)
            .values(usd=SpendRow.usd + usd, answers=SpendRow.answers + 1)
        )
        if res.rowcount == 0:
            try:
                with s.begin_nested():
                    s.add(SpendRow(tenant=tenant, month=month, usd=usd, answers=1))
            except IntegrityError:  # another process inserted it first
                s.execute(
                    update(SpendRow)
                    .where(SpendRow.tenant == tenant, SpendRow.month == month)
                    .values(usd=SpendRow.usd + usd, answers=SpendRow.answers + 1)
                )
        s.flush()
        return float(s.get(SpendRow, (tenant, month)).usd)

    def get(self, tenant: str, answer_id: str) -> StoredAnswer | None:
        """The answer, or None when it does not exist or belongs to another tenant."""
        with session(self.engine) as s:
            row = s.get(AnswerRow, answer_id)
            if row is None or row.tenant != tenant:
                return None
            fb = s.get(FeedbackRow, answer_id)
            feedback = None
            if fb is not None:
                feedback = {"rating": fb.rating, "comment": fb.comment, "updated_at": fb.updated_at}
            answer = Answer.model_validate({**row.answer, "trace": row.trace})
            return StoredAnswer(
                answer_id=row.answer_id,
                tenant=row.tenant,
                created_at=row.created_at,
                request_id=row.request_id,
                question=row.question,
                mode=row.mode,
                pipeline=row.pipeline,
                cached=row.cached,
                cost_usd=row.cost_usd,
                charged_usd=row.charged_usd,
                answer=answer,
                feedback=feedback,
            )

    # feedback -----------------------------------------------------------------------------------
    def add_feedback(
        self, tenant: str, answer_id: str, rating: Rating, comment: str = "", key_id: str = ""
    ) -> Feedback | None:
        """Record (or replace) the rating of an answer; None when the answer is not this tenant's."""
        now = self._iso()
        with session(self.engine) as s, s.begin():
            row = s.get(AnswerRow, answer_id)
            if row is None or row.tenant != tenant:
                return None
            fb = s.get(FeedbackRow, answer_id)
            replaced = fb is not None
            if fb is None:
                fb = FeedbackRow(answer_id=answer_id, tenant=tenant, created_at=now)
                s.add(fb)
            fb.rating = rating
            fb.comment = comment
            fb.key_id = key_id
            fb.updated_at = now
            return Feedback(answer_id, rating, comment, fb.created_at, now, replaced)

    def ratings(self, tenant: str | None = None) -> dict[str, dict[str, int]]:
        """tenant -> {"up": n, "down": n} over all stored feedback."""
        q = select(FeedbackRow.tenant, FeedbackRow.rating, func.count())
        q = q.group_by(FeedbackRow.tenant, FeedbackRow.rating)
        if tenant is not None:
            q = q.where(FeedbackRow.tenant == tenant)
        out: dict[str, dict[str, int]] = {}
        with session(self.engine) as s:
            for t, rating, n in s.execute(q).all():
                out.setdefault(t, {"up": 0, "down": 0})[rating] = int(n)
        return out

    # spend --------------------------------------------------------------------------------------
    def month(self) -> str:
        return month_of(self.now())

    def spend(self, tenant: str, month: str | None = None) -> float:
        with session(self.engine) as s:
            row = s.get(SpendRow, (tenant, month or self.month()))
            return float(row.usd) if row else 0.0

    def spend_by_tenant(self, month: str | None = None) -> dict[str, float]:
        with session(self.engine) as s:
            rows = s.execute(select(SpendRow.tenant, SpendRow.usd).where(SpendRow.month == (month or self.month())))
            return {t: float(u) for t, u in rows.all()}


def satisfaction(counts: dict[str, int]) -> float | None:
    total = counts.get("up", 0) + counts.get("down", 0)
    return counts.get("up", 0) / total if total else None
