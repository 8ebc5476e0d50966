"""The official `openai` client, unchanged, against a live uvicorn server: sync, streaming, errors.
Also the SSE disconnect behaviour, which needs a real socket."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from finrag.records import Answer
from finrag.serve.app import create_app
from finrag.serve.testing import live_server
from finrag.settings import ServeSettings
from tests.test_api import CEDAR_8K, NORTHWIND_10K, build_service

openai = pytest.importorskip("openai", reason="the openai package is not installed (pip install openai)")

pytestmark = pytest.mark.slow


@dataclass
class Live:
    base: str
    key: str
    app: object


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, shared_embedder, sample_dir: Path) -> Iterator[Live]:
    svc = build_service(tmp_path_factory.mktemp("api-openai"), shared_embedder)
    app = create_app(svc.settings, svc, ServeSettings(rate_limit_per_minute=100_000))
    key, _ = app.state.finrag.keys.create("acme", "openai-test", ["query", "ingest"])
    try:
        with live_server(app) as base:
            with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60) as http:
                for name in (NORTHWIND_10K, CEDAR_8K):
                    data = (sample_dir / name).read_bytes()
                    job = http.post("/v1/documents", files={"file": (name, data, "application/pdf")}).json()
                    deadline = time.monotonic() + 120
                    while job["status"] not in ("succeeded", "failed") and time.monotonic() < deadline:
                        time.sleep(0.1)
                        job = http.get(job["url"]).json()
                    assert job["status"] == "succeeded", job
            yield Live(base, key, app)
    finally:
        svc.close()


def client(live: Live, key: str | None = None):  # type: ignore[no-untyped-def]
    return openai.OpenAI(base_url=live.base + "/v1", api_key=key or live.key, max_retries=0, timeout=60)


def test_models_list(live: Live) -> None:
    ids = [m.id for m in client(live).models.list()]
    assert "finrag" in ids and "finrag-agentic" in ids


def test_chat_completion_sync(live: Live) -> None:
    resp = client(live).chat.completions.create(
        model="finrag",
        messages=[
            {"role": "system", "content": "You are a helpful analyst."},
            {"role": "user", "content": "hello"},
            {"role": "assistant", "content": "Hi."},
            {"role": "user", "content": "What was Northwind Robotics' total revenue in fiscal 2023?"},
        ],
        temperature=0,
    )
    content = resp.choices[0].message.content or ""
    assert resp.object == "chat.completion" and resp.choices[0].finish_reason == "stop"
    assert "4,295" in content and "Sources:" in content and "p." in content  # citations inline
    extra = resp.model_extra or {}
    citations = extra["citations"]
    assert citations and {"doc_id", "page", "quote", "page_image_url"} <= set(citations[0])
    assert extra["finrag"]["pipeline"] in ("easy", "agentic")
    assert resp.usage is not None and resp.usage.total_tokens >= 0


def test_chat_completion_stream(live: Live) -> None:
    stream = client(live).chat.completions.create(
        model="finrag",
        messages=[{"role": "user", "content": "What was Northwind Robotics' total revenue in fiscal 2023?"}],
        stream=True,
    )
    chunks = list(stream)
    assert len(chunks) >= 3
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(ch.choices[0].delta.content or "" for ch in chunks)
    assert "4,295" in text and "Sources:" in text
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    assert (last.model_extra or {})["citations"]


def test_chat_extra_body_filters_and_content_parts(live: Live) -> None:
    cedar = next(
        d["doc_id"]
        for d in httpx.get(live.base + "/v1/documents", headers={"Authorization": f"Bearer {live.key}"}).json()[
            "documents"
        ]
        if d["name"] == Path(CEDAR_8K).stem
    )
    resp = client(live).chat.completions.create(
        model="finrag-easy",
        messages=[
            {"role": "user", "content": [{"type": "text", "text": "What did Cedar Ridge Energy announce in its 8-K?"}]}
        ],
        extra_body={"filters": {"doc_ids": [cedar]}, "top_k": 2},
    )
    extra = resp.model_extra or {}
    assert {c["doc_id"] for c in extra["citations"]} == {cedar} and extra["finrag"]["mode"] == "easy"


def test_openai_errors_are_typed(live: Live) -> None:
    with pytest.raises(openai.AuthenticationError):
        client(live, key="frk_nope").chat.completions.create(
            model="finrag", messages=[{"role": "user", "content": "x"}]
        )
    with pytest.raises(openai.NotFoundError, match="unknown model"):
        client(live).chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "revenue"}])
    with pytest.raises(openai.BadRequestError, match="no user message"):
        client(live).chat.completions.create(model="finrag", messages=[{"role": "system", "content": "hi"}])
    with pytest.raises(openai.UnprocessableEntityError, match="limit is"):
        client(live).chat.completions.create(model="finrag", messages=[{"role": "user", "content": "x" * 5000}])


def test_client_disconnect_stops_the_stream(live: Live, monkeypatch: pytest.MonkeyPatch) -> None:
    """A client that goes away mid-stream: the server stops producing events (and counts it)."""
    state = live.app.state.finrag  # type: ignore[attr-defined]
    lines = 200_000
    long = Answer(question="q", text="\n".join(f"line {i} " + "x" * 60 for i in range(lines)))
    monkeypatch.setattr(state.service, "ask", lambda *a, **k: long)
    before = state.metrics.errors.labels(type="client_disconnected")._value.get()
    sent = 0
    with (
        httpx.Client(timeout=30) as http,
        http.stream(
            "POST",
            live.base + "/v1/query?stream=true",
            headers={"Authorization": f"Bearer {live.key}"},
            json={"question": "give me a very long answer", "mode": "vision"},
        ) as r,
    ):
        assert r.status_code == 200
        for line in r.iter_lines():
            if line.startswith("data:"):
                assert "delta" in json.loads(line[5:])
                sent += 1
                if sent == 5:
                    break  # leave: closing the response drops the connection
    deadline = time.monotonic() + 10
    while state.metrics.errors.labels(type="client_disconnected")._value.get() == before:
        assert time.monotonic() < deadline, "the server did not notice the disconnect"
        time.sleep(0.05)
    assert state.limiter.in_flight(state.keys.verify(live.key).key_id) == 0
