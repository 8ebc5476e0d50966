"""The job system: ingest / delete / online-evaluation jobs, one protocol with two implementations.

`InProcessQueue` is the embedded default (the API runs the jobs in its own threads; with a journal, jobs
survive a restart in the SQL database); `RedisQueue` is shared by API replicas and `finrag worker`
processes. Job handlers belong to the application (`finrag.jobs`); this package only runs them.

Semantics shared by both implementations (at-least-once delivery):

* `enqueue` is idempotent on `job_id` (the updater uses tenant + content hash, so a file seen twice is one job);
* `reserve` hands a job to one worker with a lease (visibility timeout); the worker `heartbeat`s while it
  runs. A worker that dies (SIGKILL, OOM, node lost) stops heartbeating; when the lease expires the job
  goes back to the queue, and counts as an attempt;
* `fail` retries with exponential backoff until `max_attempts`, then the job is `failed` with the reason;
  `PermanentJobError` from a handler fails it at once (a corrupt PDF will not parse on the next try);
* completing / failing checks the reservation token, so a worker that was presumed dead and comes back
  cannot overwrite the outcome of the retry.

Handlers must be idempotent (ingest is: content hash + delete-before-write of a document's chunks)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from finrag.settings import Settings


class JobStatus(StrEnum):
    """The one job status (queue, API, worker)."""

    QUEUED = "queued"  # waiting (first time, or for a retry after its backoff)
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"

    @property
    def finished(self) -> bool:
        return self in (JobStatus.SUCCEEDED, JobStatus.FAILED)


class PermanentJobError(Exception):
    """Raised by a handler when retrying cannot help; the job fails at once with this message."""


@dataclass(slots=True)
class Job:
    id: str
    kind: str
    payload: dict[str, Any]
    status: JobStatus = JobStatus.QUEUED
    attempts: int = 0
    max_attempts: int = 3
    error: str = ""
    result: dict[str, Any] = field(default_factory=dict)
    created_at: str = ""
    updated_at: str = ""
    token: str = ""  # this reservation; empty unless running
    started_at: str | None = None  # the latest attempt's start
    finished_at: str | None = None  # succeeded or (finally) failed

    @property
    def tenant(self) -> str:
        return str(self.payload.get("tenant") or "")


@runtime_checkable
class JobQueue(Protocol):
    visibility_s: float

    def enqueue(
        self, kind: str, payload: dict[str, Any], *, max_attempts: int = 3, job_id: str | None = None
    ) -> Job: ...

    def reserve(self, timeout_s: float = 0.0) -> Job | None:
        """The next job, leased to the caller for `visibility_s`; None when none came within the timeout."""
        ...

    def heartbeat(self, job: Job) -> bool:
        """Extend the lease; False when the job is no longer ours (lease expired and it was requeued)."""
        ...

    def complete(self, job: Job, result: dict[str, Any] | None = None) -> bool: ...

    def fail(self, job: Job, reason: str, *, retry: bool = True) -> JobStatus:
        """Queued again (after a backoff) while attempts remain and `retry`, else failed."""
        ...

    def get(self, job_id: str) -> Job | None: ...

    def list(self, tenant: str, limit: int = 100) -> list[Job]:
        """The tenant's jobs (payload "tenant"), newest first."""
        ...

    def counts(self) -> dict[str, int]: ...

    def maintain(self) -> int:
        """Requeue jobs whose lease expired and release due retries; returns how many moved."""
        ...

    def close(self) -> None: ...


def new_job_id() -> str:
    return uuid.uuid4().hex


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def backoff_delay(attempts: int, base_s: float, max_s: float) -> float:
    return min(max_s, base_s * (2 ** max(0, attempts - 1)))


def shared_redis_url(settings: Settings) -> str:
    """The Redis shared by API replicas, workers and the updater (FINRAG_SERVE_REDIS_URL); empty = none."""
    return settings.serve.redis_url


# The old name, still called by finrag.answer.pipelines.engine; it reads the settings, not the environment.
redis_url_from_env = shared_redis_url


def build_queue(redis_url: str = "", *, journal: Any = None, **kwargs: Any) -> JobQueue:
    """Redis when a URL is given, else the in-process queue (with `journal`, a `SqlJobJournal`, durable)."""
    if redis_url:
        from finrag.queue.redis_queue import RedisQueue

        return RedisQueue(redis_url, **kwargs)
    from finrag.queue.memory import InProcessQueue

    return InProcessQueue(journal=journal, **kwargs)
