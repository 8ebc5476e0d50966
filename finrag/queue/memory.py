"""In-process job queue: the embedded default (the API runs its worker threads in the same process).

With a journal (`SqlJobJournal`) every change is written through to SQL: jobs a previous process left
queued or running are queued again at start (handlers are idempotent), and finished jobs stay readable."""

from __future__ import annotations

import heapq
import threading
import time
import uuid
from collections import deque
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from finrag.queue.base import Job, JobStatus, backoff_delay, new_job_id, now_iso

if TYPE_CHECKING:
    from finrag.queue.journal import SqlJobJournal


class InProcessQueue:
    def __init__(
        self,
        visibility_s: float = 300.0,
        backoff_s: float = 2.0,
        max_backoff_s: float = 300.0,
        journal: SqlJobJournal | None = None,
    ) -> None:
        self.visibility_s = visibility_s
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self._jobs: dict[str, Job] = {}
        self._pending: deque[str] = deque()
        self._leases: dict[str, float] = {}  # job id -> lease deadline (monotonic)
        self._delayed: list[tuple[float, str]] = []  # (ready at, job id)
        self._cond = threading.Condition()
        self.journal = journal
        if journal is not None:
            # Left by a previous process: queued again; a run cut short counts as an attempt, as when a
            # Redis worker's lease expires.
            for job in journal.unfinished():
                job.token, job.updated_at = "", now_iso()
                if job.status is JobStatus.RUNNING and job.attempts >= job.max_attempts:
                    job.status, job.finished_at = JobStatus.FAILED, job.updated_at
                    job.error = f"the process stopped during attempt {job.attempts}"
                else:
                    job.status = JobStatus.QUEUED
                    self._jobs[job.id] = job
                    self._pending.append(job.id)
                journal.save(job)

    def _save(self, job: Job) -> None:
        if self.journal is not None:
            self.journal.save(job)

    def enqueue(self, kind: str, payload: dict[str, Any], *, max_attempts: int = 3, job_id: str | None = None) -> Job:
        with self._cond:
            jid = job_id or new_job_id()
            if jid in self._jobs:
                return replace(self._jobs[jid])
            known = self.journal.get(jid) if self.journal is not None else None
            if known is not None:  # finished in an earlier process: idempotent on the id
                return known
            now = now_iso()
            job = Job(jid, kind, dict(payload), max_attempts=max_attempts, created_at=now, updated_at=now)
            self._jobs[jid] = job
            self._save(job)
            self._pending.append(jid)
            self._cond.notify()
            return replace(job)

    def reserve(self, timeout_s: float = 0.0) -> Job | None:
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while True:
                self._maintain_locked()
                if self._pending:
                    job = self._jobs[self._pending.popleft()]
                    job.status = JobStatus.RUNNING
                    job.attempts += 1
                    job.token = uuid.uuid4().hex
                    job.updated_at = job.started_at = now_iso()
                    self._leases[job.id] = time.monotonic() + self.visibility_s
                    self._save(job)
                    return replace(job, payload=dict(job.payload))
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                # Wake for a new job, or when the earliest delayed retry / lease is due.
                due = [t for t, _ in self._delayed[:1]] + list(self._leases.values())
                wait = min([left, *(max(0.0, t - time.monotonic()) for t in due)])
                self._cond.wait(max(0.01, wait))

    def _owned(self, job: Job) -> Job | None:
        cur = self._jobs.get(job.id)
        return cur if cur is not None and cur.status == JobStatus.RUNNING and cur.token == job.token else None

    def heartbeat(self, job: Job) -> bool:
        with self._cond:
            if self._owned(job) is None:
                return False
            self._leases[job.id] = time.monotonic() + self.visibility_s
            return True

    def complete(self, job: Job, result: dict[str, Any] | None = None) -> bool:
        with self._cond:
            cur = self._owned(job)
            if cur is None:
                return False
            self._leases.pop(job.id, None)
            cur.status, cur.result, cur.token, cur.error = JobStatus.SUCCEEDED, result or {}, "", ""
            cur.updated_at = cur.finished_at = now_iso()
            self._save(cur)
            return True

    def fail(self, job: Job, reason: str, *, retry: bool = True) -> JobStatus:
        with self._cond:
            cur = self._owned(job)
            if cur is None:
                return self._jobs[job.id].status if job.id in self._jobs else JobStatus.FAILED
            self._leases.pop(job.id, None)
            self._requeue_or_fail(cur, reason, retry, delay=True)
            return cur.status

    def _requeue_or_fail(self, job: Job, reason: str, retry: bool, delay: bool) -> None:
        job.token, job.error, job.updated_at = "", reason, now_iso()
        if retry and job.attempts < job.max_attempts:
            job.status = JobStatus.QUEUED
            wait = backoff_delay(job.attempts, self.backoff_s, self.max_backoff_s) if delay else 0.0
            heapq.heappush(self._delayed, (time.monotonic() + wait, job.id))
            self._cond.notify()
        else:
            job.status = JobStatus.FAILED
            job.finished_at = job.updated_at
        self._save(job)

    def _maintain_locked(self) -> int:
        moved = 0
        now = time.monotonic()
        for jid, until in list(self._leases.items()):
            if until < now:  # the worker stopped heartbeating: presumed dead
                del self._leases[jid]
                job = self._jobs[jid]
                reason = (
                    f"worker stopped responding (lease of {self.visibility_s:g}s expired) on attempt {job.attempts}"
                )
                self._requeue_or_fail(job, reason, retry=True, delay=False)
                moved += 1
        while self._delayed and self._delayed[0][0] <= now:
            _, jid = heapq.heappop(self._delayed)
            self._pending.append(jid)
            moved += 1
        return moved

    def maintain(self) -> int:
        with self._cond:
            return self._maintain_locked()

    def get(self, job_id: str) -> Job | None:
        with self._cond:
            job = self._jobs.get(job_id)
            if job is not None:
                return replace(job, payload=dict(job.payload))
        return self.journal.get(job_id) if self.journal is not None else None

    def list(self, tenant: str, limit: int = 100) -> list[Job]:
        if self.journal is not None:
            return self.journal.list(tenant, limit)
        with self._cond:
            jobs = [replace(j, payload=dict(j.payload)) for j in self._jobs.values() if j.tenant == tenant]
        return sorted(jobs, key=lambda j: j.created_at, reverse=True)[:limit]

    def counts(self) -> dict[str, int]:
        with self._cond:
            out = {s.value: 0 for s in JobStatus}
            for job in self._jobs.values():
                out[job.status.value] += 1
            return out

    def close(self) -> None:
        pass
