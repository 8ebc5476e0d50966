"""bench/scale.py end to end at a tiny size: every phase runs in its own process on a real index and
the table, the JSON and the plot come out with figures that agree with each other."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_scale_bench_tiny(tmp_path: Path) -> None:
    out = tmp_path / "out"
    cmd = [
        sys.executable, str(ROOT / "bench" / "scale.py"), "--sizes", "400", "--batch-pages", "200",
        "--questions", "6", "--deletes", "2", "--store-points", "3000", "--store-batch", "2000",
        "--work", str(tmp_path / "work"), "--out", str(out),
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "random vectors" in proc.stdout  # every figure made without the model says so
    result = json.loads((out / "scale.json").read_text())
    (row,) = result["sizes"]
    ingest = row["ingest"]
    assert ingest["pages"] == 400 and ingest["chunks"] == ingest["points"] > 400
    assert len(ingest["batch_pages_per_s"]) >= 2  # ingested in several processes, one index
    assert row["reingest"]["files"] == ingest["filings"]
    assert row["delete"]["deleted"] == 2
    serve = row["serve"]
    assert serve["questions"] == 6 and 0 < serve["retrieve_p50_ms"] <= serve["retrieve_p95_ms"]
    (store,) = result["store"]
    assert store["plain"]["points"] == 3000
    assert (out / "scale.png").stat().st_size > 10_000


@pytest.mark.slow
def test_scale_bench_store_built_then_served(tmp_path: Path) -> None:
    """--store-build-each: batches loaded with the default options, each ending with the index build;
    then a fresh process only searches the built store and reports its memory split."""
    out = tmp_path / "out"
    cmd = [
        sys.executable, str(ROOT / "bench" / "scale.py"), "--sizes", "", "--store-points", "9000",
        "--store-batch", "4500", "--store-build-each", "--questions", "5", "--work", str(tmp_path / "w"),
        "--out", str(out),
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (store,) = json.loads((out / "scale.json").read_text())["store"]
    assert len(store["build_each_s"]) == 2 and "plain" not in store
    serve = store["serve"]
    assert serve["points"] == 9000
    assert serve["hnsw_segments"] >= 1 and serve["int8_segments"] == serve["hnsw_segments"]
    assert 0 < serve["search_all_p50_ms"] <= serve["search_all_p95_ms"]
    end = serve["rss_end"]
    assert abs(end["RssAnon"] + end["RssFile"] - end["VmRSS"]) < 1  # the split adds up (RssShmem aside)
    assert "vector store served" in proc.stdout
