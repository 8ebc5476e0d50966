"""The job-queue protocol (`finrag.queue.JobQueue`): one suite of behaviour run against every
implementation (in-process, in-process with its SQL journal, Redis on a real redis-server), then the
API's uploads through the queue with their status read back from the job routes on both."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from finrag.queue import JobQueue, JobStatus, build_queue
from finrag.queue.journal import SqlJobJournal
from finrag.queue.memory import InProcessQueue
from tests.servers import RedisServer, redis_or_skip

VT = 0.6  # lease in these tests


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    with redis_or_skip() as server:
        yield server


class QueueContract:
    """Subclasses give a `queue` fixture; every test here must pass for each implementation."""

    def test_implements_the_protocol(self, queue: JobQueue) -> None:
        assert isinstance(queue, JobQueue)

    def test_a_job_goes_queued_running_succeeded_with_timestamps(self, queue: JobQueue) -> None:
        job = queue.enqueue("ingest", {"tenant": "acme", "path": "/a.pdf"}, job_id="j1")
        assert job.status is JobStatus.QUEUED and job.attempts == 0 and job.tenant == "acme"
        assert job.created_at and job.started_at is None and job.finished_at is None
        got = queue.reserve(1.0)
        assert got is not None and got.id == "j1" and got.status is JobStatus.RUNNING and got.started_at
        assert queue.get("j1").status is JobStatus.RUNNING  # type: ignore[union-attr]
        assert queue.complete(got, {"doc_id": "d1"})
        done = queue.get("j1")
        assert done is not None and done.status is JobStatus.SUCCEEDED and done.status.finished
        assert done.result == {"doc_id": "d1"} and done.finished_at and done.finished_at >= done.started_at

    def test_enqueue_is_idempotent_on_the_id(self, queue: JobQueue) -> None:
        queue.enqueue("ingest", {"tenant": "acme", "n": 1}, job_id="same")
        again = queue.enqueue("ingest", {"tenant": "acme", "n": 2}, job_id="same")
        assert again.payload["n"] == 1
        assert queue.reserve(0.5) is not None and queue.reserve(0.1) is None

    def test_failures_retry_then_fail_with_the_reason(self, queue: JobQueue) -> None:
        queue.enqueue("ingest", {"tenant": "acme"}, job_id="f1", max_attempts=2)
        first = queue.reserve(1.0)
        assert first is not None and queue.fail(first, "boom 1") is JobStatus.QUEUED
        second = queue.reserve(2.0)
        assert second is not None and second.attempts == 2
        assert queue.fail(second, "boom 2") is JobStatus.FAILED
        job = queue.get("f1")
        assert job is not None and job.status is JobStatus.FAILED and job.error == "boom 2" and job.finished_at

    def test_a_permanent_failure_is_not_retried(self, queue: JobQueue) -> None:
        queue.enqueue("ingest", {"tenant": "acme"}, job_id="p1", max_attempts=5)
        job = queue.reserve(1.0)
        assert job is not None and queue.fail(job, "not a PDF", retry=False) is JobStatus.FAILED
        assert queue.reserve(0.2) is None

    def test_an_expired_lease_requeues_and_the_stale_worker_cannot_finish(self, queue: JobQueue) -> None:
        queue.enqueue("ingest", {"tenant": "acme"}, job_id="l1")
        stale = queue.reserve(1.0)
        assert stale is not None
        time.sleep(VT + 0.2)
        retry = queue.reserve(1.0)
        assert retry is not None and retry.id == "l1" and retry.attempts == 2
        assert not queue.complete(stale, {"who": "stale"})
        assert queue.complete(retry, {"who": "retry"})
        assert queue.get("l1").result == {"who": "retry"}  # type: ignore[union-attr]

    def test_list_shows_only_the_tenants_jobs_newest_first(self, queue: JobQueue) -> None:
        for i in range(3):
            queue.enqueue("ingest", {"tenant": "acme", "i": i}, job_id=f"a{i}")
            time.sleep(0.01)
        queue.enqueue("ingest", {"tenant": "globex"}, job_id="g0")
        assert [j.id for j in queue.list("acme")] == ["a2", "a1", "a0"]
        assert [j.id for j in queue.list("acme", limit=2)] == ["a2", "a1"]
        assert [j.id for j in queue.list("globex")] == ["g0"]
        assert queue.list("nobody") == []

    def test_counts(self, queue: JobQueue) -> None:
        queue.enqueue("ingest", {"tenant": "acme"}, job_id="c1")
        queue.enqueue("ingest", {"tenant": "acme"}, job_id="c2")
        running = queue.reserve(1.0)
        assert running is not None
        counts = queue.counts()
        assert counts["queued"] == 1 and counts["running"] == 1


class TestInProcessQueue(QueueContract):
    @pytest.fixture()
    def queue(self) -> Iterator[JobQueue]:
        q = InProcessQueue(visibility_s=VT, backoff_s=0.0)
        yield q
        q.close()


class TestInProcessQueueWithJournal(QueueContract):
    @pytest.fixture()
    def journal(self, tmp_path: Path) -> SqlJobJournal:
        from finrag.db import open_database

        return SqlJobJournal(open_database(f"sqlite:///{tmp_path / 'jobs.sqlite3'}"))

    @pytest.fixture()
    def queue(self, journal: SqlJobJournal) -> Iterator[JobQueue]:
        q = build_queue(journal=journal, visibility_s=VT, backoff_s=0.0)
        yield q
        q.close()

    def test_a_restarted_process_redoes_unfinished_jobs_and_reports_finished_ones(
        self, queue: JobQueue, journal: SqlJobJournal
    ) -> None:
        queue.enqueue("ingest", {"tenant": "acme"}, job_id="done")
        job = queue.reserve(1.0)
        assert job is not None and queue.complete(job, {"doc_id": "d"})
        queue.enqueue("ingest", {"tenant": "acme"}, job_id="cut")
        assert queue.reserve(1.0) is not None  # running when the process "dies"
        queue.enqueue("ingest", {"tenant": "acme"}, job_id="waiting")

        after = InProcessQueue(visibility_s=VT, backoff_s=0.0, journal=journal)
        finished = after.get("done")
        assert finished is not None and finished.status is JobStatus.SUCCEEDED and finished.result == {"doc_id": "d"}
        assert {after.reserve(0.5).id, after.reserve(0.5).id} == {"cut", "waiting"}  # type: ignore[union-attr]
        assert after.get("cut").attempts == 2  # type: ignore[union-attr]  # the cut run counted
        assert after.enqueue("ingest", {"tenant": "acme"}, job_id="done").status is JobStatus.SUCCEEDED
        assert [j.id for j in after.list("acme")] == ["waiting", "cut", "done"]


class TestRedisQueue(QueueContract):
    @pytest.fixture()
    def queue(self, redis_server: RedisServer) -> Iterator[JobQueue]:
        q = build_queue(redis_server.url, namespace=f"finrag:t{uuid.uuid4().hex[:8]}", visibility_s=VT, backoff_s=0.0)
        yield q
        q.close()


# the API's uploads through the queue ------------------------------------------------------------------------
CEDAR_8K = "CEDARRIDGEENERGY_2023_8K_dated-2023-11-14.pdf"


@pytest.fixture(params=["in-process", "redis"])
def job_queue(request: pytest.FixtureRequest) -> tuple[str, str]:
    if request.param == "in-process":
        return "in-process", ""
    return "redis", request.getfixturevalue("redis_server").url


def test_upload_status_is_visible_through_the_job_routes(
    job_queue: tuple[str, str], tmp_path: Path, shared_embedder, sample_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from finrag.serve.app import create_app
    from finrag.settings import ServeSettings
    from tests.test_api import bearer, build_service, upload, wait_job

    kind, url = job_queue
    svc = build_service(tmp_path / "data", shared_embedder)
    app = create_app(svc.settings, svc, ServeSettings(job_queue=kind, redis_url=url))  # type: ignore[arg-type]
    state = app.state.finrag
    assert type(state.jobs.queue).__name__ == ("RedisQueue" if url else "InProcessQueue")
    acme, _ = state.keys.create("acme", "t")
    globex, _ = state.keys.create("globex", "t")
    try:
        with TestClient(app) as c:
            r = upload(c, acme, sample_dir / CEDAR_8K)
            assert r.status_code == 202 and r.json()["status"] in ("queued", "running"), r.text
            job = wait_job(c, acme, r.json()["job_id"])
            assert job["status"] == "succeeded" and job["filename"] == CEDAR_8K and job["chunks"] > 0, job
            assert job["started_at"] and job["finished_at"] and job["doc_id"]
            listed = c.get("/v1/jobs", headers=bearer(acme)).json()["jobs"]
            assert [j["job_id"] for j in listed] == [job["job_id"]]
            assert c.get(f"/v1/jobs/{job['job_id']}", headers=bearer(globex)).status_code == 404
            assert c.get("/v1/jobs", headers=bearer(globex)).json()["jobs"] == []
            junk = upload(c, acme, sample_dir / CEDAR_8K, name="x.pdf", data=b"%PDF-1.7 junk")
            bad = wait_job(c, acme, junk.json()["job_id"])
            assert bad["status"] == "failed" and bad["reason"], bad
    finally:
        state.jobs.queue.close()
        svc.close()
