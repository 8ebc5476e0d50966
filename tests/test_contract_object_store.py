"""The ObjectStore contract: one suite every implementation must pass, run on a local folder and on S3
(moto's server on 127.0.0.1 over HTTP, through boto3 — the real client code, no mocked calls)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from finrag.settings import load_settings
from finrag.storage import LocalObjectStore, ObjectStore, open_store
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
    store = open_store(uri, load_settings().s3)
    store.ensure_bucket()  # type: ignore[attr-defined]
    return store


class ObjectStoreContract:
    """Subclasses provide `store`: an empty store of their kind."""

    def test_satisfies_the_protocol(self, store: ObjectStore) -> None:
        assert isinstance(store, ObjectStore)
        assert list(store.list()) == []
        assert store.head("nothing.pdf") is None

    def test_put_get_list_download_version_delete(self, store: ObjectStore, tmp_path: Path) -> None:
        a = store.put("2023/acme-10k.pdf", b"%PDF-1.7 first")
        store.put("2023/acme-10q.pdf", b"%PDF-1.7 other")
        assert a.key == "2023/acme-10k.pdf" and a.size == len(b"%PDF-1.7 first") and a.etag and a.modified > 0
        assert sorted(o.key for o in store.list()) == ["2023/acme-10k.pdf", "2023/acme-10q.pdf"]
        assert [o.key for o in store.list("2023/acme-10k")] == ["2023/acme-10k.pdf"]
        assert store.get("2023/acme-10k.pdf") == b"%PDF-1.7 first"
        dest = store.download("2023/acme-10k.pdf", tmp_path / "dl" / "a.pdf")
        assert dest.read_bytes() == b"%PDF-1.7 first"
        b = store.put("2023/acme-10k.pdf", b"%PDF-1.7 second version")
        assert b.etag != a.etag  # a new version shows in the listing without reading the content
        head = store.head("2023/acme-10k.pdf")
        assert head is not None and head.etag == b.etag and head.size == len(b"%PDF-1.7 second version")
        listed = {o.key: o for o in store.list()}
        assert listed["2023/acme-10k.pdf"].etag == b.etag and listed["2023/acme-10k.pdf"].size == b.size
        store.delete("2023/acme-10k.pdf")
        assert store.head("2023/acme-10k.pdf") is None
        assert [o.key for o in store.list()] == ["2023/acme-10q.pdf"]
        store.delete("2023/acme-10k.pdf")  # deleting what is gone is not an error

    def test_prefix_listing_and_nested_keys(self, store: ObjectStore) -> None:
        for key in ("a/x.pdf", "a/b/y.pdf", "ab.pdf", "z.pdf"):
            store.put(key, key.encode())
        assert sorted(o.key for o in store.list()) == ["a/b/y.pdf", "a/x.pdf", "ab.pdf", "z.pdf"]
        assert sorted(o.key for o in store.list("a/")) == ["a/b/y.pdf", "a/x.pdf"]
        assert sorted(o.key for o in store.list("a")) == ["a/b/y.pdf", "a/x.pdf", "ab.pdf"]
        assert list(store.list("nothing/")) == []
        assert store.get("a/b/y.pdf") == b"a/b/y.pdf"

    def test_empty_and_binary_objects(self, store: ObjectStore) -> None:
        data = bytes(range(256)) * 64
        assert store.put("bin.dat", data).size == len(data)
        assert store.get("bin.dat") == data
        assert store.put("empty.pdf", b"").size == 0
        assert store.get("empty.pdf") == b""

    def test_missing_object_fails_and_leaves_nothing(self, store: ObjectStore, tmp_path: Path) -> None:
        with pytest.raises(Exception):  # noqa: B017 - each backend's own not-found error
            store.get("missing.pdf")
        dest = tmp_path / "dl" / "missing.pdf"
        with pytest.raises(Exception):  # noqa: B017
            store.download("missing.pdf", dest)
        leftovers = list(dest.parent.iterdir()) if dest.parent.exists() else []
        assert leftovers == []  # neither the file nor a partial download


class TestLocalObjectStore(ObjectStoreContract):
    @pytest.fixture()
    def store(self, tmp_path: Path) -> LocalObjectStore:
        return LocalObjectStore(tmp_path / "root")

    def test_local_paths_hidden_files_and_escapes(self, store: LocalObjectStore, tmp_path: Path) -> None:
        store.put("2023/acme-10q.pdf", b"x")
        assert store.local_path("2023/acme-10q.pdf") == tmp_path / "root" / "2023" / "acme-10q.pdf"
        (tmp_path / "root" / ".partial.pdf").write_bytes(b"x")  # hidden temp files are not objects
        assert [o.key for o in store.list()] == ["2023/acme-10q.pdf"]
        with pytest.raises(ValueError):
            store.get("../outside")
        assert open_store(str(tmp_path / "root")).get("2023/acme-10q.pdf") == b"x"


@pytest.mark.integration
class TestS3ObjectStore(ObjectStoreContract):
    @pytest.fixture()
    def store(self, moto: MotoServer, monkeypatch: pytest.MonkeyPatch) -> ObjectStore:
        # One prefix per test in a shared bucket: the prefix alone must scope the store.
        return s3_store(moto, monkeypatch, f"s3://filings/{uuid.uuid4().hex[:10]}")

    def test_prefix_scopes_the_store(self, moto: MotoServer, monkeypatch: pytest.MonkeyPatch) -> None:
        store = s3_store(moto, monkeypatch)
        assert store.uri == "s3://filings/tenant-a"
        assert store.local_path("x") is None
        store.put("a.pdf", b"a")
        other = s3_store(moto, monkeypatch, "s3://filings/tenant-b")
        assert list(other.list()) == [] and other.head("a.pdf") is None
        store.delete("a.pdf")
