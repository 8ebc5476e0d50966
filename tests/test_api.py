"""The HTTP gateway: auth and scopes on every route, tenants, rate limits, cache, uploads, SSE, metrics."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from finrag.serve.app import create_app
from finrag.service import QAService, build_components
from finrag.settings import SecuritySettings, ServeSettings
from tests.conftest import make_settings

pytestmark = pytest.mark.slow

NORTHWIND_10K = "NORTHWINDROBOTICS_2023_10K.pdf"
CEDAR_8K = "CEDARRIDGEENERGY_2023_8K_dated-2023-11-14.pdf"
REVENUE_Q = "What was Northwind Robotics' revenue in fiscal 2023?"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def build_service(data_dir: Path, embedder) -> QAService:  # type: ignore[no-untyped-def]
    # "acme" is named for the per-tenant gauges (others are left out of /metrics)
    settings = make_settings(data_dir, security=SecuritySettings(metrics_tenants=["acme"]))
    components = build_components(settings)
    components.embedder = embedder  # the session's warmed-up model: no reload per app
    return QAService(settings, components)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def upload(client: TestClient, key: str, path: Path, name: str | None = None, data: bytes | None = None):  # type: ignore[no-untyped-def]
    content = data if data is not None else path.read_bytes()
    return client.post(
        "/v1/documents", headers=bearer(key), files={"file": (name or path.name, content, "application/pdf")}
    )


def wait_job(client: TestClient, key: str, job_id: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/v1/jobs/{job_id}", headers=bearer(key)).json()
        if job["status"] in ("succeeded", "failed"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish")


def ingest(client: TestClient, key: str, path: Path) -> dict:
    r = upload(client, key, path)
    assert r.status_code == 202, r.text
    job = wait_job(client, key, r.json()["job_id"])
    assert job["status"] == "succeeded", job
    return job


def metric(client: TestClient, name: str, **labels: str) -> float:
    """The value of one sample in /metrics (0 when absent)."""
    for line in client.get("/metrics").text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def sse_events(text: str) -> list[tuple[str, str]]:
    events = []
    for block in text.split("\n\n"):
        event, data = "message", []
        for line in block.splitlines():
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].lstrip())
        if data:
            events.append((event, "\n".join(data)))
    return events


@dataclass
class World:
    client: TestClient
    acme: str  # query + ingest
    acme_admin: str
    acme_reader: str  # query only
    acme_ingester: str  # ingest only
    globex: str
    acme_docs: dict[str, str]  # file name -> doc id
    globex_doc: str
    acme_job: str


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, shared_embedder, sample_dir: Path) -> Iterator[World]:
    """One app, two tenants: acme has the Northwind 10-K and the Cedar 8-K, globex the same 10-K."""
    svc = build_service(tmp_path_factory.mktemp("api-world"), shared_embedder)
    app = create_app(svc.settings, svc, ServeSettings(rate_limit_per_minute=100_000, max_concurrent_per_key=64))
    keys = app.state.finrag.keys
    acme, _ = keys.create("acme", "app")
    acme_admin, _ = keys.create("acme", "ops", ["query", "ingest", "admin"])
    acme_reader, _ = keys.create("acme", "reader", ["query"])
    acme_ingester, _ = keys.create("acme", "loader", ["ingest"])
    globex, _ = keys.create("globex", "app")
    with TestClient(app) as client:
        acme_docs = {}
        jobs = []
        for name in (NORTHWIND_10K, CEDAR_8K):
            job = ingest(client, acme, sample_dir / name)
            acme_docs[name] = job["doc_id"]
            jobs.append(job["job_id"])
        globex_doc = ingest(client, globex, sample_dir / NORTHWIND_10K)["doc_id"]
        yield World(client, acme, acme_admin, acme_reader, acme_ingester, globex, acme_docs, globex_doc, jobs[0])
    svc.close()


@pytest.fixture()
def fresh(tmp_path: Path, shared_embedder) -> Iterator:  # type: ignore[type-arg]
    """Factory of single-use apps (for tests that change documents or need special settings)."""
    made = []

    def make(**serve: object) -> tuple[TestClient, str]:
        svc = build_service(tmp_path / f"data{len(made)}", shared_embedder)
        app = create_app(svc.settings, svc, ServeSettings(**serve))  # type: ignore[arg-type]
        key, _ = app.state.finrag.keys.create("acme", "test", ["query", "ingest", "admin"])
        client = TestClient(app)
        client.__enter__()
        made.append((client, svc))
        return client, key

    yield make
    for client, svc in made:
        client.__exit__(None, None, None)
        svc.close()


# --- probes ------------------------------------------------------------------------------------


def test_health_ready_and_metrics_need_no_key(world: World) -> None:
    c = world.client
    assert c.get("/healthz").json() == {"status": "ok"}
    ready = c.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "ok" and body["reasons"] == []
    assert {"registry", "store", "cache", "rate_limits", "ingest_worker"} <= set(body["checks"])
    assert body["checks"]["cache"]["backend"] == "disk" and body["checks"]["rate_limits"]["backend"] == "memory"
    assert c.get("/metrics").headers["content-type"].startswith("text/plain")
    assert c.get("/").status_code == 200 and "finrag" in c.get("/").text


# --- auth --------------------------------------------------------------------------------------


def v1_operations(client: TestClient) -> list[tuple[str, str]]:
    spec = client.get("/openapi.json").json()
    ops = []
    for path, methods in spec["paths"].items():
        if not path.startswith("/v1"):
            continue
        concrete = path.replace("{doc_id}", "abc").replace("{n}", "1").replace("{job_id}", "job_x")
        concrete = concrete.replace("{key_id}", "key_x")
        ops += [(method.upper(), concrete) for method in methods]
    return ops


def test_every_v1_route_rejects_missing_wrong_and_revoked_keys(world: World) -> None:
    c = world.client
    ops = v1_operations(c)
    assert len(ops) >= 12, ops
    revoked, info = c.app.state.finrag.keys.create("acme", "gone")  # type: ignore[attr-defined]
    assert c.app.state.finrag.keys.revoke(info.key_id)  # type: ignore[attr-defined]
    for method, path in ops:
        for headers in ({}, bearer("frk_wrong"), {"X-API-Key": "nope"}, bearer(revoked)):
            r = c.request(method, path, headers=headers)
            assert r.status_code == 401, (method, path, headers, r.status_code, r.text)
            assert r.json()["error"]["type"] == "unauthorized"
            assert r.headers["WWW-Authenticate"] == "Bearer"


def test_bearer_and_x_api_key_both_accepted(world: World) -> None:
    c = world.client
    assert c.get("/v1/documents", headers=bearer(world.acme)).status_code == 200
    assert c.get("/v1/documents", headers={"X-API-Key": world.acme}).status_code == 200


def test_missing_scope_is_403(world: World) -> None:
    c = world.client
    some_doc = world.acme_docs[CEDAR_8K]
    reader, ingester = bearer(world.acme_reader), bearer(world.acme_ingester)
    assert c.post("/v1/query", headers=ingester, json={"question": "revenue"}).status_code == 403
    assert c.get("/v1/models", headers=ingester).status_code == 403
    r = c.post("/v1/documents", headers=reader, files={"file": ("a.pdf", b"%PDF-1.4", "application/pdf")})
    assert r.status_code == 403 and r.json()["error"]["type"] == "forbidden"
    assert c.delete(f"/v1/documents/{some_doc}", headers=reader).status_code == 403
    assert c.get("/v1/keys", headers=bearer(world.acme)).status_code == 403
    # reading documents and jobs works with either scope
    assert c.get("/v1/documents", headers=reader).status_code == 200
    assert c.get("/v1/documents", headers=ingester).status_code == 200
    assert c.get(f"/v1/jobs/{world.acme_job}", headers=reader).status_code == 200


def test_admin_manages_keys_of_its_own_tenant_only(world: World) -> None:
    c = world.client
    admin = bearer(world.acme_admin)
    created = c.post("/v1/keys", headers=admin, json={"name": "ci", "scopes": ["query"]})
    assert created.status_code == 201, created.text
    new = created.json()
    assert new["key"].startswith("frk_") and new["tenant"] == "acme" and new["scopes"] == ["query"]
    assert c.get("/v1/documents", headers=bearer(new["key"])).status_code == 200
    listed = c.get("/v1/keys", headers=admin).json()["keys"]
    assert new["key_id"] in {k["key_id"] for k in listed}
    assert all("key" not in k for k in listed) and all(k["tenant"] == "acme" for k in listed)
    # the secret is stored only as a hash
    from sqlalchemy import text

    with c.app.state.finrag.engine.connect() as conn:  # type: ignore[attr-defined]
        dump = json.dumps([list(r) for r in conn.execute(text("select * from serve_api_keys")).all()])
    assert new["key"] not in dump
    # another tenant's key id is invisible
    _, globex_info = c.app.state.finrag.keys.create("globex", "other")  # type: ignore[attr-defined]
    assert c.delete(f"/v1/keys/{globex_info.key_id}", headers=admin).status_code == 404
    # revocation takes effect at once
    assert c.delete(f"/v1/keys/{new['key_id']}", headers=admin).json() == {"deleted": True, "id": new["key_id"]}
    assert c.get("/v1/documents", headers=bearer(new["key"])).status_code == 401
    assert c.post("/v1/keys", headers=admin, json={"name": "x", "scopes": ["root"]}).status_code == 422


# --- tenants -----------------------------------------------------------------------------------


def test_tenants_never_see_each_others_documents_jobs_pages_or_cache(world: World) -> None:
    c = world.client
    acme, globex = bearer(world.acme), bearer(world.globex)
    acme_names = {d["name"] for d in c.get("/v1/documents", headers=acme).json()["documents"]}
    globex_docs = c.get("/v1/documents", headers=globex).json()["documents"]
    assert acme_names == {Path(NORTHWIND_10K).stem, Path(CEDAR_8K).stem}
    assert [d["name"] for d in globex_docs] == [Path(NORTHWIND_10K).stem]

    cedar = world.acme_docs[CEDAR_8K]
    for path in (f"/v1/documents/{cedar}", f"/v1/documents/{cedar}/pages/1.png", f"/v1/jobs/{world.acme_job}"):
        assert c.get(path, headers=acme).status_code == 200, path
        r = c.get(path, headers=globex)
        assert r.status_code == 404 and r.json()["error"]["type"] == "not_found", path  # 404, never 403
    assert c.delete(f"/v1/documents/{cedar}", headers=globex).status_code == 404
    assert c.get(f"/v1/documents/{cedar}", headers=acme).status_code == 200

    # Asking for acme's document by id from globex finds only globex's own filings.
    q = {"question": "What did Cedar Ridge Energy announce in its 8-K?", "filters": {"doc_ids": [cedar]}}
    assert {x["doc_id"] for x in c.post("/v1/query", headers=acme, json=q).json()["citations"]} == {cedar}
    assert {x["doc_id"] for x in c.post("/v1/query", headers=globex, json=q).json()["citations"]} <= {world.globex_doc}

    # Cache entries are per tenant: acme's hit is a miss for globex.
    question = {"question": "Northwind Robotics research and development expense 2023"}
    assert c.post("/v1/query", headers=acme, json=question).json()["cached"] is False
    assert c.post("/v1/query", headers=acme, json=question).json()["cached"] is True
    assert c.post("/v1/query", headers=globex, json=question).json()["cached"] is False

    # Page images are cached per tenant even for the same document id.
    same = world.globex_doc
    assert same == world.acme_docs[NORTHWIND_10K]  # same bytes, same id, different tenants
    for key, tenant in ((acme, "acme"), (globex, "globex")):
        r = c.get(f"/v1/documents/{same}/pages/2.png", headers=key)
        assert r.status_code == 200 and r.content.startswith(PNG_MAGIC)
        renderer = c.app.state.finrag.pages  # type: ignore[attr-defined]
        assert renderer.path_for(tenant, same, 2).exists()


# --- queries -----------------------------------------------------------------------------------


def test_query_returns_cited_answer_with_links_timings_and_request_id(world: World) -> None:
    c = world.client
    r = c.post(
        "/v1/query",
        headers={**bearer(world.acme), "X-Request-ID": "req-123"},
        json={"question": REVENUE_Q, "mode": "agentic", "top_k": 3},
    )
    assert r.status_code == 200, r.text
    assert r.headers["X-Request-ID"] == "req-123"
    body = r.json()
    assert body["request_id"] == "req-123" and body["mode"] == "agentic" and body["pipeline"] == "agentic"
    assert body["answer"] and body["citations"] and len(body["citations"]) <= 3
    assert body["timings_ms"]["total"] > 0 and body["cached"] is False
    assert body["scope"]["applied"] and body["scope"]["companies"]
    assert "usage" in body and "cost_usd" in body
    # the trust score with its reasons in words (the checks that failed first, then those passed)
    assert body["faithfulness"] >= 0.7
    assert {"every figure found on the cited pages", "period matches the question"} <= set(body["trust_reasons"])
    cit = body["citations"][0]
    assert {"doc_id", "doc_name", "page", "chunk_id", "quote", "score", "page_image_url"} <= set(cit)
    assert cit["page_image_url"] == f"/v1/documents/{cit['doc_id']}/pages/{cit['page']}.png"
    img = c.get(cit["page_image_url"], headers=bearer(world.acme))
    assert img.status_code == 200 and img.headers["content-type"] == "image/png" and img.content.startswith(PNG_MAGIC)
    # a generated request id when none is given
    assert len(c.get("/healthz").headers["X-Request-ID"]) >= 16


def test_explicit_filters_become_the_scope(world: World) -> None:
    c = world.client
    cedar = world.acme_docs[CEDAR_8K]
    body = c.post(
        "/v1/query",
        headers=bearer(world.acme),
        json={"question": "revenue", "filters": {"doc_ids": [cedar], "doc_type": "8-k", "fiscal_year": 2023}},
    ).json()
    assert body["scope"]["doc_ids"] == [cedar] and body["scope"]["doc_types"] == ["8-K"]
    assert body["citations"] and {x["doc_id"] for x in body["citations"]} == {cedar}


@pytest.mark.parametrize(
    "payload, type_",
    [
        ({"question": "x" * 5000}, "invalid_question"),
        ({"question": "   "}, "validation_error"),  # the schema asks for a non-blank question
        ({}, "validation_error"),
        ({"question": 12}, "validation_error"),
        ({"question": "revenue", "mode": "psychic"}, "validation_error"),
        ({"question": "revenue", "top_k": 0}, "validation_error"),
        ({"question": "revenue", "top_k": 99}, "validation_error"),
        ({"question": "revenue", "filters": {"fiscal_year": 1066}}, "validation_error"),
        ({"question": "revenue", "filters": {"doc_type": "13F"}}, "validation_error"),
        ({"question": "revenue", "filters": {"doc_ids": ["../../etc"]}}, "validation_error"),
        ({"question": "revenue", "filters": {"sector": "energy"}}, "validation_error"),
        ({"question": "revenue", "colour": "blue"}, "validation_error"),
    ],
)
def test_bad_input_is_a_422_json_error_never_a_500(world: World, payload: dict, type_: str) -> None:
    for stream in (False, True):
        r = world.client.post(f"/v1/query?stream={str(stream).lower()}", headers=bearer(world.acme), json=payload)
        assert r.status_code == 422, (payload, r.text)
        assert r.json()["error"]["type"] == type_ and r.json()["error"]["message"]


def test_malformed_json_is_a_422(world: World) -> None:
    r = world.client.post(
        "/v1/query", headers={**bearer(world.acme), "Content-Type": "application/json"}, content=b"{not json"
    )
    assert r.status_code == 422 and r.json()["error"]["type"] == "validation_error"


def test_sse_stream_sends_lines_then_citations_then_done(world: World) -> None:
    c = world.client
    for url, body in (
        ("/v1/query", {"question": REVENUE_Q, "stream": True}),
        ("/v1/query?stream=true", {"question": REVENUE_Q + " please"}),
    ):
        with c.stream("POST", url, headers=bearer(world.acme), json=body) as r:
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("text/event-stream")
            events = sse_events(r.read().decode())
        assert events[-1] == ("message", "[DONE]")
        assert events[-2][0] == "citations"
        deltas = [json.loads(d)["delta"] for e, d in events[:-2]]
        assert len(deltas) >= 1
        final = json.loads(events[-2][1])
        assert "".join(deltas) == final["answer"]
        assert final["citations"] and final["citations"][0]["page_image_url"].endswith(".png")
    # the concurrency slot is given back once the stream has been sent
    limiter = c.app.state.finrag.limiter  # type: ignore[attr-defined]
    assert all(limiter.in_flight(k.key_id) == 0 for k in c.app.state.finrag.keys.list("acme"))  # type: ignore[attr-defined]


# --- documents and jobs ------------------------------------------------------------------------


def test_document_listing_and_404s(world: World) -> None:
    c = world.client
    key = bearer(world.acme)
    cedar = world.acme_docs[CEDAR_8K]
    doc = c.get(f"/v1/documents/{cedar}", headers=key).json()
    assert doc["status"] == "ready" and doc["pages"] >= 1 and doc["filing"]["doc_type"] == "8-K"
    assert c.get("/v1/documents/nope", headers=key).status_code == 404
    assert c.get(f"/v1/documents/{cedar}/pages/0.png", headers=key).status_code == 422
    assert c.get(f"/v1/documents/{cedar}/pages/{doc['pages'] + 1}.png", headers=key).status_code == 404
    assert c.get("/v1/jobs/job_nope", headers=key).status_code == 404
    jobs = c.get("/v1/jobs", headers=key).json()["jobs"]
    assert {j["job_id"] for j in jobs} >= {world.acme_job} and all(j["status"] == "succeeded" for j in jobs)


def test_upload_validation_magic_bytes_size_and_corrupt_pdf(fresh, sample_dir: Path) -> None:  # type: ignore[no-untyped-def]
    c, key = fresh(max_upload_mb=0.01)  # ~10 KB: the 8-K fits, a 10-K does not
    not_pdf = c.post(
        "/v1/documents", headers=bearer(key), files={"file": ("report.pdf", b"PK\x03\x04zip", "application/pdf")}
    )
    assert not_pdf.status_code == 415 and not_pdf.json()["error"]["type"] == "unsupported_media_type"
    big = upload(c, key, sample_dir / NORTHWIND_10K)
    assert big.status_code == 413 and big.json()["error"]["type"] == "payload_too_large"
    assert "X-Request-ID" in big.headers
    assert c.post("/v1/documents", headers=bearer(key)).status_code == 422  # no file part

    corrupt = upload(c, key, sample_dir / CEDAR_8K, name="broken.pdf", data=b"%PDF-1.7\n" + b"\x00garbage" * 200)
    assert corrupt.status_code == 202
    job = wait_job(c, key, corrupt.json()["job_id"])
    assert job["status"] == "failed" and "corrupt" in job["reason"], job
    ok = upload(c, key, sample_dir / CEDAR_8K, name="../../evil name.pdf")
    job = wait_job(c, key, ok.json()["job_id"])
    assert job["status"] == "succeeded" and job["filename"] == "evil_name.pdf"
    assert metric(c, "finrag_ingest_documents_total", status="failed") == 1
    assert metric(c, "finrag_ingest_documents_total", status="ingested") == 1
    # the same file again is not ingested twice
    again = wait_job(c, key, upload(c, key, sample_dir / CEDAR_8K, name="evil name.pdf").json()["job_id"])
    assert again["status"] == "succeeded" and again["reason"].startswith("unchanged")


def test_cache_hits_then_misses_after_ingest_and_delete(fresh, sample_dir: Path) -> None:  # type: ignore[no-untyped-def]
    c, key = fresh()
    ingest(c, key, sample_dir / CEDAR_8K)
    q = {"question": REVENUE_Q, "top_k": 3}

    def ask() -> dict:
        r = c.post("/v1/query", headers=bearer(key), json=q)
        assert r.status_code == 200, r.text
        return r.json()

    first = ask()
    assert first["cached"] is False
    second = ask()
    assert second["cached"] is True and second["answer"] == first["answer"]
    assert c.post(
        "/v1/query",
        headers=bearer(key),
        json={**q, "question": "  what WAS northwind robotics' revenue in fiscal 2023 "},
    ).json()["cached"]
    assert c.post("/v1/query", headers=bearer(key), json={**q, "mode": "easy"}).json()["cached"] is False
    assert c.post("/v1/query", headers=bearer(key), json={**q, "top_k": 2}).json()["cached"] is False
    assert metric(c, "finrag_cache_requests_total", result="hit") == 2

    # no_cache: computed afresh (not served from the cache) and the cache refreshed with the new answer
    fresh_answer = c.post("/v1/query", headers=bearer(key), json={**q, "no_cache": True}).json()
    assert fresh_answer["cached"] is False and fresh_answer["answer"] == first["answer"]
    assert metric(c, "finrag_cache_requests_total", result="bypass") == 1
    assert metric(c, "finrag_cache_requests_total", result="hit") == 2
    stored = c.get(f"/v1/answers/{fresh_answer['answer_id']}", headers=bearer(key)).json()["answer"]
    again = ask()
    assert again["cached"] is True and again["timings_ms"] == stored["timings_ms"]  # the refreshed copy

    job = ingest(c, key, sample_dir / NORTHWIND_10K)  # new documents: the old answer must not be served
    after_ingest = ask()
    assert after_ingest["cached"] is False
    assert any(x["doc_id"] == job["doc_id"] for x in after_ingest["citations"])
    assert ask()["cached"] is True

    r = c.delete(f"/v1/documents/{job['doc_id']}", headers=bearer(key))
    assert r.status_code == 200 and r.json()["deleted"] is True
    after_delete = ask()
    assert after_delete["cached"] is False
    assert all(x["doc_id"] != job["doc_id"] for x in after_delete["citations"])
    assert c.get(f"/v1/documents/{job['doc_id']}", headers=bearer(key)).status_code == 404
    # the deleted upload's own file went with it; the other document's stayed
    assert len(list((c.app.state.finrag.uploads_dir / "acme").glob("*.pdf"))) == 1  # type: ignore[attr-defined]


# --- limits ------------------------------------------------------------------------------------


def test_rate_limit_is_per_key_with_retry_after(fresh) -> None:  # type: ignore[no-untyped-def]
    c, key = fresh(rate_limit_per_minute=3)
    other, _ = c.app.state.finrag.keys.create("acme", "other")
    codes = [c.get("/v1/documents", headers=bearer(key)).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    r = c.get("/v1/documents", headers=bearer(key))
    assert r.status_code == 429 and r.json()["error"]["type"] == "rate_limited"
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    assert c.get("/v1/documents", headers=bearer(other)).status_code == 200  # another key has its own window
    assert c.get("/healthz").status_code == 200  # probes are never limited


def test_concurrent_requests_cap(fresh) -> None:  # type: ignore[no-untyped-def]
    c, key = fresh(max_concurrent_per_key=2)
    state = c.app.state.finrag
    key_id = state.keys.verify(key).key_id
    assert state.limiter.acquire(key_id) and state.limiter.acquire(key_id)  # two requests in flight
    r = c.get("/v1/documents", headers=bearer(key))
    assert r.status_code == 429 and r.json()["error"]["type"] == "too_many_concurrent_requests"
    assert r.headers["Retry-After"] == "1"
    state.limiter.release(key_id)
    assert c.get("/v1/documents", headers=bearer(key)).status_code == 200
    assert state.limiter.in_flight(key_id) == 1  # the finished request gave its slot back


def test_redis_down_falls_back_and_readyz_says_degraded(fresh, sample_dir: Path) -> None:  # type: ignore[no-untyped-def]
    c, key = fresh(redis_url="redis://127.0.0.1:9/0")  # nothing listens on the discard port
    ready = c.get("/readyz").json()
    assert ready["status"] == "degraded", ready
    assert ready["checks"]["rate_limits"]["backend"] == "memory" and not ready["checks"]["cache"]["ok"]
    assert any("rate limits" in r for r in ready["reasons"]) and any("cache" in r for r in ready["reasons"])
    assert c.get("/readyz").status_code == 200  # degraded still serves
    r = c.post("/v1/query", headers=bearer(key), json={"question": "revenue"})
    assert r.status_code == 200 and r.json()["cached"] is False


# --- observability -----------------------------------------------------------------------------


def test_metrics_cover_requests_latency_cache_pipeline_and_ingest(world: World) -> None:
    c = world.client
    asked = c.post("/v1/query", headers=bearer(world.acme), json={"question": "Northwind capital expenditures 2023"})
    pipeline = asked.json()["pipeline"]
    c.get("/v1/documents", headers=bearer("frk_unknown"))
    c.get(f"/v1/documents/{world.acme_docs[CEDAR_8K]}", headers=bearer(world.acme))
    text = c.get("/metrics").text
    for name in (
        "finrag_requests_total",
        "finrag_request_latency_seconds_bucket",
        "finrag_errors_total",
        "finrag_cache_requests_total",
        "finrag_pipeline_total",
        "finrag_faithfulness_bucket",
        "finrag_ingest_documents_total",
        "finrag_ingest_pages_total",
        "finrag_ingest_duration_seconds_bucket",
    ):
        assert name in text, name
    assert metric(c, "finrag_requests_total", route="/v1/query", method="POST", status="200") >= 1
    assert metric(c, "finrag_request_latency_seconds_count", route="/v1/query", pipeline=pipeline) >= 1
    assert metric(c, "finrag_pipeline_total", pipeline=pipeline) >= 1
    assert metric(c, "finrag_ingest_pages_total") > 10
    assert metric(c, "finrag_errors_total", type="unauthorized") >= 1
    assert 'route="/v1/documents/{doc_id}"' in text  # templates, not raw ids, as labels
    # the latency breakdown: every stage of the computed answer observed once, with its measured time
    timings = asked.json()["timings_ms"]
    for stage in ("scope", "retrieve", "generate", "judge"):
        assert metric(c, "finrag_stage_latency_seconds_count", stage=stage) >= 1, stage
        assert timings[stage] >= 0
    assert timings["retrieve"] >= timings["scope"]
    assert metric(c, "finrag_stage_latency_seconds_sum", stage="retrieve") >= timings["retrieve"] / 1000 * 0.99


def test_openapi_documents_routes_with_response_models(world: World) -> None:
    spec = world.client.get("/openapi.json").json()
    paths = spec["paths"]
    for path in (
        "/v1/query",
        "/v1/documents",
        "/v1/documents/{doc_id}",
        "/v1/documents/{doc_id}/pages/{n}.png",
        "/v1/jobs/{job_id}",
        "/v1/chat/completions",
        "/v1/models",
        "/v1/keys",
        "/healthz",
        "/readyz",
    ):
        assert path in paths, path
    ok = paths["/v1/query"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok["$ref"].endswith("/QueryResponse")
    assert "429" in paths["/v1/query"]["post"]["responses"]
    assert {"QueryResponse", "CitationOut", "JobOut", "DocumentOut", "ErrorResponse"} <= set(
        spec["components"]["schemas"]
    )


def test_jobs_left_by_a_previous_process_are_redone(tmp_path: Path, shared_embedder, sample_dir: Path) -> None:
    svc = build_service(tmp_path / "data", shared_embedder)
    try:
        first = create_app(svc.settings, svc)  # never started: the process "died" with the job queued
        state = first.state.finrag
        key, _ = state.keys.create("acme", "t")
        path = state.uploads_dir / "acme" / CEDAR_8K
        path.parent.mkdir(parents=True)
        path.write_bytes((sample_dir / CEDAR_8K).read_bytes())
        job = state.jobs.submit_ingest("acme", CEDAR_8K, path)
        state.jobs.queue.close()
        app = create_app(svc.settings, svc)  # the next process finds it in the journal
        with TestClient(app) as c:
            done = wait_job(c, key, job.id)
            assert done["status"] == "succeeded" and done["filename"] == CEDAR_8K and done["chunks"] > 0
            assert [j["job_id"] for j in c.get("/v1/jobs", headers=bearer(key)).json()["jobs"]] == [job.id]
    finally:
        svc.close()


def test_cli_keys_create_list_revoke(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from finrag.cli.keys import keys_app

    runner = CliRunner()
    data = ["--data-dir", str(tmp_path)]
    made = runner.invoke(keys_app, ["create", "--tenant", "acme", "--name", "ci", "--admin", *data])
    assert made.exit_code == 0, made.output
    secret = next(line for line in made.stdout.splitlines() if line.startswith("frk_"))
    listed = runner.invoke(keys_app, ["list", *data])
    assert listed.exit_code == 0 and "acme" in listed.stdout and secret not in listed.stdout
    from finrag.db import open_database
    from finrag.serve.keys import KeyStore

    store = KeyStore(open_database(f"sqlite:///{tmp_path / 'registry.sqlite3'}"), cache_s=0)
    who = store.verify(secret)
    assert who is not None and who.tenant == "acme" and who.scopes == {"query", "ingest", "admin"}
    assert runner.invoke(keys_app, ["revoke", who.key_id, *data]).exit_code == 0
    assert store.verify(secret) is None
    assert runner.invoke(keys_app, ["revoke", who.key_id, *data]).exit_code == 1
    bad = runner.invoke(keys_app, ["create", "--tenant", "Bad Tenant!", "--name", "x", *data])
    assert bad.exit_code == 2


def test_internal_errors_are_json_500s_with_the_request_id(fresh, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    c, key = fresh()
    state = c.app.state.finrag

    def boom(*_a: object, **_k: object) -> None:
        raise RuntimeError("store exploded")

    monkeypatch.setattr(state.service, "ask", boom)
    r = c.post("/v1/query", headers={**bearer(key), "X-Request-ID": "trace-me"}, json={"question": "revenue?"})
    assert r.status_code == 500 and r.headers["X-Request-ID"] == "trace-me"
    assert r.json()["error"]["type"] == "internal_error" and "store exploded" not in r.text
    streamed = c.post("/v1/query?stream=true", headers=bearer(key), json={"question": "revenue?"})
    events = sse_events(streamed.text)
    assert streamed.status_code == 200 and events[-1] == ("message", "[DONE]")
    assert events[-2][0] == "error" and json.loads(events[-2][1])["error"]["type"] == "internal_error"
    assert metric(c, "finrag_errors_total", type="internal_error") == 2
    assert state.limiter.in_flight(state.keys.verify(key).key_id) == 0


def test_access_log_is_structured_with_request_id(world: World, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("INFO", logger="finrag.serve.access"):
        world.client.get("/v1/documents", headers={**bearer(world.acme), "X-Request-ID": "log-1"})
    record = next(r for r in caplog.records if getattr(r, "request_id", "") == "log-1")
    assert record.route == "/v1/documents" and record.status == 200 and record.tenant == "acme"  # type: ignore[attr-defined]
    from finrag.logs import JsonFormatter

    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "log-1" and line["key_id"].startswith("key_")


def test_oversized_body_is_refused_before_it_is_read(fresh) -> None:  # type: ignore[no-untyped-def]
    c, key = fresh(max_upload_mb=0.01)
    body = b"%PDF-1.4\n" + b"0" * (3 * 2**20)
    r = c.post("/v1/documents", headers=bearer(key), files={"file": ("big.pdf", body, "application/pdf")})
    assert r.status_code == 413 and r.json()["error"]["type"] == "payload_too_large"
    assert not list((c.app.state.finrag.uploads_dir).glob("**/*.pdf"))


def test_cli_pieces_register_on_a_parent_app() -> None:
    import typer
    from typer.testing import CliRunner

    from finrag.cli.keys import keys_app
    from finrag.cli.serve import serve_command

    parent = typer.Typer()
    parent.add_typer(keys_app, name="keys")
    parent.command("serve")(serve_command)
    runner = CliRunner()
    serve_help = runner.invoke(parent, ["serve", "--help"])
    assert serve_help.exit_code == 0 and all(o in serve_help.output for o in ("--host", "--port", "--data-dir"))
    keys_help = runner.invoke(parent, ["keys", "--help"])
    assert keys_help.exit_code == 0 and all(c in keys_help.output for c in ("create", "list", "revoke"))


def test_llm_usage_cost_and_faithfulness_reach_the_metrics(fresh, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from finrag.records import Answer

    c, key = fresh()
    answer = Answer(
        question="q",
        text="Revenue was $4,295 million.",
        pipeline="easy",
        faithfulness=0.92,
        usage={"input_tokens": 1200, "output_tokens": 80, "cache_read_input_tokens": 1000},
        cost_usd=0.0042,
        trace={"llm": {"model": "claude-test"}},
    )
    monkeypatch.setattr(c.app.state.finrag.service, "ask", lambda *a, **k: answer.model_copy(deep=True))
    body = c.post("/v1/query", headers=bearer(key), json={"question": "revenue?", "mode": "easy"}).json()
    assert body["pipeline"] == "easy" and body["usage"]["output_tokens"] == 80 and body["cost_usd"] == 0.0042
    assert metric(c, "finrag_llm_tokens_total", model="claude-test", kind="input") == 1200
    assert metric(c, "finrag_llm_tokens_total", model="claude-test", kind="cache_read_input") == 1000
    assert metric(c, "finrag_llm_cost_usd_total", model="claude-test") == pytest.approx(0.0042)
    assert metric(c, "finrag_faithfulness_count") == 1
    assert metric(c, "finrag_request_latency_seconds_count", route="/v1/query", pipeline="easy") == 1
    # a cache hit costs nothing: tokens are not counted twice
    assert c.post("/v1/query", headers=bearer(key), json={"question": "revenue?", "mode": "easy"}).json()["cached"]
    assert metric(c, "finrag_llm_tokens_total", model="claude-test", kind="input") == 1200
    bad_id = c.get("/healthz", headers={"X-Request-ID": "evil id with spaces;" * 20})
    assert bad_id.headers["X-Request-ID"] != "evil" and " " not in bad_id.headers["X-Request-ID"]
