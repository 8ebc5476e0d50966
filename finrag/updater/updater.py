"""Keeps the index in step with a source (folder or S3 prefix): new / changed / deleted filings.

A scan lists the source, compares each object's ETag with what the shared state recorded, hashes only the
objects whose ETag moved, and calls back on real content changes:

* ``on_ingest(change)`` for new and changed content (returns the doc id when known);
* ``on_delete(change)`` for objects that disappeared.

The state row is written only after the callback returned, so a crash in between repeats the callback on
the next scan: callbacks must be idempotent (ingest skips content it already has; delete of a missing
document is a no-op). With a `lease`, only its holder scans: several replicas can run safely."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Literal

from finrag.storage import ObjectInfo, ObjectStore
from finrag.storage.base import key_path
from finrag.updater.lease import Lease
from finrag.updater.state import SeenObject, SourceState

log = logging.getLogger(__name__)

ChangeKind = Literal["new", "changed", "deleted"]


@dataclass(slots=True)
class Change:
    kind: ChangeKind
    key: str
    tenant: str
    source_uri: str
    path: Path | None = None  # local file with the content (None for deletions)
    content_hash: str = ""
    previous_hash: str = ""
    doc_id: str = ""  # known for deletions (from the state), returned by on_ingest otherwise

    @property
    def object_uri(self) -> str:
        return f"{self.source_uri.rstrip('/')}/{self.key}"


@dataclass(slots=True)
class ScanReport:
    new: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unchanged: int = 0
    errors: dict[str, str] = field(default_factory=dict)
    skipped_no_lease: bool = False
    lost_lease: bool = False
    seconds: float = 0.0

    @property
    def changes(self) -> int:
        return len(self.new) + len(self.changed) + len(self.deleted)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class DocumentUpdater:
    def __init__(
        self,
        store: ObjectStore,
        state: SourceState,
        tenant: str,
        on_ingest: Callable[[Change], str | None],
        on_delete: Callable[[Change], None],
        *,
        lease: Lease | None = None,
        mirror_dir: Path | None = None,
        suffixes: Iterable[str] = (".pdf",),
    ) -> None:
        self.store = store
        self.state = state
        self.tenant = tenant
        self.on_ingest = on_ingest
        self.on_delete = on_delete
        self.lease = lease
        self.mirror_dir = mirror_dir
        self.suffixes = {s.lower() for s in suffixes}
        self.source = store.uri

    def _wanted(self, key: str) -> bool:
        return not self.suffixes or PurePosixPath(key).suffix.lower() in self.suffixes

    def local_copy(self, key: str) -> Path:
        """The folder's own file, or a mirror of the object at a stable path (stable, so the registry's
        source_path of a document stays the same across versions and 'changed' replaces, not adds)."""
        path = self.store.local_path(key)
        if path is not None:
            return path
        if self.mirror_dir is None:
            raise ValueError("a remote source needs mirror_dir to download objects into")
        dest = key_path(self.mirror_dir, key)
        return self.store.download(key, dest)

    def scan(self) -> ScanReport:
        t0 = time.perf_counter()
        report = ScanReport()
        if self.lease is not None and not self.lease.acquire():
            report.skipped_no_lease = True
            return report
        seen = self.state.seen(self.source)
        listed: dict[str, ObjectInfo] = {o.key: o for o in self.store.list() if self._wanted(o.key)}

        for key, obj in sorted(listed.items()):
            if not self._still_leader(report):
                break
            before = seen.get(key)
            if before is not None and before.etag == obj.etag:
                report.unchanged += 1
                continue
            try:
                self._visit(key, obj, before, report)
            except Exception as exc:  # one bad object must not stop the scan; it is retried next time
                log.exception("updater: object failed", extra={"key": key})
                report.errors[key] = f"{type(exc).__name__}: {exc}"

        for key in sorted(set(seen) - set(listed)):
            if not self._still_leader(report):
                break
            before = seen[key]
            change = Change("deleted", key, self.tenant, self.source, None, "", before.content_hash, before.doc_id)
            try:
                self.on_delete(change)
                self.state.forget(self.source, key)
                report.deleted.append(key)
                if self.mirror_dir is not None and self.store.local_path(key) is None:
                    key_path(self.mirror_dir, key).unlink(missing_ok=True)
            except Exception as exc:
                log.exception("updater: delete failed", extra={"key": key})
                report.errors[key] = f"{type(exc).__name__}: {exc}"
        report.seconds = time.perf_counter() - t0
        if report.changes or report.errors:
            log.info(
                "updater scan",
                extra={
                    "source": self.source,
                    "new": len(report.new),
                    "changed": len(report.changed),
                    "deleted": len(report.deleted),
                    "errors": len(report.errors),
                },
            )
        return report

    def _still_leader(self, report: ScanReport) -> bool:
        # Renew between objects: a long scan must not outlive the lease and overlap another replica.
        if self.lease is None or self.lease.acquire():
            return True
        report.lost_lease = True
        return False

    def _visit(self, key: str, obj: ObjectInfo, before: SeenObject | None, report: ScanReport) -> None:
        path = self.local_copy(key)
        digest = sha256_file(path)
        if before is not None and before.content_hash == digest:
            # Touched or re-uploaded with the same bytes: remember the new ETag, nothing to index.
            self.state.record(self.source, self.tenant, SeenObject(key, obj.etag, digest, before.doc_id))
            report.unchanged += 1
            return
        kind: ChangeKind = "new" if before is None else "changed"
        change = Change(
            kind, key, self.tenant, self.source, path, digest, before.content_hash if before else "",
            before.doc_id if before else "",
        )  # fmt: skip
        doc_id = self.on_ingest(change) or ""
        self.state.record(self.source, self.tenant, SeenObject(key, obj.etag, digest, doc_id))
        (report.new if kind == "new" else report.changed).append(key)
