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

from typing import TYPE_CHECKING, Any

from finrag.queue.base import (
    Job,
    JobQueue,
    JobStatus,
    PermanentJobError,
    backoff_delay,
    new_job_id,
    now_iso,
)

if TYPE_CHECKING:
    from finrag.settings import Settings

__all__ = [
    "Job",
    "JobQueue",
    "JobStatus",
    "PermanentJobError",
    "backoff_delay",
    "build_queue",
    "new_job_id",
    "now_iso",
    "shared_redis_url",
]


def shared_redis_url(settings: Settings) -> str:
    """The Redis shared by API replicas, workers and the updater (FINRAG_SERVE_REDIS_URL); empty = none."""
    return settings.serve.redis_url


def build_queue(redis_url: str = "", *, journal: Any = None, **kwargs: Any) -> JobQueue:
    """Redis when a URL is given, else the in-process queue (with `journal`, a `SqlJobJournal`, durable)."""
    if redis_url:
        from finrag.queue.redis_queue import RedisQueue

        return RedisQueue(redis_url, **kwargs)
    from finrag.queue.memory import InProcessQueue

    return InProcessQueue(journal=journal, **kwargs)
