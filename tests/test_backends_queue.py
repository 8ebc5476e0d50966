"""Job queues (in-process and Redis) and the worker: retries, failure reasons, a killed worker's job."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from finrag.queue import Job, JobQueue, JobStatus, PermanentJobError, build_queue
from finrag.queue.memory import InProcessQueue
from finrag.queue.worker import Worker
from tests.servers import RedisServer, redis_or_skip

VT = 0.6  # visibility timeout (lease) in these tests


@pytest.fixture()
def redis_server() -> Iterator[RedisServer]:
    with redis_or_skip() as server:
        yield server


def _memory(_server: object = None) -> JobQueue:
    return InProcessQueue(visibility_s=VT, backoff_s=0.0)


def _redis(server: RedisServer) -> JobQueue:
    return build_queue(server.url, visibility_s=VT, backoff_s=0.0)


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.integration)])
def queue(request) -> Iterator[JobQueue]:
    if request.param == "memory":
        q = _memory()
        yield q
    else:
        with redis_or_skip() as server:
            q = _redis(server)
            yield q
            q.close()


def test_enqueue_reserve_complete(queue: JobQueue) -> None:
    job = queue.enqueue("ingest", {"path": "/a.pdf"}, job_id="j1")
    assert job.status is JobStatus.QUEUED and job.attempts == 0
    again = queue.enqueue("ingest", {"path": "/other.pdf"}, job_id="j1")  # idempotent on the id
    assert again.payload == {"path": "/a.pdf"}
    got = queue.reserve(1.0)
    assert got is not None and got.id == "j1" and got.status is JobStatus.RUNNING and got.attempts == 1
    assert queue.reserve(0) is None  # one job, one holder
    assert queue.complete(got, {"doc_id": "d1"})
    done = queue.get("j1")
    assert done is not None and done.status is JobStatus.SUCCEEDED and done.result == {"doc_id": "d1"}
    assert not queue.complete(got)  # twice is refused


def test_fifo_order(queue: JobQueue) -> None:
    for i in range(3):
        queue.enqueue("ingest", {"i": i}, job_id=f"f{i}")
    order = []
    while (job := queue.reserve(0.2)) is not None:
        order.append(job.payload["i"])
        queue.complete(job)
    assert order == [0, 1, 2]


def test_retries_until_the_limit_then_failed_with_reason(queue: JobQueue) -> None:
    queue.enqueue("ingest", {}, job_id="r1", max_attempts=3)
    for attempt in (1, 2, 3):
        job = queue.reserve(2.0)
        assert job is not None and job.attempts == attempt
        status = queue.fail(job, f"boom {attempt}")
        assert status is (JobStatus.QUEUED if attempt < 3 else JobStatus.FAILED)
    assert queue.reserve(0.1) is None
    failed = queue.get("r1")
    assert failed is not None and failed.status is JobStatus.FAILED and failed.error == "boom 3"
    assert queue.counts()["failed"] == 1


def test_expired_lease_requeues_and_fences_the_old_holder(queue: JobQueue) -> None:
    queue.enqueue("ingest", {}, job_id="l1", max_attempts=2)
    first = queue.reserve(1.0)
    assert first is not None
    time.sleep(VT + 0.2)  # the holder "died": no heartbeat
    second = queue.reserve(2.0)
    assert second is not None and second.id == "l1" and second.attempts == 2
    assert "stopped responding" in second.error
    assert not queue.complete(first)  # the presumed-dead holder cannot overwrite the retry
    assert not queue.heartbeat(first)
    assert queue.complete(second)
    time.sleep(VT + 0.2)
    assert queue.reserve(0.1) is None  # completed jobs do not come back


def test_heartbeat_keeps_the_lease(queue: JobQueue) -> None:
    queue.enqueue("ingest", {}, job_id="h1")
    job = queue.reserve(1.0)
    assert job is not None
    for _ in range(4):
        time.sleep(VT / 3)
        assert queue.heartbeat(job)
    assert queue.reserve(0.1) is None
    assert queue.complete(job)


def test_lease_expiry_counts_towards_the_limit(queue: JobQueue) -> None:
    queue.enqueue("ingest", {}, job_id="x1", max_attempts=1)
    assert queue.reserve(1.0) is not None
    time.sleep(VT + 0.2)
    assert queue.reserve(0.1) is None
    job = queue.get("x1")
    assert job is not None and job.status is JobStatus.FAILED and "stopped responding" in job.error


def _flaky(failures: int) -> Callable[[Job], dict]:
    calls = {"n": 0}

    def handler(job: Job) -> dict:
        calls["n"] += 1
        if calls["n"] <= failures:
            raise ConnectionError("postgres restarting")
        return {"ok": True, "calls": calls["n"]}

    return handler


def test_worker_retries_transient_errors_and_fails_permanent_ones(queue: JobQueue) -> None:
    def permanent(job: Job) -> dict:
        raise PermanentJobError("not a PDF: header is %HTML")

    worker = Worker(queue, {"ingest": _flaky(2), "bad": permanent}, poll_s=0.2)
    queue.enqueue("ingest", {}, job_id="w1", max_attempts=3)
    queue.enqueue("bad", {}, job_id="w2", max_attempts=3)
    queue.enqueue("unknown-kind", {}, job_id="w3")
    worker.run(max_jobs=5)
    ok, bad, unknown = queue.get("w1"), queue.get("w2"), queue.get("w3")
    assert ok is not None and ok.status is JobStatus.SUCCEEDED and ok.attempts == 3 and ok.result["calls"] == 3
    assert bad is not None and bad.status is JobStatus.FAILED and bad.attempts == 1 and "not a PDF" in bad.error
    assert unknown is not None and unknown.status is JobStatus.FAILED and "no handler" in unknown.error


def test_worker_heartbeats_through_a_job_longer_than_the_lease(queue: JobQueue) -> None:
    def slow(job: Job) -> dict:
        time.sleep(VT * 2.5)
        return {"slow": True}

    queue.enqueue("ingest", {}, job_id="s1")
    done = Worker(queue, {"ingest": slow}).run_one(1.0)
    assert done is not None and done.status is JobStatus.SUCCEEDED and done.attempts == 1


_KILLABLE_WORKER = textwrap.dedent(
    """
    import pathlib, sys, time
    from finrag.queue.redis_queue import RedisQueue
    from finrag.queue.worker import Worker
    url, marker, vt = sys.argv[1], pathlib.Path(sys.argv[2]), float(sys.argv[3])
    def slow(job):
        marker.write_text(job.id)
        time.sleep(120)
    Worker(RedisQueue(url, visibility_s=vt, backoff_s=0.0), {"ingest": slow}).run(max_jobs=1)
    """
)


def _start_and_kill_worker(server: RedisServer, marker: Path, vt: float) -> None:
    proc = subprocess.Popen([sys.executable, "-c", _KILLABLE_WORKER, server.url, str(marker), str(vt)])
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert proc.poll() is None, "worker exited early"
            assert time.monotonic() < deadline, "worker never started the job"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)  # mid-job, no chance to clean up
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.mark.integration
def test_worker_killed_mid_job_does_not_lose_it(redis_server: RedisServer, tmp_path: Path) -> None:
    from finrag.queue.redis_queue import RedisQueue

    q = RedisQueue(redis_server.url, visibility_s=1.0, backoff_s=0.0)
    q.enqueue("ingest", {"path": "/f.pdf"}, job_id="k1", max_attempts=3)
    _start_and_kill_worker(redis_server, tmp_path / "started", 1.0)
    running = q.get("k1")
    assert running is not None and running.status is JobStatus.RUNNING and running.attempts == 1

    done = Worker(q, {"ingest": lambda job: {"ok": job.payload["path"]}}).run_one(5.0)
    assert done is not None and done.id == "k1" and done.status is JobStatus.SUCCEEDED
    assert done.attempts == 2 and done.result == {"ok": "/f.pdf"}
    assert q.counts() == {"queued": 0, "running": 0, "failed": 0}


@pytest.mark.integration
def test_job_fails_with_reason_when_workers_keep_dying(redis_server: RedisServer, tmp_path: Path) -> None:
    from finrag.queue.redis_queue import RedisQueue

    q = RedisQueue(redis_server.url, visibility_s=0.5, backoff_s=0.0)
    q.enqueue("ingest", {}, job_id="k2", max_attempts=1)
    _start_and_kill_worker(redis_server, tmp_path / "started", 0.5)
    time.sleep(0.7)
    assert q.reserve(0.5) is None
    job = q.get("k2")
    assert job is not None and job.status is JobStatus.FAILED
    assert "stopped responding" in job.error and "attempt 1" in job.error
    assert [j.id for j in q.failed_jobs()] == ["k2"]


def test_service_handlers_ingest_and_delete(tmp_path: Path, sample_dir: Path) -> None:
    """The worker's real handlers, through a QAService (fast stand-in embedder), on the in-process queue."""
    from finrag.jobs import service_handlers
    from finrag.records import DocStatus
    from finrag.service import QAService, build_components
    from tests.conftest import make_settings
    from tests.servers import HashEmbedder

    settings = make_settings(tmp_path / "data")
    components = build_components(settings)
    components.embedder = HashEmbedder()
    svc = QAService(settings, components)
    q = InProcessQueue(visibility_s=30)
    worker = Worker(q, service_handlers(svc))
    pdf = sorted(sample_dir.glob("*.pdf"))[0]
    q.enqueue("ingest", {"tenant": "acme", "path": str(pdf)}, job_id="i1")
    q.enqueue("ingest", {"tenant": "acme", "path": str(tmp_path / "missing.pdf")}, job_id="i2")
    worker.run(max_jobs=2)
    ok, missing = q.get("i1"), q.get("i2")
    assert ok is not None and ok.status is JobStatus.SUCCEEDED and ok.result["status"] == "ingested"
    assert missing is not None and missing.status is JobStatus.FAILED and "file not found" in missing.error
    doc = svc.document(ok.result["doc_id"], tenant="acme")
    assert doc is not None and doc.status is DocStatus.READY

    q.enqueue("delete", {"tenant": "acme", "source_path": str(pdf.resolve())}, job_id="d1")
    worker.run_one(1.0)
    deleted = q.get("d1")
    assert deleted is not None and deleted.result["deleted"] == [ok.result["doc_id"]]
    assert svc.documents("acme") == [] and svc.c.store.count("acme") == 0
    svc.close()


def test_run_worker_without_redis_says_what_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    from finrag.jobs import run_worker
    from finrag.settings import Settings

    monkeypatch.delenv("FINRAG_SERVE_REDIS_URL", raising=False)
    with pytest.raises(SystemExit, match="FINRAG_SERVE_REDIS_URL"):
        run_worker(Settings())
