"""Handlers running jobs through a `QAService`.

Job payloads:

* ``ingest``: ``{"tenant": str, "path": str}`` (a file every worker can read: shared volume) or
  ``{"tenant": str, "uri": "s3://bucket/key"}`` (downloaded into ``data_dir/objects/<bucket>/<key>``, a stable
  path so a new version of the object replaces the old document); optional ``"overrides"``
  (company / fiscal_year / doc_type) and ``"filename"`` (the upload's name, shown by GET /v1/jobs);
* ``delete``: ``{"tenant": str, "doc_id": str}`` or ``{"tenant": str, "source_path": str}`` / ``"uri"``;
* ``online_eval``: an `EvalItem` of a sampled live answer, scored into the online-evaluation tables."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from finrag.queue import Job, PermanentJobError
from finrag.queue.worker import Handler


def object_mirror_path(data_dir: Path, uri: str) -> Path:
    """data_dir/objects/<bucket>/<key>: one file per object (keys that would escape or alias are refused)."""
    from finrag.storage.base import key_path, split_s3_uri

    bucket, key = split_s3_uri(uri)
    return key_path(data_dir / "objects" / bucket, key)


def _fetch(uri: str, dest: Path, s3: Any) -> Path:
    from finrag.storage import open_store, split_s3_uri

    bucket, key = split_s3_uri(uri)
    return open_store(f"s3://{bucket}", s3).download(key, dest)


def service_handlers(
    service: Any,
    metrics: Any = None,
    *,
    write_lock: Any = None,
    on_change: Callable[[str], None] | None = None,
) -> dict[str, Handler]:
    """Handlers over `service` (ingest is idempotent by content hash). `write_lock` serialises writes with
    the caller's other writers (the API's deletes); `on_change(tenant)` runs after each ingest / delete,
    failed or not (the API moves the tenant's index version on and drops its cached answers)."""
    from finrag.ingest.pipeline import FilingOverrides, IngestEvent

    data_dir: Path = service.settings.data_dir
    lock = write_lock if write_lock is not None else contextlib.nullcontext()

    def changed(tenant: str) -> None:
        if on_change is not None:
            on_change(tenant)

    def ingest(job: Job) -> dict[str, Any]:
        p = job.payload
        tenant = p.get("tenant") or service.settings.tenant
        if p.get("uri"):
            try:
                mirror = object_mirror_path(data_dir, p["uri"])
            except ValueError as exc:  # retrying cannot make the key safe
                raise PermanentJobError(str(exc)) from None
            path = _fetch(p["uri"], mirror, service.settings.s3)
        elif p.get("path"):
            path = Path(p["path"])
        else:
            raise PermanentJobError("ingest job without 'path' or 'uri'")
        if not path.exists():  # the reason reaches API clients: the file's name, never a server path
            raise PermanentJobError(f"file not found: {p.get('filename') or path.name}")
        overrides = FilingOverrides(**p.get("overrides", {}))
        # Uploads are stored under their content hash; the document keeps the name it was sent with.
        names = {str(path): Path(p["filename"]).stem} if p.get("filename") else None
        events: list[IngestEvent] = []
        t0 = time.perf_counter()
        try:
            with lock:
                report = service.ingest([path], tenant=tenant, overrides=overrides, on_event=events.append, names=names)
        finally:
            if metrics is not None:
                metrics.ingest_duration.observe(time.perf_counter() - t0)
            changed(tenant)
        if metrics is not None:
            for e in events:
                metrics.ingest_documents.labels(status=e.status).inc()
            metrics.ingest_pages.inc(report.pages)
        # A run may also finish documents a crash left behind: report the event of this job's file.
        event = next((e for e in events if Path(e.path).resolve() == path.resolve()), events[0] if events else None)
        if event is None:
            raise PermanentJobError("nothing was ingested")
        if event.status == "failed":
            raise PermanentJobError(event.reason or "ingest failed")
        return {
            "tenant": tenant,
            "doc_id": event.doc_id,
            "status": event.status,
            "pages": event.pages,
            "chunks": event.chunks,
            "reason": "unchanged: this file is already ingested" if event.status == "skipped" else "",
        }

    def delete(job: Job) -> dict[str, Any]:
        p = job.payload
        tenant = p.get("tenant") or service.settings.tenant
        doc_ids = [p["doc_id"]] if p.get("doc_id") else []
        source = p.get("source_path") or (str(object_mirror_path(data_dir, p["uri"]).resolve()) if p.get("uri") else "")
        if source:
            doc_ids += [r.doc_id for r in service.c.registry.find_by_source(tenant, source)]
        try:
            with lock:
                deleted = [d for d in doc_ids if service.pipeline.delete(tenant, d)]
        finally:
            changed(tenant)
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
