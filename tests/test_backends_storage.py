"""Object stores: a local folder and S3 (moto's server on 127.0.0.1 over HTTP, through boto3)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from finrag.storage import LocalObjectStore, ObjectStore, open_store, split_s3_uri
from tests.servers import MotoServer, moto_or_skip


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    with moto_or_skip() as server:
        yield server


def s3_store(moto: MotoServer, monkeypatch: pytest.MonkeyPatch, uri: str = "s3://filings/tenant-a") -> ObjectStore:
    # moto accepts any credentials; set them so boto3 never looks for real ones.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("FINRAG_S3_ENDPOINT_URL", moto.endpoint)
    store = open_store(uri)
    store.ensure_bucket()  # type: ignore[attr-defined]
    return store


def _behaves_like_an_object_store(store: ObjectStore, tmp_path: Path) -> None:
    assert isinstance(store, ObjectStore)
    a = store.put("2023/acme-10k.pdf", b"%PDF-1.7 first")
    store.put("2023/acme-10q.pdf", b"%PDF-1.7 other")
    assert a.size == len(b"%PDF-1.7 first") and a.etag
    assert sorted(o.key for o in store.list()) == ["2023/acme-10k.pdf", "2023/acme-10q.pdf"]
    assert [o.key for o in store.list("2023/acme-10k")] == ["2023/acme-10k.pdf"]
    assert store.get("2023/acme-10k.pdf") == b"%PDF-1.7 first"
    dest = store.download("2023/acme-10k.pdf", tmp_path / "dl" / "a.pdf")
    assert dest.read_bytes() == b"%PDF-1.7 first"
    b = store.put("2023/acme-10k.pdf", b"%PDF-1.7 second version")
    assert b.etag != a.etag  # a new version shows in the listing without reading the content
    head = store.head("2023/acme-10k.pdf")
    assert head is not None and head.etag == b.etag
    store.delete("2023/acme-10k.pdf")
    assert store.head("2023/acme-10k.pdf") is None
    assert [o.key for o in store.list()] == ["2023/acme-10q.pdf"]


def test_local_object_store(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path / "root")
    _behaves_like_an_object_store(store, tmp_path)
    assert store.local_path("2023/acme-10q.pdf") == tmp_path / "root" / "2023" / "acme-10q.pdf"
    (tmp_path / "root" / ".partial.pdf").write_bytes(b"x")  # hidden temp files are not objects
    assert [o.key for o in store.list()] == ["2023/acme-10q.pdf"]
    with pytest.raises(ValueError):
        store.get("../outside")


def test_split_s3_uri() -> None:
    assert split_s3_uri("s3://bucket/a/b/") == ("bucket", "a/b")
    assert split_s3_uri("s3://bucket") == ("bucket", "")


@pytest.mark.integration
def test_s3_object_store_on_moto_server(moto: MotoServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    store = s3_store(moto, monkeypatch)
    assert store.uri == "s3://filings/tenant-a"
    assert store.local_path("x") is None
    _behaves_like_an_object_store(store, tmp_path)
    # The prefix scopes the store: another prefix in the same bucket is invisible.
    other = s3_store(moto, monkeypatch, "s3://filings/tenant-b")
    assert list(other.list()) == []
