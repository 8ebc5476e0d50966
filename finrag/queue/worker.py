"""The worker loop: reserve a job -> run its handler with a heartbeat -> complete / fail (retry) -> repeat.

Handlers are given by the application (`finrag.jobs.service_handlers`); `finrag worker` and the API's
in-process job threads both run this loop."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from finrag.queue import Job, JobQueue, JobStatus, PermanentJobError

log = logging.getLogger(__name__)

Handler = Callable[[Job], dict[str, Any] | None]


class Worker:
    """Reserve -> run the handler with a heartbeat thread -> complete / fail (retry) -> repeat."""

    def __init__(
        self,
        queue: JobQueue,
        handlers: dict[str, Handler],
        *,
        poll_s: float = 1.0,
        on_done: Callable[[Job], None] | None = None,
    ) -> None:
        self.queue = queue
        self.handlers = handlers
        self.poll_s = poll_s
        self.on_done = on_done
        self.processed = 0

    def run_one(self, timeout_s: float | None = None) -> Job | None:
        job = self.queue.reserve(self.poll_s if timeout_s is None else timeout_s)
        if job is None:
            return None
        handler = self.handlers.get(job.kind)
        if handler is None:
            self.queue.fail(job, f"no handler for job kind {job.kind!r}", retry=False)
            self.processed += 1
            return self.queue.get(job.id)
        stop_beat = threading.Event()
        beat = threading.Thread(target=self._heartbeat, args=(job, stop_beat), daemon=True, name=f"beat-{job.id}")
        beat.start()
        t0 = time.perf_counter()
        try:
            result = handler(job) or {}
        except PermanentJobError as exc:
            status = self.queue.fail(job, str(exc), retry=False)
            log.warning("job failed", extra={"job": job.id, "kind": job.kind, "reason": str(exc)})
        except Exception as exc:  # anything else may be transient (DB restart, Qdrant timeout): retry
            reason = f"{type(exc).__name__}: {exc}"
            status = self.queue.fail(job, reason)
            log.warning(
                "job attempt failed",
                extra={"job": job.id, "kind": job.kind, "attempt": job.attempts, "reason": reason, "now": status},
            )
        else:
            status = JobStatus.SUCCEEDED if self.queue.complete(job, result) else JobStatus.QUEUED
            if status is not JobStatus.SUCCEEDED:
                log.warning("job finished after its lease was lost; the retry's outcome counts", extra={"job": job.id})
        finally:
            stop_beat.set()
            beat.join()
        self.processed += 1
        log.info("job", extra={"job": job.id, "kind": job.kind, "status": str(status), "s": time.perf_counter() - t0})
        done = self.queue.get(job.id)
        if done is not None and done.status is JobStatus.SUCCEEDED and self.on_done is not None:
            self.on_done(done)
        return done

    def _heartbeat(self, job: Job, stop: threading.Event) -> None:
        every = max(0.05, self.queue.visibility_s / 3)
        while not stop.wait(every):
            try:
                if not self.queue.heartbeat(job):
                    log.warning("lost the lease of a running job", extra={"job": job.id})
                    return
            except Exception:  # a Redis blip: try again next beat, the lease has slack
                log.exception("heartbeat failed", extra={"job": job.id})

    def run(self, stop: threading.Event | None = None, max_jobs: int | None = None) -> int:
        stop = stop or threading.Event()
        while not stop.is_set() and (max_jobs is None or self.processed < max_jobs):
            try:
                self.run_one()
            except Exception:  # the queue backend is down: wait and retry rather than exit
                log.exception("worker loop error")
                stop.wait(self.poll_s)
        return self.processed
