"""Stored answers (GET /v1/answers/{id}), feedback on them (POST /v1/feedback) with its metrics, and the
debug trace of /v1/query. Real app, real index (the Cedar Ridge 8-K per tenant), offline answers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from finrag.serve.app import create_app
from finrag.settings import ServeSettings
from tests.test_api import CEDAR_8K, bearer, build_service, ingest, metric, sse_events

pytestmark = pytest.mark.slow

QUESTION = "What did Cedar Ridge Energy announce in its 8-K?"


@dataclass
class World:
    client: TestClient
    acme: str
    acme_reader: str
    globex: str


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, shared_embedder, sample_dir: Path) -> Iterator[World]:
    svc = build_service(tmp_path_factory.mktemp("feedback-world"), shared_embedder)
    app = create_app(svc.settings, svc, ServeSettings(rate_limit_per_minute=100_000, max_concurrent_per_key=64))
    keys = app.state.finrag.keys
    acme, _ = keys.create("acme", "app")
    reader, _ = keys.create("acme", "reader", ["query"])
    globex, _ = keys.create("globex", "app")
    with TestClient(app) as client:
        ingest(client, acme, sample_dir / CEDAR_8K)
        ingest(client, globex, sample_dir / CEDAR_8K)
        yield World(client, acme, reader, globex)
    svc.close()


def ask(w: World, key: str, question: str = QUESTION, url: str = "/v1/query", **body: object) -> dict:
    r = w.client.post(url, headers=bearer(key), json={"question": question, **body})
    assert r.status_code == 200, r.text
    return r.json()


# --- stored answers ---------------------------------------------------------------------------


def test_every_answer_is_stored_under_its_id(world: World) -> None:
    c = world.client
    body = ask(world, world.acme, "Cedar Ridge Energy credit agreement amendment 8-K")
    answer_id = body["answer_id"]
    assert answer_id.startswith("ans_")
    stored = c.get(f"/v1/answers/{answer_id}", headers=bearer(world.acme))
    assert stored.status_code == 200, stored.text
    s = stored.json()
    assert s["answer_id"] == answer_id and s["question"] == body["question"] and s["mode"] == "auto"
    assert s["request_id"] == body["request_id"] and s["pipeline"] == body["pipeline"]
    assert s["cached"] is False and s["cost_usd"] == 0.0 and s["charged_usd"] == 0.0 and s["feedback"] is None
    a = s["answer"]
    assert a["answer"] == body["answer"] and a["citations"] == body["citations"] and a["answer_id"] == answer_id
    assert a["trace"] == body["trace"]  # trimmed, as the response was
    full = c.get(f"/v1/answers/{answer_id}?debug=true", headers=bearer(world.acme)).json()["answer"]["trace"]
    assert full["hits"] and full["queries"] and full["scope"]["applied"]
    if "candidates_top" in full:  # the retriever's pages before and after the reranker, when it records them
        assert full["candidates_top"][0]["score"] and full["reranked_top"][0]["page"] >= 1
    # a query-only key reads answers too; an ingest-only one does not exist in this world
    assert c.get(f"/v1/answers/{answer_id}", headers=bearer(world.acme_reader)).status_code == 200


def test_other_tenants_and_unknown_ids_are_404(world: World) -> None:
    c = world.client
    answer_id = ask(world, world.acme)["answer_id"]
    for key, path in (
        (world.globex, f"/v1/answers/{answer_id}"),  # another tenant's answer reads as unknown
        (world.acme, "/v1/answers/ans_000000000000000000000000"),
        (world.acme, "/v1/answers/" + "x" * 500),
    ):
        r = c.get(path, headers=bearer(key))
        assert r.status_code == 404 and r.json()["error"]["type"] == "not_found", (path, r.text)
    assert c.get(f"/v1/answers/{answer_id}").status_code == 401


def test_cached_answers_get_their_own_id_and_cost_nothing(world: World) -> None:
    q = "Cedar Ridge Energy revolving credit commitments"
    first, second = ask(world, world.acme, q), ask(world, world.acme, q)
    assert first["cached"] is False and second["cached"] is True
    assert first["answer_id"] != second["answer_id"]
    stored = world.client.get(f"/v1/answers/{second['answer_id']}", headers=bearer(world.acme)).json()
    assert stored["cached"] is True and stored["charged_usd"] == 0.0 and stored["answer"]["answer"] == first["answer"]


# --- debug trace ------------------------------------------------------------------------------


def test_debug_returns_the_full_trace_and_default_trims_it(world: World) -> None:
    q = "What was Cedar Ridge Energy's revolving credit facility amended to?"
    trimmed = ask(world, world.acme, q)["trace"]
    assert {"route", "pipelines_run", "escalation", "answered_by"} <= set(trimmed)
    assert not {"hits", "queries", "llm_calls", "timings_ms"} & set(trimmed)
    by_body = ask(world, world.acme, q, debug=True)["trace"]
    by_query = ask(world, world.acme, q + "?", url="/v1/query?debug=true")["trace"]
    for full in (by_body, by_query):
        assert full["scope"]["doc_ids"] and full["queries"] and full["route"]["route"] in ("easy", "agentic")
        hit = full["hits"][0]
        assert {"doc_id", "doc_name", "page", "score", "source", "chunk_id"} <= set(hit)
        assert all(h["doc_name"].startswith("CEDARRIDGEENERGY_2023_8K") for h in full["hits"])
        assert full["pipelines_run"] and full["escalation"][0]["step"] in ("easy", "agentic")
        assert {"retrieve", "answer", "total", "search"} <= set(full["timings_ms"])
        assert "llm_calls" in full and "answer_ms" in full


def test_stream_carries_the_answer_id_and_debug_trace(world: World) -> None:
    with world.client.stream(
        "POST", "/v1/query", headers=bearer(world.acme), json={"question": QUESTION, "stream": True, "debug": True}
    ) as r:
        assert r.status_code == 200
        events = sse_events(r.read().decode())
    final = json.loads(events[-2][1])
    assert final["answer_id"].startswith("ans_") and final["trace"]["hits"]
    got = world.client.get(f"/v1/answers/{final['answer_id']}", headers=bearer(world.acme)).json()
    assert got["answer"]["answer"] == final["answer"]


# --- feedback ---------------------------------------------------------------------------------


def test_feedback_is_stored_counted_and_scoped(world: World) -> None:
    c = world.client
    one = ask(world, world.acme, "Cedar Ridge Energy 8-K maturity date")["answer_id"]
    two = ask(world, world.acme, "Cedar Ridge Energy 8-K aggregate commitments")["answer_id"]
    up_before = metric(c, "finrag_feedback_total", rating="up")
    down_before = metric(c, "finrag_feedback_total", rating="down")

    r = c.post("/v1/feedback", headers=bearer(world.acme), json={"answer_id": one, "rating": "up", "comment": " ok "})
    assert r.status_code == 201, r.text
    fb = r.json()
    assert fb["answer_id"] == one and fb["rating"] == "up" and fb["comment"] == "ok" and fb["replaced"] is False
    assert metric(c, "finrag_feedback_total", rating="up") == up_before + 1
    got = c.get(f"/v1/answers/{one}", headers=bearer(world.acme)).json()
    assert got["feedback"]["rating"] == "up" and got["feedback"]["comment"] == "ok"

    r = c.post("/v1/feedback", headers=bearer(world.acme_reader), json={"answer_id": two, "rating": "down"})
    assert r.status_code == 201 and metric(c, "finrag_feedback_total", rating="down") == down_before + 1
    ratio = metric(c, "finrag_feedback_satisfaction_ratio", tenant="acme")
    # a later rating replaces the earlier one: the ratio follows the stored ratings
    again = c.post("/v1/feedback", headers=bearer(world.acme), json={"answer_id": one, "rating": "down"}).json()
    assert again["replaced"] is True and again["created_at"] == fb["created_at"]
    ratings = c.app.state.finrag.answers.ratings("acme")["acme"]  # type: ignore[attr-defined]
    assert metric(c, "finrag_feedback_satisfaction_ratio", tenant="acme") == pytest.approx(
        ratings["up"] / (ratings["up"] + ratings["down"])
    )
    assert metric(c, "finrag_feedback_satisfaction_ratio", tenant="acme") < ratio

    for key, payload in (
        (world.globex, {"answer_id": one, "rating": "up"}),  # another tenant's answer
        (world.acme, {"answer_id": "ans_nope", "rating": "up"}),
    ):
        r = c.post("/v1/feedback", headers=bearer(key), json=payload)
        assert r.status_code == 404 and r.json()["error"]["type"] == "not_found"
    bad_bodies = (
        {"answer_id": one, "rating": "meh"},
        {"answer_id": one},
        {"rating": "up"},
        {"answer_id": one, "rating": "up", "x": 1},
    )
    for bad in bad_bodies:
        r = c.post("/v1/feedback", headers=bearer(world.acme), json=bad)
        assert r.status_code == 422 and r.json()["error"]["type"] == "validation_error", bad
    assert c.post("/v1/feedback", json={"answer_id": one, "rating": "up"}).status_code == 401


def test_chat_completion_answers_can_be_rated(world: World) -> None:
    c = world.client
    r = c.post(
        "/v1/chat/completions",
        headers=bearer(world.acme),
        json={"model": "finrag", "messages": [{"role": "user", "content": QUESTION}], "debug": True},
    )
    assert r.status_code == 200, r.text
    extras = r.json()["finrag"]
    answer_id = extras["answer_id"]
    assert answer_id.startswith("ans_") and extras["trace"]["hits"]
    assert c.get(f"/v1/answers/{answer_id}", headers=bearer(world.acme)).status_code == 200
    fb = c.post("/v1/feedback", headers=bearer(world.acme), json={"answer_id": answer_id, "rating": "up"})
    assert fb.status_code == 201


def test_satisfaction_and_spend_gauges_survive_a_restart(tmp_path: Path, shared_embedder) -> None:
    svc = build_service(tmp_path / "data", shared_embedder)
    try:
        app = create_app(svc.settings, svc)
        key, _ = app.state.finrag.keys.create("acme", "t")
        with TestClient(app) as c:
            answer_id = c.post("/v1/query", headers=bearer(key), json={"question": "revenue?"}).json()["answer_id"]
            rated = c.post("/v1/feedback", headers=bearer(key), json={"answer_id": answer_id, "rating": "up"})
            assert rated.status_code == 201
            assert metric(c, "finrag_feedback_satisfaction_ratio", tenant="acme") == 1.0
        restarted = create_app(svc.settings, svc)  # the same database, a new process's metrics
        with TestClient(restarted) as c:
            assert metric(c, "finrag_feedback_satisfaction_ratio", tenant="acme") == 1.0
            assert 'finrag_tenant_spend_usd{tenant="acme"}' in c.get("/metrics").text
            assert c.get(f"/v1/answers/{answer_id}", headers=bearer(key)).status_code == 200
    finally:
        svc.close()
