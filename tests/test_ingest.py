"""Ingest over generated filings with the real parser, model, Qdrant edge and SQLite."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from finrag.records import DocStatus

pytestmark = pytest.mark.slow


def _pdfs(sample_dir: Path) -> list[Path]:
    return sorted(sample_dir.glob("*.pdf"))


def test_ingest_is_idempotent_and_consistent(service_factory, sample_dir: Path) -> None:
    svc = service_factory()
    first = svc.ingest([sample_dir])
    assert not first.failed
    docs = svc.documents()
    assert len(docs) == len(_pdfs(sample_dir))
    assert all(d.status is DocStatus.READY and d.chunks > d.pages for d in docs)
    for d in docs:
        assert svc.c.store.count(d.tenant, d.doc_id) == d.chunks
        assert d.filing.company and d.filing.fiscal_year
    total = svc.c.store.count()

    again = svc.ingest([sample_dir])
    assert again.count("skipped") == len(docs) and again.embedded == 0
    assert svc.c.store.count() == total
    assert [(d.doc_id, d.chunks) for d in svc.documents()] == [(d.doc_id, d.chunks) for d in docs]


def test_changed_file_replaces_its_old_version(service_factory, sample_dir: Path, tmp_path: Path) -> None:
    svc = service_factory()
    a, b = _pdfs(sample_dir)[:2]
    target = tmp_path / "filing.pdf"
    shutil.copy(a, target)
    first = svc.ingest([target]).events[0]
    assert first.status == "ingested"
    shutil.copy(b, target)
    second = svc.ingest([target]).events[0]
    assert second.status == "replaced" and second.doc_id != first.doc_id
    assert [d.doc_id for d in svc.documents()] == [second.doc_id]
    assert svc.c.store.count(svc.settings.tenant, first.doc_id) == 0
    assert svc.c.store.count(svc.settings.tenant, second.doc_id) == second.chunks


def _bad_files(folder: Path, good: Path) -> dict[str, Path]:
    from pypdf import PdfReader, PdfWriter

    folder.mkdir()
    files = {
        "corrupt": folder / "corrupt.pdf",
        "not_pdf": folder / "notes.pdf",
        "empty": folder / "empty.pdf",
        "locked": folder / "locked.pdf",
    }
    files["corrupt"].write_bytes(good.read_bytes()[:1500])
    files["not_pdf"].write_text("Revenue was great this year.\n" * 20)
    files["empty"].write_bytes(b"")
    writer = PdfWriter()
    for page in PdfReader(good).pages[:2]:
        writer.add_page(page)
    writer.encrypt(user_password="secret", owner_password="owner")
    with files["locked"].open("wb") as fh:
        writer.write(fh)
    shutil.copy(good, folder / "good.pdf")
    return files


def test_bad_files_fail_clearly_and_the_rest_ingests(service_factory, sample_dir: Path, tmp_path: Path) -> None:
    svc = service_factory()
    bad = _bad_files(tmp_path / "batch", _pdfs(sample_dir)[0])
    report = svc.ingest([tmp_path / "batch"])
    by_name = {Path(e.path).name: e for e in report.events}
    assert by_name["good.pdf"].status == "ingested"
    for path in bad.values():
        event = by_name[path.name]
        assert event.status == "failed" and event.reason, event
        assert "Traceback" not in event.reason and "unexpected" not in event.reason
    docs = {d.name: d for d in svc.documents()}
    assert docs["locked"].status is DocStatus.FAILED and "password" in docs["locked"].error.lower()
    assert docs["notes"].status is DocStatus.FAILED and "not a pdf" in docs["notes"].error.lower()
    assert docs["good"].status is DocStatus.READY


def _statuses(db: Path) -> list[str]:
    if not db.exists():
        return []
    try:
        with sqlite3.connect(db, timeout=1) as con:
            return [r[0] for r in con.execute("select status from documents")]
    except sqlite3.OperationalError:
        return []


def test_kill_9_during_ingest_then_rerun_finishes(sample_dir: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {**os.environ, "FINRAG_DATA_DIR": str(data), "HF_HUB_OFFLINE": "1"}
    cmd = [sys.executable, "-m", "finrag.cli", "ingest", str(sample_dir)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    db = data / "registry.sqlite3"
    deadline = time.time() + 180
    try:
        # Kill it while a document is mid-flight: registered as indexing, chunks partly written.
        while time.time() < deadline and proc.poll() is None:
            statuses = _statuses(db)
            if "indexing" in statuses and "ready" in statuses:
                break
            time.sleep(0.02)
        assert proc.poll() is None, "ingest finished before it could be killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "ready" in _statuses(db)

    rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr

    from finrag.index.qdrant_edge import QdrantEdgeStore
    from finrag.registry.sql import SqlRegistry

    registry = SqlRegistry(f"sqlite:///{db}")
    docs = registry.list()
    assert len(docs) == len(_pdfs(sample_dir))
    assert all(d.status is DocStatus.READY for d in docs)
    store = QdrantEdgeStore(data / "qdrant")
    try:
        for d in docs:  # neither missing nor duplicated chunks
            assert store.count(d.tenant, d.doc_id) == d.chunks
    finally:
        store.close()
