"""Uploads' ingest jobs: enqueued on the job queue (`finrag.queue`) and run by a worker thread of this
process with the application's handlers (`finrag.jobs`).

The queue is in-process with a SQL journal by default (jobs survive a restart and stay readable), or the
shared Redis queue (FINRAG_SERVE_JOB_QUEUE=redis: `finrag worker` processes take uploads too, so the
uploads folder must be shared with them). One thread runs jobs here because the embedded store is not
safe for concurrent writers; the same `write_lock` is taken by document deletes."""

from __future__ import annotations

import logging
import secrets
import threading
import time
from pathlib import Path

from finrag.queue import Job, JobQueue, JobStatus
from finrag.queue.worker import Handler, Worker

log = logging.getLogger(__name__)


class QueueFullError(Exception):
    pass


class ApiJobs:
    def __init__(self, queue: JobQueue, handlers: dict[str, Handler], max_queued: int = 1000) -> None:
        self.queue = queue
        self.worker = Worker(queue, handlers, poll_s=0.2)
        self.max_queued = max_queued
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def submit_ingest(self, tenant: str, filename: str, path: Path, key_id: str = "") -> Job:
        """Queue an ingest of `path`; QueueFullError when `max_queued` jobs already wait."""
        if self.depth() >= self.max_queued:
            raise QueueFullError(f"{self.max_queued} jobs are waiting")
        payload = {"tenant": tenant, "path": str(path), "filename": filename, "key_id": key_id}
        return self.queue.enqueue("ingest", payload, job_id="job_" + secrets.token_hex(8))

    def get(self, job_id: str, tenant: str) -> Job | None:
        """A job of another tenant is indistinguishable from a missing one."""
        job = self.queue.get(job_id)
        return job if job is not None and job.tenant == tenant else None

    def list(self, tenant: str, limit: int = 100) -> list[Job]:
        return self.queue.list(tenant, limit)

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self.worker.run, args=(self._stop,), name="finrag-jobs", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join(timeout)
        self._thread = None

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def depth(self) -> int:
        return self.queue.counts().get(JobStatus.QUEUED.value, 0)

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """For tests and the benchmark: block until no job waits or runs."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            counts = self.queue.counts()
            if not counts.get(JobStatus.QUEUED.value) and not counts.get(JobStatus.RUNNING.value):
                return True
            time.sleep(0.05)
        return False
