"""Issue 15.6: not-READY documents never answer, parse workers die with their parent, the web page's
security headers, owner-only data files, job reasons without server paths."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from fastapi.testclient import TestClient

from finrag.records import DocStatus
from finrag.serve.app import create_app
from finrag.serve.routes.jobs import public_reason
from tests.reliability.conftest import ROOT

QUESTION = "What was Cedar Ridge Energy's revenue in fiscal 2023?"


def test_a_document_that_is_not_ready_is_never_retrieved_or_cited(service_factory, sample_dir: Path) -> None:  # type: ignore[no-untyped-def]
    svc = service_factory()
    svc.ingest([sample_dir / "CEDARRIDGEENERGY_2023_10K.pdf"])
    (doc,) = svc.documents()
    assert any(h.chunk.doc_id == doc.doc_id for h in svc.retrieve(QUESTION).hits)
    for status in (DocStatus.INDEXING, DocStatus.PENDING, DocStatus.FAILED):
        svc.c.registry.set_status(doc.tenant, doc.doc_id, status)  # chunks are in the store all along
        assert svc.c.store.count(doc_id=doc.doc_id) > 0
        result = svc.retrieve(QUESTION)
        assert not result.hits and result.trace["not_ready_dropped"] == [doc.doc_id]
        answer = svc.ask(QUESTION)
        assert not answer.citations
    svc.c.registry.set_status(doc.tenant, doc.doc_id, DocStatus.READY)
    assert any(c.doc_id == doc.doc_id for c in svc.ask(QUESTION).citations)


def test_parse_workers_exit_when_their_parent_is_killed() -> None:
    code = textwrap.dedent(
        """
        import time
        from finrag.ingest.pipeline import parse_pool
        pool = parse_pool(2)
        futures = [pool.submit(time.sleep, 120) for _ in range(2)]  # busy, like a long PDF
        time.sleep(1.5)
        print(" ".join(str(p) for p in pool._processes), flush=True)
        time.sleep(120)
        """
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}
    )
    assert parent.stdout is not None
    workers = [int(p) for p in parent.stdout.readline().split()]
    assert len(workers) == 2 and all(_alive(p) for p in workers)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    orphans = [p for p in workers if _alive(p)]
    for p in orphans:  # clean up before failing
        os.kill(p, signal.SIGKILL)
    assert not orphans, "parse workers outlived their killed parent"


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"  # a zombie has exited
    except FileNotFoundError:
        return False


def test_web_page_has_security_headers(service_factory) -> None:  # type: ignore[no-untyped-def]
    app = create_app(service_factory().settings)
    with TestClient(app) as c:
        for path in ("/", "/static/app.js"):
            r = c.get(path)
            assert r.status_code == 200
            csp = r.headers["content-security-policy"]
            assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
            assert r.headers["x-frame-options"] == "DENY" and r.headers["x-content-type-options"] == "nosniff"
        api = c.get("/v1/documents")
        assert api.headers["x-content-type-options"] == "nosniff" and api.headers["x-frame-options"] == "DENY"


def test_job_reasons_carry_no_server_paths() -> None:
    digest = "ab" * 32
    reason = f"cannot parse /srv/finrag/data/uploads/acme/{digest}.pdf: broken xref at /tmp/x/y.bin"
    public = public_reason(reason, "report.pdf")
    assert "/srv" not in public and "/tmp" not in public and "report.pdf" in public and "y.bin" in public
