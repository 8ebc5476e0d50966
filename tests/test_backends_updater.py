"""The document updater: new / changed / deleted detection by content hash, idempotence, leases for
replicas, folder watching, S3 polling (moto), and the real ingest callbacks."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from finrag.storage import LocalObjectStore, ObjectStore
from finrag.updater import Change, DocumentUpdater, SourceState, SqlLease
from tests.servers import MotoServer, moto_or_skip, redis_or_skip


class Recorder:
    def __init__(self, fail_on: set[str] | None = None) -> None:
        self.calls: list[tuple[str, str, str]] = []
        self.fail_on = fail_on or set()
        self.lock = threading.Lock()

    def ingest(self, change: Change) -> str:
        if change.key in self.fail_on:
            raise RuntimeError("qdrant timeout")
        assert change.path is not None and change.path.exists()
        with self.lock:
            self.calls.append((change.kind, change.key, change.content_hash[:8]))
        return change.content_hash[:16]

    def delete(self, change: Change) -> None:
        with self.lock:
            self.calls.append((change.kind, change.key, change.previous_hash[:8]))

    def kinds(self) -> list[tuple[str, str]]:
        return [(k, key) for k, key, _ in self.calls]


def _updater(store: ObjectStore, db: Path, rec: Recorder, **kw) -> DocumentUpdater:
    state = SourceState(f"sqlite:///{db}")
    return DocumentUpdater(store, state, "t1", rec.ingest, rec.delete, **kw)


def _new_mtime(path: Path) -> None:
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))


def _lifecycle(store: ObjectStore, updater: DocumentUpdater, rec: Recorder, touch) -> None:  # type: ignore[no-untyped-def]
    store.put("a.pdf", b"%PDF a1")
    store.put("sub/b.pdf", b"%PDF b1")
    store.put("notes.txt", b"not a filing")
    r = updater.scan()
    assert sorted(r.new) == ["a.pdf", "sub/b.pdf"] and not r.errors
    assert updater.scan().changes == 0  # idempotent
    assert len(rec.calls) == 2

    store.put("a.pdf", b"%PDF a2")  # new content
    touch("sub/b.pdf", b"%PDF b1")  # new ETag / mtime, same bytes
    r = updater.scan()
    assert r.changed == ["a.pdf"] and r.new == [] and r.unchanged == 1
    assert rec.calls[-1][:2] == ("changed", "a.pdf")
    assert updater.scan().changes == 0

    store.delete("sub/b.pdf")
    r = updater.scan()
    assert r.deleted == ["sub/b.pdf"]
    assert rec.calls[-1][:2] == ("deleted", "sub/b.pdf")
    assert updater.scan().changes == 0
    assert rec.kinds() == [("new", "a.pdf"), ("new", "sub/b.pdf"), ("changed", "a.pdf"), ("deleted", "sub/b.pdf")]


def test_folder_new_changed_deleted_by_content_hash(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "src")
    rec = Recorder()
    updater = _updater(store, tmp_path / "state.sqlite3", rec)

    def touch(key: str, data: bytes) -> None:
        store.put(key, data)
        _new_mtime(tmp_path / "src" / key)

    _lifecycle(store, updater, rec, touch)


def test_state_survives_a_restart_and_failures_are_retried(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "src")
    store.put("a.pdf", b"%PDF a")
    store.put("b.pdf", b"%PDF b")
    rec = Recorder(fail_on={"b.pdf"})
    r = _updater(store, tmp_path / "s.sqlite3", rec).scan()
    assert r.new == ["a.pdf"] and "qdrant timeout" in r.errors["b.pdf"]
    rec.fail_on.clear()
    again = _updater(store, tmp_path / "s.sqlite3", rec).scan()  # a new process, same DB
    assert again.new == ["b.pdf"] and again.unchanged == 1
    assert rec.kinds() == [("new", "a.pdf"), ("new", "b.pdf")]


def test_sql_lease_one_holder_at_a_time(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'lease.sqlite3'}"
    a = SqlLease(url, "updater:x", ttl_s=0.5, holder="a")
    b = SqlLease(url, "updater:x", ttl_s=0.5, holder="b")
    assert a.acquire() and a.acquire()  # renew
    assert not b.acquire()
    assert b.holder_now() == "a"
    time.sleep(0.6)  # a stopped renewing (crashed)
    assert b.acquire() and not a.acquire()
    b.release()
    assert a.acquire()


def test_replicas_scan_once(tmp_path: Path) -> None:
    """Three replicas on one source and one DB: every change is handled exactly once."""
    store = LocalObjectStore(tmp_path / "src")
    for i in range(6):
        store.put(f"f{i}.pdf", f"%PDF {i}".encode())
    rec = Recorder()
    url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    replicas = [
        DocumentUpdater(
            store, SourceState(url), "t1", rec.ingest, rec.delete, lease=SqlLease(url, "updater:src", 30, holder=h)
        )
        for h in ("r1", "r2", "r3")
    ]
    barrier = threading.Barrier(3)
    reports = []

    def run(u: DocumentUpdater) -> None:
        barrier.wait()
        reports.append(u.scan())

    threads = [threading.Thread(target=run, args=(u,)) for u in replicas]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(k for _, k, _ in rec.calls) == [f"f{i}.pdf" for i in range(6)]
    assert sum(r.skipped_no_lease for r in reports) == 2
    assert all(u.scan().changes == 0 for u in replicas)


@pytest.mark.integration
def test_redis_lease() -> None:
    from finrag.updater import RedisLease

    with redis_or_skip() as server:
        a = RedisLease(server.url, "updater:x", ttl_s=0.5, holder="a")
        b = RedisLease(server.url, "updater:x", ttl_s=0.5, holder="b")
        assert a.acquire() and not b.acquire()
        b.release()  # not b's to release
        assert not b.acquire()
        time.sleep(0.6)
        assert b.acquire() and not a.acquire()


# S3 --------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    with moto_or_skip() as server:
        yield server


@pytest.mark.integration
def test_s3_prefix_polling_by_etag(moto: MotoServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from tests.test_contract_object_store import s3_store

    store = s3_store(moto, monkeypatch, "s3://updates/filings")
    rec = Recorder()
    updater = _updater(store, tmp_path / "s3state.sqlite3", rec, mirror_dir=tmp_path / "mirror")

    def touch(key: str, data: bytes) -> None:
        # Same bytes uploaded again with metadata: the ETag (MD5 of the content) stays, so nothing is read.
        store.client.copy_object(  # type: ignore[attr-defined]
            Bucket="updates", Key=f"filings/{key}", CopySource={"Bucket": "updates", "Key": f"filings/{key}"},
            Metadata={"touched": "1"}, MetadataDirective="REPLACE",
        )  # fmt: skip

    _lifecycle(store, updater, rec, touch)
    assert (tmp_path / "mirror" / "a.pdf").read_bytes() == b"%PDF a2"  # stable mirror path
    assert not (tmp_path / "mirror" / "sub" / "b.pdf").exists()  # removed with the object


# the real callbacks --------------------------------------------------------------------------------------
def _service(tmp_path: Path):  # type: ignore[no-untyped-def]
    from finrag.service import QAService, build_components
    from tests.conftest import make_settings
    from tests.servers import HashEmbedder

    settings = make_settings(tmp_path / "data")
    components = build_components(settings)
    components.embedder = HashEmbedder()
    return QAService(settings, components)


def test_service_callbacks_ingest_replace_and_delete(tmp_path: Path, sample_dir: Path) -> None:
    from finrag.records import DocStatus
    from finrag.updater.run import service_callbacks

    pdfs = sorted(sample_dir.glob("*.pdf"))
    svc = _service(tmp_path)
    store = LocalObjectStore(tmp_path / "inbox")
    on_ingest, on_delete = service_callbacks(svc)
    updater = DocumentUpdater(store, SourceState(svc.settings.sqlite_url), "acme", on_ingest, on_delete)

    store.put("filing.pdf", pdfs[0].read_bytes())
    assert updater.scan().new == ["filing.pdf"]
    (first,) = svc.documents("acme")
    assert first.status is DocStatus.READY

    store.put("filing.pdf", pdfs[1].read_bytes())  # a new version under the same name replaces the old one
    assert updater.scan().changed == ["filing.pdf"]
    (second,) = svc.documents("acme")
    assert second.doc_id != first.doc_id and svc.c.store.count("acme", first.doc_id) == 0

    store.delete("filing.pdf")
    assert updater.scan().deleted == ["filing.pdf"]
    assert svc.documents("acme") == [] and svc.c.store.count("acme") == 0
    svc.close()


@pytest.mark.integration
def test_run_updater_watches_a_folder_and_queues_jobs(tmp_path: Path) -> None:
    """run_updater with Redis: watchfiles wakes it when a file lands, the change becomes one queue job."""
    from finrag.queue.redis_queue import RedisQueue
    from finrag.updater import run_updater
    from tests.conftest import make_settings

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    settings = make_settings(tmp_path / "data")
    with redis_or_skip() as server:
        q = RedisQueue(server.url)
        stop = threading.Event()
        scans = []
        t = threading.Thread(
            target=run_updater,
            args=(settings, str(inbox)),
            kwargs={"stop": stop, "redis_url": server.url, "interval_s": 30, "on_scan": scans.append},
            daemon=True,
        )
        t.start()
        try:
            _wait(lambda: len(scans) >= 1)  # the initial scan
            (inbox / "new.pdf").write_bytes(b"%PDF new filing")
            _wait(lambda: q.counts()["queued"] == 1, timeout=20)  # long before the 30 s rescan
        finally:
            stop.set()
            t.join(10)
        job = q.reserve(0)
        assert (
            job is not None
            and job.kind == "ingest"
            and job.payload == {"tenant": "default", "path": str(inbox / "new.pdf")}
        )
        assert job.id.startswith("ingest:default:")
        once = run_updater(settings, str(inbox), once=True, redis_url=server.url)  # nothing new since
        assert once is not None and once.changes == 0 and once.unchanged == 1


def _wait(cond, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_run_updater_once_in_process(tmp_path: Path, sample_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without Redis, run_updater ingests itself (embedded deployments); the lease lives in SQLite."""
    import finrag.service
    from finrag.updater import run_updater

    svc = _service(tmp_path)
    monkeypatch.setattr(finrag.service, "QAService", lambda settings: svc)  # our fast-embedder service
    monkeypatch.delenv("FINRAG_SERVE_REDIS_URL", raising=False)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    pdf = sorted(sample_dir.glob("*.pdf"))[0]
    (inbox / pdf.name).write_bytes(pdf.read_bytes())
    report = run_updater(svc.settings, str(inbox), tenant="acme", once=True)
    assert report is not None and report.new == [pdf.name]
    assert [d.source_path for d in svc.documents("acme")] == [str((inbox / pdf.name).resolve())]


