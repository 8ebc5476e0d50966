"""The job system's shared types: statuses, jobs, the queue protocol (implementations import these, not the package)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    pass


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
