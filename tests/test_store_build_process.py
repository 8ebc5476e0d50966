"""The embedded store's index build in a child process, on real qdrant-edge shards: questions keep being
answered from the current shard while a copy is built (qdrant-edge holds the GIL while it builds), writes
wait for the build and are kept, a failed build leaves the shard serving as it was, `close` stops a build,
and opening the store repairs what a crash during a build left behind."""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from finrag.index.qdrant_edge import IndexBuildError, QdrantEdgeStore
from finrag.index.sparse import Bm25Encoder
from finrag.records import Chunk, ChunkKind
from tests.test_store_build import DIM, _load, _queries, _results

N = 2000


def _store(path: Path) -> QdrantEdgeStore:
    # indexing_threshold_kb=1: every segment gets an HNSW graph, so the build is a real one.
    return QdrantEdgeStore(path, dim=DIM, quantization="int8", vectors_on_disk=True, indexing_threshold_kb=1)


def _wait_for(cond: Callable[[], bool], timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.005)


def _build_child_running() -> bool:
    """Whether a child of this process runs the index build now (read from /proc: Linux)."""
    me = str(os.getpid())
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = stat.read_text().rsplit(")", 1)[1].split()[1]
            if ppid == me and b"finrag.index.edge_build" in (stat.parent / "cmdline").read_bytes():
                return True
        except (OSError, IndexError):  # gone meanwhile
            continue
    return False


def _late_chunks(n: int) -> tuple[list[Chunk], np.ndarray]:
    rng = np.random.default_rng(99)
    chunks = [
        Chunk(
            id=str(uuid.UUID(int=10**12 + i)),
            doc_id="late",
            tenant="t",
            kind=ChunkKind.PASSAGE,
            text=f"dividends declared late {i}",
            page_start=0,
            page_end=0,
            metadata={"doc_name": "late", "company": "Acme", "doc_type": "10-Q", "fiscal_year": 2024},
        )
        for i in range(n)
    ]
    vectors = rng.standard_normal((n, DIM)).astype(np.float32)
    return chunks, vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_reads_go_on_and_writes_wait_during_a_build(tmp_path: Path) -> None:
    path = tmp_path / "qdrant"
    building = tmp_path / "qdrant.building"
    store = _store(path)
    vectors = _load(store, N)
    queries = _queries(vectors)
    plain = _results(store, queries)
    sample_ids = [str(uuid.UUID(int=i)) for i in (0, 7, 1234, N - 1)]
    before = store.get_chunks("t", sample_ids)
    assert store.info()["hnsw_segments"] == 0

    built: dict[str, object] = {}

    def build() -> None:
        built["changed"] = store.optimize()
        built["at"] = time.perf_counter()

    late, late_vectors = _late_chunks(5)
    sparse = Bm25Encoder()
    wrote: dict[str, object] = {}

    def write() -> None:
        wrote["started_during_build"] = _build_child_running()
        store.upsert(late, late_vectors, [sparse.embed_document(c.text) for c in late])
        # The write gate is released only after the swap renamed the copy away.
        wrote["copy_still_there"] = building.exists()

    builder = threading.Thread(target=build)
    builder.start()
    _wait_for(_build_child_running)
    writer = threading.Thread(target=write)
    writer.start()
    # From this thread, searches for as long as the build runs: (answers, child running before and
    # after the search, when it returned).
    searches: list[tuple[list[tuple[str, set[str]]], bool, float]] = []
    while builder.is_alive():
        running = _build_child_running()
        hits = _results(store, queries)
        searches.append((hits, running and _build_child_running(), time.perf_counter()))
    builder.join()
    writer.join(60)

    assert built["changed"] is True
    during = [(hits, at) for hits, in_child, at in searches if in_child]
    assert during, "no search was answered while the child process built the index"
    assert all(hits == plain and at < built["at"] for hits, at in during)  # answered before optimize returned
    assert wrote == {"started_during_build": True, "copy_still_there": False}
    info = store.info()
    assert info["points"] == N + 5 and info["hnsw_segments"] >= 1
    assert store.get_chunks("t", sample_ids) == before  # payloads survived the copy and the build
    assert [c.id for c in store.get_chunks("t", [c.id for c in late])] == [c.id for c in late]
    assert _results(store, queries) == plain
    assert sorted(p.name for p in tmp_path.iterdir()) == ["qdrant", "qdrant.lock"]  # no copy, no .old
    assert store.owner.held
    store.close()
    reopened = _store(path)
    assert reopened.info()["hnsw_segments"] == info["hnsw_segments"] and reopened.count() == N + 5
    reopened.close()


