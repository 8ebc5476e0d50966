"""`finrag worker`: runs the service's jobs from the shared (Redis) queue until SIGTERM / SIGINT."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

from finrag.cache import RedisCache, ResponseCache
from finrag.jobs.handlers import service_handlers
from finrag.queue import Job, JobQueue, build_queue
from finrag.queue.worker import Handler, Worker

log = logging.getLogger(__name__)


def run_worker(
    settings: Any,
    *,
    queue: JobQueue | None = None,
    handlers: dict[str, Handler] | None = None,
    stop: threading.Event | None = None,
    max_jobs: int | None = None,
    redis_url: str | None = None,
    visibility_s: float = 600.0,
    metrics_port: int = 0,
    cache: ResponseCache | None = None,
) -> int:
    """Run jobs until SIGTERM / SIGINT (finishing the job in hand).

    The queue is Redis at `redis_url` (default the settings' FINRAG_SERVE_REDIS_URL); there is no
    cross-process queue without Redis (the embedded API runs its jobs in-process). With `metrics_port`,
    the scores of the online-evaluation jobs this worker runs are exported for Prometheus on that port.
    After each successful job the tenant's cached answers are dropped (its index changed)."""
    url = redis_url if redis_url is not None else (settings.serve.redis_url if settings is not None else "")
    if queue is None:
        if not url:
            raise SystemExit("finrag worker needs Redis: set FINRAG_SERVE_REDIS_URL (e.g. redis://localhost:6379/0)")
        queue = build_queue(url, visibility_s=visibility_s)
    stop = stop or threading.Event()
    service = None
    owns_cache = cache is None and bool(url)
    if owns_cache:
        # The API's response cache (same class, same keys): a finished job drops the tenant's answers.
        cache = RedisCache(url)
    if handlers is None:
        from finrag.service import QAService

        service = QAService(settings)
        # Load the embedding model before taking jobs: the first job is not slowed by it, and
        # "worker started" means ready.
        service.pipeline.warm_up()
        metrics = None
        if metrics_port:
            from prometheus_client import start_http_server

            from finrag.observability.metrics import build_metrics

            metrics = build_metrics()
            start_http_server(metrics_port, registry=metrics.registry)
            service.engine.attach_metrics(metrics)
        handlers = service_handlers(service, metrics)
    if threading.current_thread() is threading.main_thread():
        # Kubernetes / compose stop with SIGTERM: finish the current job, then exit (its lease would
        # otherwise have to expire before another worker retries it).
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())

    def on_done(job: Job) -> None:
        tenant = job.result.get("tenant")
        if cache is not None and tenant:
            cache.invalidate_tenant(tenant)

    worker = Worker(queue, handlers, on_done=on_done)
    log.info("worker started", extra={"queue": type(queue).__name__})
    try:
        return worker.run(stop, max_jobs)
    finally:
        if service is not None:
            service.close()
        if owns_cache and cache is not None:
            cache.close()
