"""Object stores beyond the ObjectStore contract (tests/test_contract_object_store.py): S3 URIs, and the
worker reading an S3 object that vanishes mid-download (moto's server on 127.0.0.1)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from finrag.storage import split_s3_uri
from tests.servers import MotoServer, moto_or_skip
from tests.test_contract_object_store import s3_store


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    with moto_or_skip() as server:
        yield server


def test_split_s3_uri() -> None:
    assert split_s3_uri("s3://bucket/a/b/") == ("bucket", "a/b")
    assert split_s3_uri("s3://bucket") == ("bucket", "")


@pytest.mark.integration
def test_s3_object_deleted_while_being_read_fails_the_attempt_cleanly_and_retries(
    moto: MotoServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, sample_dir: Path
) -> None:
    """The worker's real ingest handler fetching from S3: the object vanishes after the download started
    (HEAD answered, then the GET finds nothing). The attempt fails with the S3 reason, leaves no partial
    file and no document, and the job goes back to the queue; once the object is back, the retry ingests it."""
    import boto3

    from finrag.jobs import object_mirror_path, service_handlers
    from finrag.queue import JobStatus
    from finrag.queue.memory import InProcessQueue
    from finrag.queue.worker import Worker
    from finrag.service import QAService, build_components
    from tests.conftest import make_settings
    from tests.servers import HashEmbedder

    store = s3_store(moto, monkeypatch, "s3://race")
    pdf = sorted(sample_dir.glob("*.pdf"))[0]
    store.put("filings/a.pdf", pdf.read_bytes())

    # Delete the object from another client the moment the worker's client asks for its bytes. The
    # handler on boto3's default session reaches every client created after it (the worker's included).
    other = boto3.client("s3", endpoint_url=moto.endpoint)
    armed = {"on": True}

    def vanish(**_: object) -> None:
        if armed["on"]:
            armed["on"] = False
            other.delete_object(Bucket="race", Key="filings/a.pdf")

    boto3.setup_default_session()
    boto3.DEFAULT_SESSION.events.register("before-call.s3.GetObject", vanish)
    try:
        settings = make_settings(tmp_path / "data")
        components = build_components(settings)
        components.embedder = HashEmbedder()
        svc = QAService(settings, components)
        q = InProcessQueue(visibility_s=30, backoff_s=0.0)
        worker = Worker(q, service_handlers(svc), poll_s=0.2)
        q.enqueue("ingest", {"tenant": "acme", "uri": "s3://race/filings/a.pdf"}, job_id="s1", max_attempts=3)

        first = worker.run_one(1.0)
        assert first is not None and first.status is JobStatus.QUEUED and first.attempts == 1
        assert "404" in first.error or "NoSuchKey" in first.error or "Not Found" in first.error
        mirror = object_mirror_path(settings.data_dir, "s3://race/filings/a.pdf")
        leftovers = list(mirror.parent.iterdir()) if mirror.parent.exists() else []
        assert leftovers == []  # neither the mirror nor a partial download
        assert svc.documents("acme") == []

        store.put("filings/a.pdf", pdf.read_bytes())  # the filing is back (re-uploaded)
        second = worker.run_one(1.0)
        assert second is not None and second.status is JobStatus.SUCCEEDED and second.attempts == 2
        assert second.result["status"] == "ingested" and svc.c.store.count("acme") > 0
        svc.close()
    finally:
        boto3.DEFAULT_SESSION.events.unregister("before-call.s3.GetObject", vanish)
        boto3.DEFAULT_SESSION = None