def test_a_failed_build_leaves_the_shard_serving(tmp_path: Path) -> None:
    path = tmp_path / "qdrant"
    store = _store(path)
    vectors = _load(store, 500)
    queries = _queries(vectors)
    plain = _results(store, queries)
    # The open shard holds its config in memory; the copy the child opens has it corrupt.
    config = path / "edge_config.json"
    good = config.read_bytes()
    config.write_text("{not json")
    with pytest.raises(IndexBuildError, match=r"child process \(exit 1\).*edge_config\.json"):
        store.optimize()
    assert not (tmp_path / "qdrant.building").exists()
    assert _results(store, queries) == plain and store.count() == 500
    assert store.info()["hnsw_segments"] == 0
    late, late_vectors = _late_chunks(3)
    store.upsert(late, late_vectors, [None] * 3)  # the write gate was released
    assert store.count() == 503
    config.write_bytes(good)
    store.close()
    reopened = _store(path)
    assert reopened.count() == 503 and _results(reopened, queries) == plain
    reopened.close()


def test_close_stops_a_running_build(tmp_path: Path) -> None:
    path = tmp_path / "qdrant"
    store = _store(path)
    _load(store, N)
    errors: list[BaseException] = []

    def build() -> None:
        try:
            store.optimize()
        except IndexBuildError as exc:
            errors.append(exc)

    builder = threading.Thread(target=build)
    builder.start()
    _wait_for(_build_child_running)
    store.close()
    builder.join(60)
    assert len(errors) == 1 and "closing" in str(errors[0])
    assert not (tmp_path / "qdrant.building").exists() and not store.owner.held
    reopened = _store(path)
    assert reopened.count() == N and reopened.info()["hnsw_segments"] == 0
    reopened.close()


def test_open_repairs_an_interrupted_build(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "qdrant"
    building, old = tmp_path / "qdrant.building", tmp_path / "qdrant.old"
    store = _store(path)
    _load(store, 200)
    store.close()
    caplog.set_level(logging.WARNING, logger="finrag.index.qdrant_edge")

    # Died during the build: the copy is left.
    shutil.copytree(path, building)
    store = _store(path)
    assert store.count() == 200 and not building.exists()
    assert "removing the copy an interrupted index build left" in caplog.text
    store.close()

    # Died between the two renames: the shard is at .old, nothing at the path, the copy still there.
    shutil.copytree(path, building)
    path.rename(old)
    store = _store(path)
    assert store.count() == 200 and not old.exists() and not building.exists()
    assert "restoring the shard an interrupted index build swap left aside" in caplog.text
    store.close()

    # Died after the swap, before .old was removed.
    shutil.copytree(path, old)
    store = _store(path)
    assert store.count() == 200 and not old.exists()
    assert "removing the pre-build shard a finished index build left" in caplog.text
    store.close()


def test_ingest_reports_a_failed_build_and_keeps_the_documents(
    tmp_path: Path,
    sample_dir: Path,
    service_factory,  # type: ignore[no-untyped-def]
) -> None:
    from finrag.cli.common import console, print_report
    from tests.test_store_build import CEDAR_8K

    svc = service_factory(tmp_path / "svc", edge_index_min_points=1)
    store = _store(svc.settings.vector_dir)
    svc.c.store = store
    store.warm_up()
    (svc.settings.vector_dir / "edge_config.json").write_text("{not json")  # the child's copy will not open
    report = svc.ingest([sample_dir / CEDAR_8K], tenant="t")
    assert report.count("ingested") == 1 and report.index_build_s is None
    assert "IndexBuildError" in report.index_build_error and "edge_config.json" in report.index_build_error
    assert report.index_points == store.count() > 0 and store.info()["hnsw_segments"] == 0
    with console.capture() as out:
        print_report(report)
    printed = " ".join(out.get().split())  # the console wraps long lines
    assert f"index build over {report.index_points:,} points failed" in printed
    assert "retry with `finrag index optimize`" in printed


def test_cli_index_optimize_reports_a_failed_build(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from finrag.cli import app

    data = tmp_path / "data"
    store = QdrantEdgeStore(data / "qdrant", dim=DIM)
    _load(store, 300)
    store.close()
    # A file the copy cannot read: the build stops before it starts, the shard is left as it was.
    (data / "qdrant" / "unreadable").symlink_to(tmp_path / "missing")
    result = CliRunner().invoke(app, ["index", "optimize", "--data-dir", str(data)])
    assert result.exit_code == 1, result.output
    printed = " ".join(result.output.split())
    assert "index build failed" in printed and "copying the shard" in printed and "left as it was" in printed
    assert not (data / "qdrant.building").exists()
    (data / "qdrant" / "unreadable").unlink()
    reopened = QdrantEdgeStore(data / "qdrant", dim=DIM)
    assert reopened.count() == 300 and reopened.info()["hnsw_segments"] == 0
    reopened.close()