@pytest.mark.integration
def test_s3_updater_queue_worker_end_to_end(
    moto: MotoServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, sample_dir: Path
) -> None:
    """S3 prefix -> run_updater (poll) -> Redis jobs -> worker downloads + ingests; then the object is
    replaced and deleted, and the index follows."""
    import finrag.service
    from finrag.jobs import service_handlers
    from finrag.queue import JobStatus
    from finrag.queue.redis_queue import RedisQueue
    from finrag.queue.worker import Worker
    from finrag.updater import run_updater
    from tests.test_contract_object_store import s3_store

    pdfs = sorted(sample_dir.glob("*.pdf"))
    bucket = s3_store(moto, monkeypatch, "s3://e2e/inbox")
    bucket.put("acme/10k.pdf", pdfs[0].read_bytes())
    svc = _service(tmp_path)
    monkeypatch.setattr(finrag.service, "QAService", lambda settings: svc)
    with redis_or_skip() as server:
        q = RedisQueue(server.url, visibility_s=30)
        worker = Worker(q, service_handlers(svc))

        def cycle() -> list:  # type: ignore[type-arg]
            report = run_updater(svc.settings, "s3://e2e/inbox", tenant="acme", once=True, redis_url=server.url)
            done = []
            while (job := worker.run_one(0.2)) is not None:
                done.append(job)
            assert report is not None and not report.errors
            assert all(j.status is JobStatus.SUCCEEDED for j in done), [j.error for j in done]
            return done

        (first,) = cycle()
        assert first.kind == "ingest" and first.payload["uri"] == "s3://e2e/inbox/acme/10k.pdf"
        (doc,) = svc.documents("acme")
        assert doc.source_path == str(svc.settings.data_dir / "objects" / "e2e" / "inbox" / "acme" / "10k.pdf")
        assert cycle() == []  # nothing changed

        bucket.put("acme/10k.pdf", pdfs[1].read_bytes())  # new version under the same key
        (second,) = cycle()
        assert second.result["status"] == "replaced"
        (doc2,) = svc.documents("acme")
        assert doc2.doc_id != doc.doc_id and svc.c.store.count("acme", doc.doc_id) == 0

        bucket.delete("acme/10k.pdf")
        (gone,) = cycle()
        assert gone.kind == "delete" and gone.result["deleted"] == [doc2.doc_id]
        assert svc.documents("acme") == [] and svc.c.store.count("acme") == 0
    svc.close()
