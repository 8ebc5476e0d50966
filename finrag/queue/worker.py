"""`finrag worker`: takes ingest / delete jobs from the queue and runs them through the QA service.

Job payloads:

* ``ingest``: ``{"tenant": str, "path": str}`` (a file every worker can read: shared volume) or
  ``{"tenant": str, "uri": "s3://bucket/key"}`` (downloaded into ``data_dir/objects/<bucket>/<key>``, a stable
  path so a new version of the object replaces the old document); optional ``"overrides"``
  (company / fiscal_year / doc_type);
* ``delete``: ``{"tenant": str, "doc_id": str}`` or ``{"tenant": str, "source_path": str}`` / ``"uri"``.

After a successful job the tenant's response cache entries are dropped (its index changed)."""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

from finrag.cache import RedisCache, ResponseCache
from finrag.queue import Job, JobQueue, JobStatus, PermanentJobError, build_queue, redis_url_from_env

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
            status = JobStatus.DONE if self.queue.complete(job, result) else JobStatus.QUEUED
            if status is not JobStatus.DONE:
                log.warning("job finished after its lease was lost; the retry's outcome counts", extra={"job": job.id})
        finally:
            stop_beat.set()
            beat.join()
        self.processed += 1
        log.info("job", extra={"job": job.id, "kind": job.kind, "status": str(status), "s": time.perf_counter() - t0})
        done = self.queue.get(job.id)
        if done is not None and done.status is JobStatus.DONE and self.on_done is not None:
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


# the QA service's handlers ------------------------------------------------------------------------------
def object_mirror_path(data_dir: Path, uri: str) -> Path:
    from finrag.storage import split_s3_uri

    bucket, key = split_s3_uri(uri)
    return data_dir / "objects" / bucket / Path(*PurePosixPath(key).parts)


def _fetch(uri: str, dest: Path) -> Path:
    from finrag.storage import open_store, split_s3_uri

    bucket, key = split_s3_uri(uri)
    return open_store(f"s3://{bucket}").download(key, dest)


def service_handlers(service: Any, metrics: Any = None) -> dict[str, Handler]:
    """Handlers running jobs through a `QAService` (ingest is idempotent by content hash)."""
    from finrag.ingest.pipeline import FilingOverrides

    data_dir: Path = service.settings.data_dir

    def ingest(job: Job) -> dict[str, Any]:
        p = job.payload
        tenant = p.get("tenant") or service.settings.tenant
        if p.get("uri"):
            path = _fetch(p["uri"], object_mirror_path(data_dir, p["uri"]))
        elif p.get("path"):
            path = Path(p["path"])
        else:
            raise PermanentJobError("ingest job without 'path' or 'uri'")
        if not path.exists():
            raise PermanentJobError(f"file not found: {path}")
        overrides = FilingOverrides(**p.get("overrides", {}))
        report = service.ingest([path], tenant=tenant, overrides=overrides)
        if report.failed:
            raise PermanentJobError(report.failed[0].reason or "ingest failed")
        event = report.events[0] if report.events else None
        return {
            "tenant": tenant,
            "doc_id": event.doc_id if event else "",
            "status": event.status if event else "",
            "pages": event.pages if event else 0,
            "chunks": event.chunks if event else 0,
        }

    def delete(job: Job) -> dict[str, Any]:
        p = job.payload
        tenant = p.get("tenant") or service.settings.tenant
        doc_ids = [p["doc_id"]] if p.get("doc_id") else []
        source = p.get("source_path") or (str(object_mirror_path(data_dir, p["uri"]).resolve()) if p.get("uri") else "")
        if source:
            doc_ids += [r.doc_id for r in service.c.registry.find_by_source(tenant, source)]
        deleted = [d for d in doc_ids if service.pipeline.delete(tenant, d)]
        return {"tenant": tenant, "deleted": deleted}

    evaluator: Any = None  # an OnlineEvaluator, chosen on the first online_eval job

    def online_eval(job: Job) -> dict[str, Any]:
        from finrag.answer.online_eval import EvalItem, OnlineEvaluator

        nonlocal evaluator
        if evaluator is None:
            engine = service.engine
            ev = engine.online_eval
            if ev is None:  # sampling is off on this process; jobs from the API are still scored
                ev = OnlineEvaluator(
                    service.settings.sqlite_url,
                    share=0.0,
                    metrics=metrics,
                    autostart=False,
                    judge=engine.judge,
                    judge_weight=service.settings.answer.judge_weight,
                )
            if metrics is not None and ev.metrics is None:
                ev.metrics = metrics
            evaluator = ev
        try:
            item = EvalItem(**job.payload)
        except TypeError as exc:
            raise PermanentJobError(f"malformed online_eval job: {exc}") from exc
        scores = evaluator.score_now(item)
        return {"faithfulness": scores.faithfulness, "numeric_support": scores.numeric_support}

    return {"ingest": ingest, "delete": delete, "online_eval": online_eval}


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
    """Entry point of `finrag worker`: run jobs until SIGTERM / SIGINT (finishing the job in hand).

    The queue is Redis at `redis_url` (default FINRAG_SERVE_REDIS_URL); there is no cross-process queue
    without Redis (the embedded API runs its jobs in-process). With `metrics_port`, the scores of the
    online-evaluation jobs this worker runs are exported for Prometheus on that port (/metrics)."""
    url = redis_url if redis_url is not None else redis_url_from_env(settings)
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
        service.c.embedder.warm_up()
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


def worker_command(
    max_jobs: int = 0,
    visibility_s: float = 600.0,
    metrics_port: int = 0,
) -> None:
    """Run ingest / delete / online-evaluation jobs from the Redis queue (FINRAG_SERVE_REDIS_URL) until SIGTERM.

    `--metrics-port` (or FINRAG_WORKER_METRICS_PORT) exports the online-evaluation scores for Prometheus.

    Register in the CLI with `app.command("worker")(worker_command)`."""
    import os

    from finrag.logs import configure_logging
    from finrag.settings import Settings

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    configure_logging(os.environ.get("FINRAG_LOG_LEVEL", "INFO"))
    port = metrics_port or int(os.environ.get("FINRAG_WORKER_METRICS_PORT", "0") or 0)
    run_worker(Settings(), max_jobs=max_jobs or None, visibility_s=visibility_s, metrics_port=port)
