"""The reranker service in deployment shape: its /metrics, its batch/max-length settings, the client's
fallback to the lexical reranker when the real `finrag rerank-server` process is killed, and
bench/rerank.py against the tiny cross-encoder (tests/test_rerank.py)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from finrag.rerank_server.app import create_app
from finrag.retrieve.rerank import LexicalReranker, RemoteReranker
from tests.fakes.fixtures import ServerThread
from tests.test_rerank import CAPEX, DIVIDENDS, RISK, _hits, tiny_cross_encoder

__all__ = ["tiny_cross_encoder"]
ROOT = Path(__file__).resolve().parent.parent


def _metric(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in /metrics")


def test_metrics_count_requests_pairs_and_latency(tiny_cross_encoder: Path) -> None:
    app = create_app(str(tiny_cross_encoder), device="cpu", batch_size=2, max_length=64)
    with ServerThread(app) as srv:
        assert httpx.get(f"{srv.url}/healthz").json()["batch_size"] == 2
        before = httpx.get(f"{srv.url}/metrics")
        assert before.status_code == 200 and before.headers["content-type"].startswith("text/plain")
        assert _metric(before.text, "finrag_rerank_request_seconds_count") == 0
        for docs in ([CAPEX, DIVIDENDS, RISK], [RISK]):
            r = httpx.post(f"{srv.url}/rerank", json={"query": "capital expenditures", "documents": docs})
            assert r.status_code == 200
        text = httpx.get(f"{srv.url}/metrics").text
    assert _metric(text, "finrag_rerank_request_seconds_count") == 2
    assert _metric(text, "finrag_rerank_pairs_total") == 4
    assert _metric(text, 'finrag_rerank_request_seconds_bucket{le="+Inf"}') == 2
    assert 0 < _metric(text, "finrag_rerank_request_seconds_sum") < 30
    assert f'finrag_rerank_model_info{{device="cpu",model="{tiny_cross_encoder}"}} 1.0' in text


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server_process(tiny_cross_encoder: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """`finrag rerank-server` as its own process, its knobs from the settings' environment."""
    port = _free_port()
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "PYTHONPATH": str(ROOT),
        "FINRAG_RETRIEVAL_RERANK_BATCH_SIZE": "4",
        "FINRAG_RETRIEVAL_RERANK_MAX_LENGTH": "96",
    }
    cmd = [sys.executable, "-m", "finrag.cli", "rerank-server", "--port", str(port), "--device", "cpu"]
    proc = subprocess.Popen(
        [*cmd, "--model", str(tiny_cross_encoder)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"rerank-server did not start: {proc.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
        time.sleep(0.2)
    try:
        yield proc, url
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


@pytest.mark.slow
def test_killing_the_service_falls_back_to_the_lexical_reranker(
    server_process: tuple[subprocess.Popen[bytes], str], caplog: pytest.LogCaptureFixture
) -> None:
    proc, url = server_process
    health = httpx.get(f"{url}/healthz").json()
    assert (health["batch_size"], health["max_length"], health["device"]) == (4, 96, "cpu")  # from the settings
    reranker = RemoteReranker(url, timeout_s=5.0, cooldown_s=30.0)
    live = reranker.rerank("capital expenditures", _hits(DIVIDENDS, CAPEX), 2)  # the pairs the model learnt
    assert live[0].chunk.text == CAPEX and {h.source for h in live} == {"remote-rerank"}
    hits = _hits(RISK, DIVIDENDS, CAPEX)
    assert reranker.failures == 0

    os.kill(proc.pid, signal.SIGKILL)  # the real process, dead without a goodbye
    proc.wait(timeout=10)
    with caplog.at_level("WARNING", logger="finrag.retrieve.rerank"):
        fallen = reranker.rerank("capital expenditures", hits, 3, years=[2023])
    expected = LexicalReranker().rerank("capital expenditures", hits, 3, years=[2023])
    assert [h.chunk.id for h in fallen] == [h.chunk.id for h in expected]
    assert [h.score for h in fallen] == [h.score for h in expected]  # the lexical scores, not the old order
    assert fallen[0].chunk.text == CAPEX and "remote-rerank" not in {h.source for h in fallen}
    assert reranker.failures == 1 and "Connect" in reranker.last_error
    assert any("ranking with the LexicalReranker" in r.getMessage() for r in caplog.records)
    # within the cool-down the dead service is not dialled again, and the answers stay lexical
    again = reranker.rerank("capital expenditures", hits, 2)
    assert reranker.failures == 1 and [h.chunk.id for h in again] == [h.chunk.id for h in expected[:2]]
    reranker.close()


@pytest.mark.slow
def test_bench_rerank_reports_pairs_per_second_and_p95(tiny_cross_encoder: Path, tmp_path: Path) -> None:
    out = tmp_path / "rerank.json"
    cmd = [sys.executable, str(ROOT / "bench" / "rerank.py"), "--model", str(tiny_cross_encoder), "--device", "cpu"]
    cmd += ["--requests", "6", "--docs", "8", "--max-length", "128", "--json", str(out)]
    run = subprocess.run(cmd, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
                         timeout=600)  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    figures = json.loads(out.read_text())
    assert figures["pairs"] == 48 and figures["device"] == "cpu" and figures["via"] == "in-process"
    assert figures["pairs_per_s"] > 0 and 0 < figures["p50_ms"] <= figures["p95_ms"] <= figures["max_ms"]
