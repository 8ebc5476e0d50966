"""Issue 15.1: the embedded store has one owner process; a second one is refused and changes nothing.

Before: `finrag ask` on a served data folder hit a Qdrant WAL lock error and left the server unable to
ingest or delete until restarted, while /readyz said ok."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.reliability.conftest import ROOT, Served, cli

pytestmark = pytest.mark.slow


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file()
    }


def test_second_process_is_refused_touches_nothing_and_reads_go_through_the_api(
    served: Served, sample_dir: Path
) -> None:
    store = served.data_dir / "qdrant"
    before = snapshot(store)
    expected = f"served by PID {served.proc.pid} on port {served.port}"

    ask = cli(served.data_dir, "ask", "What was total revenue?")
    assert ask.returncode == 3, ask.stderr
    text = " ".join(ask.stderr.split())
    assert expected in text and "use the API or stop the server" in text
    for args in (["ingest", str(sample_dir)], ["documents", "delete", "whatever"]):
        refused = cli(served.data_dir, *args)
        assert refused.returncode == 3, (args, refused.stdout, refused.stderr)
        assert expected in " ".join(refused.stderr.split())
    assert snapshot(store) == before, "a refused process changed the store's files"

    # With a key, the read-only command is answered by the server that owns the folder.
    via_api = cli(served.data_dir, "ask", "What was total revenue?", "--json", FINRAG_SECURITY_API_KEY=served.key)
    assert via_api.returncode == 0, via_api.stderr
    assert "answered by the server that owns the data folder" in via_api.stdout
    listed = cli(served.data_dir, "documents", "list", "--json")  # the registry alone: SQLite shares readers
    assert listed.returncode == 0 and '"status": "ready"' in listed.stdout

    # The server is unharmed: it still deletes and ingests, and says it can write.
    status, docs = served.request("GET", "/v1/documents")
    assert status == 200 and docs["documents"]
    victim = docs["documents"][0]["doc_id"]
    assert served.request("DELETE", f"/v1/documents/{victim}")[0] == 200
    status, ready = served.request("GET", "/readyz")
    assert status == 200 and ready["checks"]["store_writes"]["ok"], ready


def _hold_store(path: Path) -> subprocess.Popen[str]:
    code = textwrap.dedent(
        f"""
        import sys, time
        from finrag.index.qdrant_edge import QdrantEdgeStore
        store = QdrantEdgeStore({str(path)!r}, dim=8)
        store.warm_up()
        print("held", flush=True)
        time.sleep(600)
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_store_refuses_a_second_owner_and_frees_itself_when_the_owner_dies(tmp_path: Path) -> None:
    from finrag.index.owner import StoreLockedError
    from finrag.index.qdrant_edge import QdrantEdgeStore

    path = tmp_path / "qdrant"
    owner = _hold_store(path)
    try:
        before = snapshot(path)
        second = QdrantEdgeStore(path, dim=8)
        with pytest.raises(StoreLockedError, match=f"served by PID {owner.pid}; wait for it"):
            second.warm_up()
        assert second._shard is None and snapshot(path) == before
    finally:
        owner.send_signal(signal.SIGKILL)  # the kernel drops a dead process's flock: no stale lock
        owner.wait()
    deadline = time.monotonic() + 10
    second.warm_up()  # now it is ours
    assert time.monotonic() < deadline and second.owner.held
    second.close()
    assert not second.owner.held


def test_readyz_reports_a_store_that_cannot_write_and_it_recovers_without_restart(
    tmp_path: Path, shared_embedder, sample_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import qdrant_edge as q
    from fastapi.testclient import TestClient

    from finrag.serve.app import create_app
    from finrag.service import QAService, build_components
    from tests.conftest import make_settings

    settings = make_settings(tmp_path / "data")
    components = build_components(settings)
    components.embedder = shared_embedder
    service = QAService(settings, components)
    service.ingest([sample_dir / "BLUEFINFOODS_2022_10K.pdf", sample_dir / "BLUEFINFOODS_2023_10K.pdf"])
    store = service.c.store
    app = create_app(settings, service)
    with TestClient(app) as client:
        secret, _ = app.state.finrag.keys.create("default", "t", ["query", "ingest"])
        auth = {"Authorization": f"Bearer {secret}"}
        assert client.get("/readyz").json()["checks"]["store_writes"]["ok"]

        class Broken:  # the shard's files went bad under it: every write fails, and so does reopening
            def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
                raise OSError("tracker journal is shorter than expected")

        store._shard = Broken()  # type: ignore[assignment]
        real_load = q.EdgeShard.load
        monkeypatch.setattr(q.EdgeShard, "load", lambda *_a, **_k: (_ for _ in ()).throw(OSError("wal locked")))
        docs = client.get("/v1/documents", headers=auth).json()["documents"]
        assert client.delete(f"/v1/documents/{docs[0]['doc_id']}", headers=auth).status_code == 500
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert "tracker journal" in ready.json()["checks"]["store_writes"]["detail"]

        monkeypatch.setattr(q.EdgeShard, "load", real_load)  # the cause went away: no restart needed
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["checks"]["store_writes"]["ok"]
        assert client.delete(f"/v1/documents/{docs[0]['doc_id']}", headers=auth).status_code == 200
        assert store.count(doc_id=docs[0]["doc_id"]) == 0
    service.close()


def test_data_files_are_owner_only(served: Served) -> None:
    """The CLI and the server create the index, the registry and the lock 0600 / 0700 (umask 077)."""
    loose = []
    for path in [served.data_dir, *served.data_dir.rglob("*")]:
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            loose.append((str(path.relative_to(served.data_dir)), oct(mode)))
    assert not loose, loose[:10]
    assert (served.data_dir / "registry.sqlite3").stat().st_mode & 0o777 == 0o600
