"""The reranker as a service: `finrag.rerank_server` serving the tiny cross-encoder trained in
tests/test_rerank.py (uvicorn in a thread), and `RemoteReranker` as its client, including what it
does when the service is down or answers nonsense."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from finrag.rerank_server.app import create_app, resolve_device
from finrag.retrieve.rerank import (
    CrossEncoderReranker,
    LexicalReranker,
    NoopReranker,
    RemoteReranker,
    build_reranker,
)
from tests.fakes.fixtures import ServerThread
from tests.test_rerank import CAPEX, DIVIDENDS, RISK, _hits, tiny_cross_encoder

__all__ = ["tiny_cross_encoder"]  # the module-scoped fixture, reused


@pytest.fixture(scope="module")
def rerank_server(tiny_cross_encoder: Path) -> Iterator[ServerThread]:
    app = create_app(str(tiny_cross_encoder), device="auto")
    with ServerThread(app) as srv:
        yield srv


def test_service_scores_and_orders_documents(rerank_server: ServerThread, tiny_cross_encoder: Path) -> None:
    health = httpx.get(f"{rerank_server.url}/healthz").json()
    assert health["status"] == "ok" and health["device"] == resolve_device("auto") == "cpu"  # no GPU here
    body = {"query": "capital expenditures", "documents": [DIVIDENDS, CAPEX]}  # the pairs it was trained on
    r = httpx.post(f"{rerank_server.url}/rerank", json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["model"] == str(tiny_cross_encoder) and out["elapsed_ms"] >= 0
    assert [x["index"] for x in out["results"]] == [1, 0]  # CAPEX first
    scores = [x["score"] for x in out["results"]]
    assert scores == sorted(scores, reverse=True) and all(0.0 < s < 1.0 for s in scores)
    # the same scores the in-process cross-encoder gives
    local = CrossEncoderReranker(str(tiny_cross_encoder)).rerank("capital expenditures", _hits(CAPEX), 1)
    assert out["results"][0]["score"] == pytest.approx(local[0].score, abs=1e-5)
    top1 = httpx.post(f"{rerank_server.url}/rerank", json={**body, "top_k": 1}).json()["results"]
    assert len(top1) == 1 and top1[0]["index"] == 1
    assert httpx.post(f"{rerank_server.url}/rerank", json={**body, "documents": []}).json()["results"] == []
    assert httpx.post(f"{rerank_server.url}/rerank", json={"documents": [CAPEX]}).status_code == 422
    assert httpx.post(f"{rerank_server.url}/rerank", json={**body, "top_k": 0}).status_code == 422


def test_remote_reranker_ranks_over_http(rerank_server: ServerThread) -> None:
    reranker = build_reranker("remote", "unused", url=rerank_server.url)
    assert isinstance(reranker, RemoteReranker)
    reranker.warm_up()
    out = reranker.rerank("capital expenditures", _hits(DIVIDENDS, CAPEX), 2)
    assert [h.chunk.text for h in out] == [CAPEX, DIVIDENDS]
    assert all(h.source == "remote-rerank" for h in out) and out[0].score > 0.5 > out[1].score
    # page texts (the retriever's keyword) are what gets scored, not the child chunks
    hits = _hits(RISK, RISK)
    out = reranker.rerank("dividends paid", hits, 1, page_texts={"c1": DIVIDENDS}, expansions=["x"], years=[2023])
    assert out[0].chunk.id == "c1"
    assert reranker.failures == 0 and reranker.model


def test_remote_reranker_falls_back_to_the_given_reranker_when_the_service_is_down(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [0.0]
    reranker = RemoteReranker(
        "http://127.0.0.1:9", timeout_s=1.0, cooldown_s=30.0, clock=lambda: now[0], fallback=NoopReranker()
    )
    hits = _hits(RISK, DIVIDENDS, CAPEX)
    with caplog.at_level("WARNING", logger="finrag.retrieve.rerank"):
        out = reranker.rerank("capital expenditures", hits, 2)
    assert [h.chunk.id for h in out] == ["c0", "c1"] and out[0] is hits[0]
    assert reranker.failures == 1 and "Connect" in reranker.last_error
    assert any("remote reranker unavailable" in r.message for r in caplog.records)
    # cooling down: not asked again (no second timeout on the request path)
    assert [h.chunk.id for h in reranker.rerank("q", hits, 3)] == ["c0", "c1", "c2"]
    assert reranker.failures == 1
    now[0] = 31.0  # cool-down over: tried again (and still down)
    reranker.rerank("q", hits, 3)
    assert reranker.failures == 2
    assert reranker.rerank("q", [], 3) == []


def _bogus_app(payload: Any, status: int = 200) -> FastAPI:
    app = FastAPI()

    @app.post("/rerank")
    def rerank() -> Any:
        from fastapi.responses import JSONResponse

        return JSONResponse(payload, status_code=status)

    return app


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ({"error": "model exploded"}, 500),
        ({"results": [{"index": 7, "score": 0.9}]}, 200),  # an index outside the documents sent
        ({"unexpected": True}, 200),
    ],
)
def test_remote_reranker_survives_a_broken_service(payload: Any, status: int) -> None:
    with ServerThread(_bogus_app(payload, status)) as srv:
        reranker = RemoteReranker(srv.url, timeout_s=2.0)
        hits = _hits(RISK, CAPEX)
        # the default fallback: the lexical reranker's order (CAPEX covers the question's terms)
        lexical = LexicalReranker().rerank("capital expenditures", hits, 2)
        assert [h.chunk.id for h in reranker.rerank("capital expenditures", hits, 2)] == ["c1", "c0"]
        assert [h.chunk.id for h in lexical] == ["c1", "c0"]
        assert reranker.failures == 1 and reranker.last_error
        reranker.close()


def test_build_reranker_keeps_its_two_argument_form() -> None:
    assert isinstance(build_reranker("lexical", "m"), LexicalReranker)
    assert isinstance(build_reranker("cross-encoder", "m"), CrossEncoderReranker)
    assert isinstance(build_reranker("none", "m"), NoopReranker)
    with pytest.raises(ValueError, match="RERANK_URL"):
        build_reranker("remote", "m")


def test_retrieval_through_the_remote_reranker(sample_service: Any, rerank_server: ServerThread) -> None:
    """The real retriever with the service as its reranker (pages, expansions and years passed)."""
    retriever = sample_service.retriever
    original = retriever.reranker
    retriever.reranker = RemoteReranker(rerank_server.url)
    try:
        result = sample_service.retrieve("What was Northwind Robotics' capital expenditure in 2023?")
    finally:
        retriever.reranker = original
    assert result.hits and result.timings_ms["rerank"] > 0
    assert {h.source for h in result.hits} <= {"remote-rerank", "merged"}


def test_rerank_server_command_registers_on_a_parent_app() -> None:
    import typer
    from typer.testing import CliRunner

    from finrag.cli.rerank_server import rerank_server_command

    parent = typer.Typer()
    parent.command("rerank-server")(rerank_server_command)
    parent.command("noop")(lambda: None)  # two commands: typer keeps the sub-command name
    out = CliRunner().invoke(parent, ["rerank-server", "--help"])
    assert out.exit_code == 0, out.output
    assert all(o in out.output for o in ("--host", "--port", "--model", "--device", "--batch-size"))
