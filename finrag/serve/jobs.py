"""Ingest jobs: persisted in SQL, run one at a time by a single worker thread.

One worker because the shared store is not safe for concurrent writers; the same `write_lock` is
taken by document deletes so no two writes ever overlap."""

from __future__ import annotations

import logging
import queue
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine

from finrag.ingest.pipeline import IngestEvent
from finrag.observability.metrics import Metrics
from finrag.serve.db import JobRow, now_iso, session
from finrag.service import QAService

log = logging.getLogger(__name__)


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Job:
    job_id: str
    tenant: str
    filename: str
    path: str
    status: JobStatus
    reason: str
    doc_id: str
    pages: int
    chunks: int
    created_at: str
    started_at: str | None
    finished_at: str | None


def _job(row: JobRow) -> Job:
    return Job(
        row.job_id,
        row.tenant,
        row.filename,
        row.path,
        JobStatus(row.status),
        row.reason,
        row.doc_id,
        row.pages,
        row.chunks,
        row.created_at,
        row.started_at,
        row.finished_at,
    )


class JobStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def create(self, tenant: str, filename: str, path: Path, key_id: str = "") -> Job:
        row = JobRow(
            job_id="job_" + secrets.token_hex(8),
            tenant=tenant,
            filename=filename,
            path=str(path),
            status=JobStatus.QUEUED.value,
            reason="",
            doc_id="",
            pages=0,
            chunks=0,
            key_id=key_id,
            created_at=now_iso(),
        )
        with session(self.engine) as s, s.begin():
            s.add(row)
        return _job(row)

    def get(self, job_id: str, tenant: str) -> Job | None:
        """A job of another tenant is indistinguishable from a missing one."""
        with session(self.engine) as s:
            row = s.get(JobRow, job_id)
            return _job(row) if row is not None and row.tenant == tenant else None

    def list(self, tenant: str, limit: int = 100) -> list[Job]:
        stmt = select(JobRow).where(JobRow.tenant == tenant).order_by(JobRow.created_at.desc()).limit(limit)
        with session(self.engine) as s:
            return [_job(r) for r in s.scalars(stmt).all()]

    def unfinished(self) -> list[Job]:
        stmt = (
            select(JobRow)
            .where(JobRow.status.in_([JobStatus.QUEUED.value, JobStatus.RUNNING.value]))
            .order_by(JobRow.created_at)
        )
        with session(self.engine) as s:
            return [_job(r) for r in s.scalars(stmt).all()]

    def update(self, job_id: str, **fields: object) -> None:
        with session(self.engine) as s, s.begin():
            row = s.get(JobRow, job_id)
            if row is None:
                return
            for key, value in fields.items():
                setattr(row, key, value.value if isinstance(value, StrEnum) else value)


class IngestWorker:
    """The single writer. `on_change(tenant)` runs after each job (bumps the tenant's index version)."""

    def __init__(
        self,
        service: QAService,
        jobs: JobStore,
        metrics: Metrics,
        write_lock: threading.Lock,
        on_change: Callable[[str], None],
        max_queued: int = 1000,
    ) -> None:
        self.service = service
        self.jobs = jobs
        self.metrics = metrics
        self.write_lock = write_lock
        self.on_change = on_change
        self._queue: queue.Queue[str | None] = queue.Queue(maxsize=max_queued)
        self._thread: threading.Thread | None = None
        self.current: str | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        # Jobs left queued or running by a previous process are redone (ingest is idempotent).
        for job in self.jobs.unfinished():
            self.jobs.update(job.job_id, status=JobStatus.QUEUED, started_at=None)
            self._queue.put_nowait(job.job_id)
        self._thread = threading.Thread(target=self._run, name="finrag-ingest-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        if self._thread is None:
            return
        self._queue.put(None)
        self._thread.join(timeout)
        self._thread = None

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def depth(self) -> int:
        return self._queue.qsize()

    def submit(self, job: Job) -> bool:
        try:
            self._queue.put_nowait(job.job_id)
        except queue.Full:
            return False
        return True

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """For tests and the benchmark: block until every submitted job is done."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._queue.unfinished_tasks == 0:
                return True
            time.sleep(0.05)
        return False

    def _run(self) -> None:
        while True:
            job_id = self._queue.get()
            try:
                if job_id is None:
                    return
                self.current = job_id
                self._process(job_id)
            except Exception:  # never let one job kill the worker
                log.exception("ingest worker error", extra={"job_id": job_id})
            finally:
                self.current = None
                self._queue.task_done()

    def _process(self, job_id: str) -> None:
        with session(self.jobs.engine) as s:
            row = s.get(JobRow, job_id)
            if row is None:
                return
            tenant, path, name = row.tenant, Path(row.path), Path(row.filename).stem
        self.jobs.update(job_id, status=JobStatus.RUNNING, started_at=now_iso())
        t0 = time.perf_counter()
        events: list[IngestEvent] = []
        try:
            with self.write_lock:
                # Uploads are stored under their hash; the document keeps the name it was sent with.
                report = self.service.ingest([path], tenant=tenant, on_event=events.append, names={str(path): name})
        except Exception as exc:
            log.exception("ingest job crashed", extra={"job_id": job_id, "tenant": tenant})
            self.metrics.ingest_documents.labels(status="failed").inc()
            self.jobs.update(
                job_id,
                status=JobStatus.FAILED,
                reason=f"internal error: {type(exc).__name__}: {exc}",
                finished_at=now_iso(),
            )
            return
        finally:
            self.metrics.ingest_duration.observe(time.perf_counter() - t0)
            self.on_change(tenant)

        # A run may also finish documents a crash left behind: report the event of this job's file.
        event = next((e for e in events if Path(e.path).resolve() == path.resolve()), events[0] if events else None)
        if event is None:
            status, reason, fields = JobStatus.FAILED, "nothing was ingested (file missing?)", {}
        elif event.status == "failed":
            status, reason, fields = JobStatus.FAILED, event.reason, {"doc_id": event.doc_id}
        else:
            reason = "unchanged: this file is already ingested" if event.status == "skipped" else ""
            status = JobStatus.SUCCEEDED
            fields = {"doc_id": event.doc_id, "pages": event.pages, "chunks": event.chunks}
        for e in events:
            self.metrics.ingest_documents.labels(status=e.status).inc()
        self.metrics.ingest_pages.inc(report.pages)
        self.jobs.update(job_id, status=status, reason=reason, finished_at=now_iso(), **fields)
        log.info(
            "ingest job finished",
            extra={"job_id": job_id, "tenant": tenant, "status": status.value, "reason": reason},
        )
