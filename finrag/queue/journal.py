"""The in-process queue's journal: every job written through to SQL (`finrag_jobs`, SQLite in the data
dir or the deployment's Postgres), so a restarted process redoes unfinished jobs and still reports
finished ones."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.engine import Engine

from finrag.db import session
from finrag.db.models import JobRow
from finrag.queue.base import Job, JobStatus


def _job(row: JobRow) -> Job:
    return Job(
        id=row.id,
        kind=row.kind,
        payload=dict(row.payload or {}),
        status=JobStatus(row.status),
        attempts=row.attempts,
        max_attempts=row.max_attempts,
        error=row.error or "",
        result=dict(row.result or {}),
        created_at=row.created_at,
        updated_at=row.updated_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
    )


class SqlJobJournal:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def save(self, job: Job) -> None:
        with session(self.engine) as s, s.begin():
            s.merge(
                JobRow(
                    id=job.id,
                    kind=job.kind,
                    tenant=job.tenant,
                    payload=job.payload,
                    status=job.status.value,
                    attempts=job.attempts,
                    max_attempts=job.max_attempts,
                    error=job.error,
                    result=job.result,
                    created_at=job.created_at,
                    updated_at=job.updated_at,
                    started_at=job.started_at,
                    finished_at=job.finished_at,
                )
            )

    def get(self, job_id: str) -> Job | None:
        with session(self.engine) as s:
            row = s.get(JobRow, job_id)
            return _job(row) if row is not None else None

    def list(self, tenant: str, limit: int = 100) -> list[Job]:
        stmt = select(JobRow).where(JobRow.tenant == tenant).order_by(JobRow.created_at.desc()).limit(limit)
        with session(self.engine) as s:
            return [_job(r) for r in s.scalars(stmt).all()]

    def unfinished(self) -> list[Job]:
        """Jobs a previous process left queued or running, oldest first."""
        stmt = (
            select(JobRow)
            .where(JobRow.status.in_([JobStatus.QUEUED.value, JobStatus.RUNNING.value]))
            .order_by(JobRow.created_at)
        )
        with session(self.engine) as s:
            return [_job(r) for r in s.scalars(stmt).all()]
