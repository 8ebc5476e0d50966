"""The gateway's own tables (keys, jobs, index versions, response cache, answers, feedback, spend), on
the registry's database URL but with their own metadata so the registry module stays unaware of them."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, Boolean, Float, Integer, String, Text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from finrag.db import make_engine as open_engine


class ServeBase(DeclarativeBase):
    pass


class ApiKeyRow(ServeBase):
    __tablename__ = "serve_api_keys"

    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(128))
    # sha256 of the whole secret; the secret itself is never stored.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    prefix: Mapped[str] = mapped_column(String(16))  # first characters, to recognise a key in lists
    scopes: Mapped[str] = mapped_column(String(64))  # comma-separated
    created_at: Mapped[str] = mapped_column(String(40))
    revoked_at: Mapped[str | None] = mapped_column(String(40), nullable=True, default=None)


class JobRow(ServeBase):
    __tablename__ = "serve_jobs"

    job_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="ingest")
    filename: Mapped[str] = mapped_column(String(255))
    path: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    doc_id: Mapped[str] = mapped_column(String(64), default="")
    pages: Mapped[int] = mapped_column(Integer, default=0)
    chunks: Mapped[int] = mapped_column(Integer, default=0)
    key_id: Mapped[str] = mapped_column(String(32), default="")
    created_at: Mapped[str] = mapped_column(String(40))
    started_at: Mapped[str | None] = mapped_column(String(40), nullable=True, default=None)
    finished_at: Mapped[str | None] = mapped_column(String(40), nullable=True, default=None)


class IndexVersionRow(ServeBase):
    __tablename__ = "serve_index_versions"

    tenant: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)


class CacheRow(ServeBase):
    __tablename__ = "serve_response_cache"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64), index=True)
    expires_at: Mapped[float] = mapped_column(Float, index=True)
    value: Mapped[dict] = mapped_column(JSON)


class AnswerRow(ServeBase):
    """Every answer served (cache hits included), for GET /v1/answers/{id}, feedback and debugging."""

    __tablename__ = "serve_answers"

    answer_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[str] = mapped_column(String(40), index=True)
    request_id: Mapped[str] = mapped_column(String(128), default="")
    key_id: Mapped[str] = mapped_column(String(32), default="")
    question: Mapped[str] = mapped_column(Text)
    mode: Mapped[str] = mapped_column(String(16), default="auto")
    pipeline: Mapped[str] = mapped_column(String(32), default="")
    cached: Mapped[bool] = mapped_column(Boolean, default=False)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)  # what producing the answer cost
    charged_usd: Mapped[float] = mapped_column(Float, default=0.0)  # what this request cost (0 for a cache hit)
    answer: Mapped[dict] = mapped_column(JSON)  # the Answer without its trace
    trace: Mapped[dict] = mapped_column(JSON)


class FeedbackRow(ServeBase):
    """One rating per answer: a later rating of the same answer replaces the earlier one."""

    __tablename__ = "serve_feedback"

    answer_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64), index=True)
    rating: Mapped[str] = mapped_column(String(8))
    comment: Mapped[str] = mapped_column(Text, default="")
    key_id: Mapped[str] = mapped_column(String(32), default="")
    created_at: Mapped[str] = mapped_column(String(40))
    updated_at: Mapped[str] = mapped_column(String(40))


class SpendRow(ServeBase):
    """LLM spend per tenant and calendar month (UTC), kept apart from the answers so that pruning old
    answers never resets a budget."""

    __tablename__ = "serve_tenant_spend"

    tenant: Mapped[str] = mapped_column(String(64), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # "2025-01"
    usd: Mapped[float] = mapped_column(Float, default=0.0)
    answers: Mapped[int] = mapped_column(Integer, default=0)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def make_engine(url: str) -> Engine:
    engine = open_engine(url)
    ServeBase.metadata.create_all(engine)
    return engine


def session(engine: Engine) -> Session:
    return Session(engine, expire_on_commit=False)
