"""`run_updater(settings, source)`: the long-running document updater process (`finrag updater SOURCE`)."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from finrag.updater.lease import Lease, RedisLease, SqlLease
from finrag.updater.state import SourceState
from finrag.updater.updater import Change, DocumentUpdater, ScanReport

log = logging.getLogger(__name__)


def queue_callbacks(queue: Any, data_dir: Path) -> tuple[Callable[[Change], str | None], Callable[[Change], None]]:
    """Hand changes to `finrag worker`s as jobs. Job ids derive from tenant + content hash, so the same
    content seen twice (two replicas, a re-scan after a crash) is one job."""
    from finrag.jobs import object_mirror_path

    def on_ingest(change: Change) -> str | None:
        payload: dict[str, Any] = {"tenant": change.tenant}
        if change.source_uri.startswith("s3://"):
            payload["uri"] = change.object_uri  # workers fetch it themselves
        else:
            payload["path"] = str(change.path)
        queue.enqueue("ingest", payload, job_id=f"ingest:{change.tenant}:{change.content_hash}")
        return change.content_hash[:16]  # the pipeline's doc id for this content

    def on_delete(change: Change) -> None:
        payload: dict[str, Any] = {"tenant": change.tenant}
        if change.source_uri.startswith("s3://"):
            payload["source_path"] = str(object_mirror_path(data_dir, change.object_uri).resolve())
        else:
            payload["source_path"] = str(Path(change.source_uri, change.key).resolve())
        queue.enqueue("delete", payload, job_id=f"delete:{change.tenant}:{change.previous_hash}:{change.key}")

    return on_ingest, on_delete


def service_callbacks(service: Any) -> tuple[Callable[[Change], str | None], Callable[[Change], None]]:
    """Ingest / delete in this process (embedded deployments without Redis)."""

    def on_ingest(change: Change) -> str | None:
        assert change.path is not None
        report = service.ingest([change.path], tenant=change.tenant)
        if report.failed:  # recorded as failed in the registry; not retried until the content changes
            log.warning("updater: ingest failed", extra={"key": change.key, "reason": report.failed[0].reason})
        return report.events[0].doc_id if report.events else None

    def on_delete(change: Change) -> None:
        source = str(change.path.resolve()) if change.path else ""
        if not source and not change.source_uri.startswith("s3://"):
            source = str(Path(change.source_uri, change.key).resolve())
        elif not source:
            from finrag.jobs import object_mirror_path

            source = str(object_mirror_path(service.settings.data_dir, change.object_uri).resolve())
        for rec in service.c.registry.find_by_source(change.tenant, source):
            service.pipeline.delete(change.tenant, rec.doc_id)

    return on_ingest, on_delete


def build_lease(settings: Any, name: str, ttl_s: float, redis_url: str = "") -> Lease:
    if redis_url:
        return RedisLease(redis_url, name, ttl_s)
    return SqlLease(settings.sqlite_url, name, ttl_s)


def run_updater(
    settings: Any,
    source: str,
    *,
    tenant: str | None = None,
    interval_s: float = 30.0,
    once: bool = False,
    stop: threading.Event | None = None,
    redis_url: str | None = None,
    use_queue: bool | None = None,
    on_scan: Callable[[ScanReport], None] | None = None,
) -> ScanReport | None:
    """Watch a folder (watchfiles: scans on change, and every `interval_s` anyway) or poll an S3 prefix
    (`s3://bucket/prefix`, every `interval_s`), ingesting / deleting what changed.

    With Redis (FINRAG_SERVE_REDIS_URL) changes become jobs for `finrag worker` and the lease is in Redis;
    without, this process ingests itself and the lease is in the registry DB. `once=True` scans once and
    returns the report (cron jobs, tests)."""
    from finrag.queue import build_queue, shared_redis_url
    from finrag.storage import open_store

    url = redis_url if redis_url is not None else shared_redis_url(settings)
    tenant = tenant or settings.tenant
    store = open_store(source, settings.s3)
    state = SourceState(settings.sqlite_url)
    lease = build_lease(settings, f"updater:{store.uri}", ttl_s=max(3 * interval_s, 30.0), redis_url=url)
    service = None
    if use_queue if use_queue is not None else bool(url):
        on_ingest, on_delete = queue_callbacks(build_queue(url), settings.data_dir)
    else:
        from finrag.service import QAService

        service = QAService(settings)
        on_ingest, on_delete = service_callbacks(service)
    from finrag.jobs import object_mirror_path

    # S3 objects are mirrored where workers put them too (data_dir/objects/<bucket>/<key>): one source_path
    # per object, whoever downloaded it, so a new version replaces the old document and a delete finds it.
    mirror = object_mirror_path(settings.data_dir, store.uri) if store.uri.startswith("s3://") else None
    updater = DocumentUpdater(store, state, tenant, on_ingest, on_delete, lease=lease, mirror_dir=mirror)
    stop = stop or threading.Event()
    if not once and threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())

    def scan() -> ScanReport:
        report = updater.scan()
        if on_scan is not None:
            on_scan(report)
        return report

    try:
        if once:
            return scan()
        log.info("updater started", extra={"source": store.uri, "tenant": tenant})
        local = store.local_path("") if not source.startswith("s3://") else None
        if local is not None:
            from watchfiles import watch

            local.mkdir(parents=True, exist_ok=True)
            scan()
            # A timeout yields an empty set: rescan anyway (retry errors, renew / take over the lease).
            for _changes in watch(
                local, stop_event=stop, rust_timeout=int(interval_s * 1000), yield_on_timeout=True, debounce=1600
            ):
                scan()
        else:
            while not stop.is_set():
                scan()
                stop.wait(interval_s)
        return None
    finally:
        try:
            lease.release()
        except Exception:  # the backend may be what is down; the lease then just expires
            log.warning("could not release the updater lease")
        state.close()
        if service is not None:
            service.close()
