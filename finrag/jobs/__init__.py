"""The application's job types and their handlers, run by the job system (`finrag.queue`).

A new job type goes here: a handler `(Job) -> result dict` in `service_handlers`, idempotent (jobs are
delivered at least once), raising `PermanentJobError` when a retry cannot help."""

from __future__ import annotations

from finrag.jobs.handlers import object_mirror_path, service_handlers
from finrag.jobs.worker import run_worker

__all__ = ["object_mirror_path", "run_worker", "service_handlers"]
