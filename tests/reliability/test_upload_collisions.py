"""Issue 15.3: files are stored by content hash, so names never collide; the same bytes stay one file.

Before: two different filings whose names sanitised alike (e.g. names of only non-ASCII characters)
were stored under one path, and the second silently replaced the first."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from finrag.serve.app import create_app
from finrag.settings import SecuritySettings
from finrag.storage import LocalObjectStore
from tests.test_api import bearer, upload, wait_job

A, B, C = "BLUEFINFOODS_2022_10K.pdf", "BLUEFINFOODS_2023_10K.pdf", "CEDARRIDGEENERGY_2023_8K_dated-2023-11-14.pdf"


@pytest.fixture()
def client(service_factory) -> Iterator[tuple[TestClient, str]]:  # type: ignore[no-untyped-def]
    svc = service_factory(security=SecuritySettings(tenant_quota_mb=1.0))
    app = create_app(svc.settings, svc)
    key, _ = app.state.finrag.keys.create("acme", "t", ["query", "ingest"])
    with TestClient(app) as c:
        yield c, key


def documents(c: TestClient, key: str) -> list[dict]:
    return c.get("/v1/documents", headers=bearer(key)).json()["documents"]


def stored(c: TestClient) -> list[Path]:
    return sorted((c.app.state.finrag.uploads_dir / "acme").glob("*"))  # type: ignore[attr-defined]


@pytest.mark.slow
def test_same_and_same_sanitised_names_both_survive_and_same_bytes_stay_one(
    client: tuple[TestClient, str], sample_dir: Path
) -> None:
    c, key = client
    # Two different filings under one name, two under names that sanitise alike (only emoji).
    jobs = [
        upload(c, key, sample_dir / A, name="report.pdf"),
        upload(c, key, sample_dir / B, name="report.pdf"),
        upload(c, key, sample_dir / C, name="📈📈.pdf"),
    ]
    done = [wait_job(c, key, j.json()["job_id"]) for j in jobs]
    assert all(j["status"] == "succeeded" and not j["reason"] for j in done), done
    docs = documents(c, key)
    assert len(docs) == 3 and len({d["doc_id"] for d in docs}) == 3
    assert sorted(d["name"] for d in docs) == ["report", "report", "upload"]
    assert len([p for p in stored(c) if p.suffix == ".pdf"]) == 3
    # every document still answers from its own file: nothing was overwritten
    for d in docs:
        assert c.get(f"/v1/documents/{d['doc_id']}/pages/1.png", headers=bearer(key)).status_code == 200

    again = wait_job(c, key, upload(c, key, sample_dir / A, name="another name.pdf").json()["job_id"])
    assert again["status"] == "succeeded" and again["reason"].startswith("unchanged")
    assert len(documents(c, key)) == 3 and len(stored(c)) == 3

    # A non-ASCII name is kept as the document's name (it no longer names the file).
    assert safe_name("Отчёт 2023.pdf") == "Отчёт_2023.pdf"


def safe_name(name: str) -> str:
    from finrag.serve.routes.documents import safe_filename

    return safe_filename(name)


def test_a_refused_upload_leaves_no_partial_file(client: tuple[TestClient, str], sample_dir: Path) -> None:
    c, key = client
    big = b"%PDF-1.7\n" + b"0" * (2 * 2**20)  # over the 1 MB quota of this tenant
    r = c.post("/v1/documents", headers=bearer(key), files={"file": ("big.pdf", big, "application/pdf")})
    assert r.status_code == 413 and r.json()["error"]["type"] == "quota_exceeded"
    assert "1 MB" in r.json()["error"]["message"]
    assert stored(c) == [] and not list((c.app.state.finrag.uploads_dir / "acme").glob(".*"))  # type: ignore[attr-defined]


def test_local_object_store_never_lets_two_keys_share_a_file(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "objects")
    store.put("filings/report.pdf", b"first")
    for alias in ("filings//report.pdf", "filings/./report.pdf", "filings/report.pdf/", "./filings/report.pdf"):
        with pytest.raises(ValueError, match="normal form"):
            store.put(alias, b"second")
    assert store.get("filings/report.pdf") == b"first"
    store.put("other/report.pdf", b"second")  # same base name, another key: both kept
    assert {o.key for o in store.list()} == {"filings/report.pdf", "other/report.pdf"}
    path = store.local_path("filings/report.pdf")
    assert path is not None and path.stat().st_mode & 0o777 == 0o600


def test_mirror_paths_of_s3_objects_never_escape_or_alias(tmp_path: Path) -> None:
    """Bucket objects mirrored for ingest (worker, updater): 'a//b.pdf' and 'a/b.pdf' are two objects, so
    the first is refused rather than written over the second's file; '../' keys cannot leave the mirror."""
    import pytest

    from finrag.jobs import object_mirror_path

    assert object_mirror_path(tmp_path, "s3://bkt/a/b.pdf") == tmp_path / "objects" / "bkt" / "a" / "b.pdf"
    for bad in ("s3://bkt/a//b.pdf", "s3://bkt/a/./b.pdf", "s3://bkt/../../etc/x.pdf", "s3://bkt/a/../b.pdf"):
        with pytest.raises(ValueError):
            object_mirror_path(tmp_path, bad)
