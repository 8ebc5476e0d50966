"""Every table finrag keeps in its SQL database, on ONE metadata (`Base.metadata`), so that alembic
(`finrag.db.migrations`) and `create_tables` (the embedded default) know the same schema.

Owners: `documents` (finrag.registry.sql), `finrag_source_objects` / `finrag_leases` (finrag.updater.state),
`finrag_jobs` (finrag.queue's journal), `serve_*` (finrag.serve: keys, index versions, answers,
feedback, spend), `online_eval*`
(finrag.answer.online_eval). The modules keep their logic; only the table definitions live here."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Float, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


# registry ------------------------------------------------------------------------------------------------
class DocumentRow(Base):
    __tablename__ = "documents"

    tenant: Mapped[str] = mapped_column(String(64), primary_key=True)
    doc_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    source_path: Mapped[str] = mapped_column(Text, index=True)
    content_hash: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    pages: Mapped[int] = mapped_column(Integer, default=0)
    chunks: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    filing: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[str] = mapped_column(String(40))
    updated_at: Mapped[str] = mapped_column(String(40))


# updater -------------------------------------------------------------------------------------------------
class SourceObjectRow(Base):
    __tablename__ = "finrag_source_objects"

    source: Mapped[str] = mapped_column(String(512), primary_key=True)  # folder path or s3://bucket/prefix
    key: Mapped[str] = mapped_column(String(1024), primary_key=True)  # relative to the source
    tenant: Mapped[str] = mapped_column(String(64))
    etag: Mapped[str] = mapped_column(String(128))
    content_hash: Mapped[str] = mapped_column(String(64))
    doc_id: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[str] = mapped_column(String(40))


class LeaseRow(Base):
    __tablename__ = "finrag_leases"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[float] = mapped_column(Float)


# API gateway ---------------------------------------------------------------------------------------------
class ApiKeyRow(Base):
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


class JobRow(Base):
    """A job of the embedded (in-process) queue, written through on every change so that a restarted
    process redoes unfinished jobs and still answers for finished ones (GET /v1/jobs)."""

    __tablename__ = "finrag_jobs"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    tenant: Mapped[str] = mapped_column(String(64), index=True)
    payload: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    error: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[str] = mapped_column(String(40), index=True)
    updated_at: Mapped[str] = mapped_column(String(40))
    started_at: Mapped[str | None] = mapped_column(String(40), nullable=True, default=None)
    finished_at: Mapped[str | None] = mapped_column(String(40), nullable=True, default=None)


class IndexVersionRow(Base):
    __tablename__ = "serve_index_versions"

    tenant: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)


class AnswerRow(Base):
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


class FeedbackRow(Base):
    """One rating per answer: a later rating of the same answer replaces the earlier one."""

    __tablename__ = "serve_feedback"

    answer_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64), index=True)
    rating: Mapped[str] = mapped_column(String(8))
    comment: Mapped[str] = mapped_column(Text, default="")
    key_id: Mapped[str] = mapped_column(String(32), default="")
    created_at: Mapped[str] = mapped_column(String(40))
    updated_at: Mapped[str] = mapped_column(String(40))


class SpendRow(Base):
    """LLM spend per tenant and calendar month (UTC), kept apart from the answers so that pruning old
    answers never resets a budget."""

    __tablename__ = "serve_tenant_spend"

    tenant: Mapped[str] = mapped_column(String(64), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # "2025-01"
    usd: Mapped[float] = mapped_column(Float, default=0.0)
    answers: Mapped[int] = mapped_column(Integer, default=0)


# online evaluation ---------------------------------------------------------------------------------------
class OnlineEvalRow(Base):
    __tablename__ = "online_eval"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[str] = mapped_column(String(32), index=True)
    tenant: Mapped[str] = mapped_column(String(128), index=True)
    question: Mapped[str] = mapped_column(Text)
    pipeline: Mapped[str] = mapped_column(String(32))
    answered_by: Mapped[str] = mapped_column(String(128), default="")
    faithfulness: Mapped[float] = mapped_column(Float)
    numeric_support: Mapped[float] = mapped_column(Float)
    relevance: Mapped[float] = mapped_column(Float)
    citations: Mapped[int] = mapped_column(Integer, default=0)
    unsupported_figures: Mapped[str] = mapped_column(Text, default="[]")  # JSON list
    inline_faithfulness: Mapped[float | None] = mapped_column(Float, nullable=True)  # what the answer said
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)


class OnlineJudgeRow(Base):
    """The LLM judge's verdict on a scored answer (own table: online_eval rows predate the judge)."""

    __tablename__ = "online_eval_judge"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    eval_id: Mapped[int] = mapped_column(Integer, index=True)  # online_eval.id
    judge: Mapped[str] = mapped_column(String(160))
    score: Mapped[float] = mapped_column(Float)
    heuristic: Mapped[float] = mapped_column(Float)  # the faithfulness before the judge joined in
    claims: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of {claim, supported, source}
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
