"""What the web page's panels read from the API: the trust checks split into failed and passed, the
calculator's steps with each input linked to its page, LLM draft frames in the stream, ingest progress,
and correcting a filing's detected company / form / fiscal year without re-embedding."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from finrag.records import Answer, DocStatus, DocumentRecord
from finrag.serve.app import create_app
from finrag.serve.explain import trust_out
from finrag.serve.routes.documents import document_out
from finrag.serve.schemas import DocumentOut
from finrag.serve.testing import live_server
from finrag.service import QAService, build_components
from finrag.settings import AnswerSettings, ServeSettings
from tests.conftest import make_settings
from tests.fakes import fixtures
from tests.fakes.anthropic_server import FakeAnthropic, split_for_stream
from tests.fakes.fixtures import anthropic_llm
from tests.test_api import CEDAR_8K, NORTHWIND_10K, bearer, build_service, ingest, sse_events

anthropic_server = fixtures.anthropic_server
pytestmark = pytest.mark.slow

EBITDA_Q = "What was Northwind Robotics' EBITDA margin in FY2023?"
REVENUE_Q = "What was Northwind Robotics' total revenue in fiscal 2023?"


@dataclass
class Site:
    client: TestClient
    svc: QAService
    key: str  # query + ingest
    reader: str  # query only
    other: str  # another tenant
    docs: dict[str, str]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, shared_embedder, sample_dir: Path) -> Iterator[Site]:
    svc = build_service(tmp_path_factory.mktemp("web-api"), shared_embedder)
    app = create_app(svc.settings, svc, ServeSettings(rate_limit_per_minute=100_000))
    keys = app.state.finrag.keys
    key, _ = keys.create("acme", "app")
    reader, _ = keys.create("acme", "reader", ["query"])
    other, _ = keys.create("globex", "app")
    with TestClient(app) as client:
        docs = {name: ingest(client, key, sample_dir / name)["doc_id"] for name in (NORTHWIND_10K, CEDAR_8K)}
        yield Site(client, svc, key, reader, other, docs)
    svc.close()


def ask(site: Site, question: str, **body: Any) -> dict[str, Any]:
    r = site.client.post("/v1/query", headers=bearer(site.key), json={"question": question, **body})
    assert r.status_code == 200, r.text
    return r.json()


def test_calculation_steps_link_each_input_to_its_cited_page(site: Site) -> None:
    body = ask(site, EBITDA_Q)
    assert body["calculation"], body["trace"]
    cited = {(c["doc_id"], c["page"]) for c in body["citations"]}
    for step in body["calculation"]:
        assert step["formula"] and step["expression"]
        assert step["inputs"] and all(i["label"] for i in step["inputs"])
    assert any(i["from_step"] is not None for s in body["calculation"] for i in s["inputs"])
    for n, step in enumerate(body["calculation"]):
        for i in step["inputs"]:
            if i["from_step"] is not None:  # a chained step: an earlier result, with no page of its own
                assert i["from_step"] < n and body["calculation"][i["from_step"]]["result"] == i["value"]
                assert i["doc_id"] == "" and i["page_image_url"] == ""
                continue
            assert (i["doc_id"], i["page"]) in cited
            assert i["doc_id"] == site.docs[NORTHWIND_10K]
            assert i["page_image_url"] == f"/v1/documents/{i['doc_id']}/pages/{i['page']}.png"
            img = site.client.get(i["page_image_url"], headers=bearer(site.key))
            assert img.status_code == 200 and img.headers["content-type"] == "image/png"
    # the last step's result is the figure the answer states (a percentage, as the answer prints it)
    last = body["calculation"][-1]
    assert f"{last['result']:.1f}%" in body["answer"].split("\n")[0]
    # the stored answer shows the same steps and trust
    stored = site.client.get(f"/v1/answers/{body['answer_id']}", headers=bearer(site.key)).json()["answer"]
    assert stored["calculation"] == body["calculation"] and stored["trust"] == body["trust"]


def test_trust_reasons_split_into_failed_and_passed(site: Site) -> None:
    good = ask(site, REVENUE_Q)["trust"]
    assert good["trusted"] and good["score"] >= good["threshold"] and good["failed"] == []
    assert any("every figure found on the cited page" in r for r in good["passed"])
    assert any("period matches the question" in r for r in good["passed"])
    # A qualitative question gets excerpts: not a computed answer, so not trusted, and said so.
    vague = ask(site, "What does Cedar Ridge Energy say about its business strategy?", mode="easy")
    t = vague["trust"]
    assert t is not None and t["score"] == vague["faithfulness"]
    if not t["trusted"]:
        assert t["failed"], t
    assert t["failed"] + t["passed"] == vague["trust_reasons"]


def test_trust_split_with_a_judge_and_for_traces_written_before_the_split() -> None:
    reasons = ["a figure is from another year's column than the question's", "every figure found on the cited pages"]
    judged = Answer(
        question="q",
        text="a",
        faithfulness=0.3,
        trace={
            "trust": {"reasons": reasons, "failed": 1},
            "judge": {"score": 0.5, "heuristic": 0.3, "claims": [{"claim": "x", "supported": False}]},
        },
    )
    t = trust_out(judged, 0.7)
    assert t is not None and not t.trusted and t.threshold == 0.7
    assert t.failed == [reasons[0], "an LLM judge found 1 claim(s) the cited pages do not support"]
    assert t.passed == [reasons[1]]
    old = Answer(question="q", text="a", faithfulness=0.9, trace={"trust": {"reasons": ["period matches"]}})
    t = trust_out(old, 0.7)
    assert t is not None and t.trusted and t.failed == [] and t.passed == ["period matches"]
    assert trust_out(Answer(question="q", text="a"), 0.7) is None  # no check ran: nothing to show


def test_documents_show_ingest_progress(site: Site) -> None:
    docs = site.client.get("/v1/documents", headers=bearer(site.key)).json()["documents"]
    assert {d["doc_id"] for d in docs} == set(site.docs.values())
    for d in docs:
        p = d["progress"]
        assert p == {"stage": "done", "pages_parsed": d["pages"], "pages_embedded": d["pages"]}
        assert d["pages"] > 0 and d["corrected"] == []


@pytest.mark.parametrize(
    ("status", "stage", "embedded"),
    [
        (DocStatus.PENDING, "queued", 0),
        (DocStatus.INDEXING, "embedding", 0),
        (DocStatus.READY, "done", 12),
        (DocStatus.FAILED, "failed", 0),
    ],
)
def test_progress_follows_the_registry_status(status: DocStatus, stage: str, embedded: int) -> None:
    rec = DocumentRecord("d1", "acme", "f", "/x/f.pdf", "h", status, pages=12 if status != DocStatus.FAILED else 0)
    p = DocumentOut.of(rec).progress
    assert (p.stage, p.pages_parsed, p.pages_embedded) == (stage, rec.pages, embedded)


def test_a_failure_reason_names_the_file_as_sent() -> None:
    digest = "ab" * 32
    rec = DocumentRecord(
        "d1",
        "acme",
        "q3-report",
        f"/srv/up/acme/{digest}.pdf",
        "h",
        DocStatus.FAILED,
        error=f"/srv/up/acme/{digest}.pdf is corrupt or truncated and cannot be read as a PDF",
    )
    assert document_out(rec).error == "q3-report.pdf is corrupt or truncated and cannot be read as a PDF"


def test_correcting_a_filing_rescopes_it_without_reembedding(site: Site) -> None:
    doc = site.docs[CEDAR_8K]
    store = site.svc.c.store
    points = store.count("acme", doc)
    url = f"/v1/documents/{doc}"
    fix = {"company": "Cedar Ridge Power", "doc_type": "10-q", "fiscal_year": 2021}
    # the ingest role is needed, and another tenant's document is a 404
    assert site.client.patch(url, headers=bearer(site.reader), json=fix).status_code == 403
    assert site.client.patch(url, headers=bearer(site.other), json=fix).status_code == 404
    assert site.client.patch(url, headers=bearer(site.key), json={}).status_code == 422
    assert site.client.patch(url, headers=bearer(site.key), json={"fiscal_year": 1700}).status_code == 422
    assert site.client.patch(url, headers=bearer(site.key), json={"company": None}).status_code == 422

    r = site.client.patch(url, headers=bearer(site.key), json=fix)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["filing"]["company"] == "Cedar Ridge Power" and out["filing"]["doc_type"] == "10-Q"
    assert out["filing"]["fiscal_year"] == 2021 and out["corrected"] == ["company", "doc_type", "fiscal_year"]
    assert site.client.get(url, headers=bearer(site.key)).json()["filing"]["fiscal_year"] == 2021

    # the same points, relabelled: nothing was embedded again
    assert store.count("acme", doc) == points
    (page,) = store.page_chunks("acme", doc, [0])
    assert page.metadata["company"] == "Cedar Ridge Power" and page.metadata["fiscal_year"] == 2021
    assert page.metadata["doc_type"] == "10-Q"

    # scope filters find it under the corrected values (a filter matching nothing would be widened to
    # every filing, the 10-K too)
    new = ask(site, "What did the company announce?", filters={"fiscal_year": 2021, "doc_type": "10-Q"})
    assert new["citations"] and {c["doc_id"] for c in new["citations"]} == {doc}
    # and scope inference reads the corrected company name
    named = ask(site, "What did Cedar Ridge Power announce?")
    assert named["scope"]["companies"] == ["Cedar Ridge Power"], named["scope"]

    # clearing the year is explicit null
    r = site.client.patch(url, headers=bearer(site.key), json={"fiscal_year": None})
    assert r.status_code == 200 and r.json()["filing"]["fiscal_year"] is None
    (page,) = store.page_chunks("acme", doc, [0])
    assert page.metadata["fiscal_year"] is None


def _reply(text: str) -> Any:
    def answer(body: dict[str, Any]) -> str:
        label = json.dumps(body["messages"]).split('<source id=\\"', 1)[1].split('\\"', 1)[0]
        return text.format(label=label)

    return answer


@pytest.fixture()
def llm_service(
    tmp_path: Path, shared_embedder, sample_dir: Path, anthropic_server: FakeAnthropic
) -> Iterator[FastAPI]:
    """An app whose LLM is the fake Anthropic server, over the Cedar Ridge 8-K (tenant acme)."""
    settings = make_settings(
        tmp_path / "data",
        llm=anthropic_llm(anthropic_server),
        answer=AnswerSettings(online_eval_share=0.0),
    )
    components = build_components(settings)
    components.embedder = shared_embedder
    svc = QAService(settings, components)
    assert not svc.ingest([sample_dir / CEDAR_8K], tenant="acme").failed
    app = create_app(settings, svc, ServeSettings())
    key, _ = app.state.finrag.keys.create("acme", "k")
    app.state.test_key = key
    try:
        yield app
    finally:
        svc.close()


@pytest.fixture()
def llm_app(llm_service: FastAPI) -> Iterator[TestClient]:
    with TestClient(llm_service, headers=bearer(llm_service.state.test_key)) as c:
        yield c


DRAFT = "Cedar Ridge Energy entered into an amended credit agreement as its 8-K reports [{label}]."
DRAFT_Q = {
    "question": "What did Cedar Ridge Energy announce in its 8-K?",
    "stream": True,
    "drafts": True,
    "mode": "easy",
}


def streamed(c: TestClient) -> list[tuple[str, str]]:
    with c.stream("POST", "/v1/query", json=DRAFT_Q) as r:
        return sse_events(r.read().decode())


def test_stream_sends_the_llm_draft_before_the_checked_answer(
    llm_app: TestClient, anthropic_server: FakeAnthropic
) -> None:
    anthropic_server.answer = _reply(DRAFT)
    events = streamed(llm_app)
    kinds = [e for e, _ in events]
    assert "draft" in kinds and kinds.index("draft") < kinds.index("citations")
    drafts = [json.loads(d) for e, d in events if e == "draft"]
    assert drafts[0] == {"start": True}
    # the last draft is the model's reply, as it came, in several pieces
    last = max(i for i, d in enumerate(drafts) if d.get("start"))
    pieces = [d["delta"] for d in drafts[last + 1 :]]
    sent = anthropic_server.requests[-1].body
    assert sent["stream"] is True
    assert len(pieces) == len(split_for_stream(_reply(DRAFT)(sent))) > 1
    assert "".join(pieces) == _reply(DRAFT)(sent)
    final = json.loads(next(d for e, d in events if e == "citations"))
    assert final["pipeline"] and final["answer"]


def test_a_stream_broken_mid_draft_is_redone_and_the_draft_restarts(
    llm_app: TestClient, anthropic_server: FakeAnthropic
) -> None:
    anthropic_server.answer = _reply(DRAFT)
    anthropic_server.stream_error_after = 2  # an overloaded error after two pieces, once
    events = streamed(llm_app)
    drafts = [json.loads(d) for e, d in events if e == "draft"]
    starts = [i for i, d in enumerate(drafts) if d.get("start")]
    assert len(starts) == 2 and starts[1] - starts[0] == 3  # two pieces, then a new draft
    assert [r.body.get("stream") for r in anthropic_server.requests[:2]] == [True, None]  # redone whole
    assert not any(e == "error" for e, _ in events)
    final = json.loads(next(d for e, d in events if e == "citations"))
    assert "amended credit agreement" in final["answer"]
    assert final["trace"]["answered_by"].startswith("anthropic")


def test_drafts_are_sent_only_when_asked_for(llm_app: TestClient, anthropic_server: FakeAnthropic) -> None:
    """Unchecked text is opt-in: a plain stream (or no stream) gets the checked answer only."""
    anthropic_server.answer = _reply(DRAFT)
    r = llm_app.post("/v1/query", json={**DRAFT_Q, "stream": False})
    assert r.status_code == 200 and "amended credit agreement" in r.json()["answer"]
    with llm_app.stream("POST", "/v1/query", json={**DRAFT_Q, "drafts": False}) as s:
        events = sse_events(s.read().decode())
    assert "draft" not in [e for e, _ in events] and "citations" in [e for e, _ in events]
    assert anthropic_server.requests and all(not q.body.get("stream") for q in anthropic_server.requests)


def test_a_client_leaving_during_the_draft_is_noticed(llm_service: FastAPI, anthropic_server: FakeAnthropic) -> None:
    """The stream is cancelled while the answer is still being computed (the model still writing): the
    server counts the disconnect and keeps serving."""
    anthropic_server.answer = _reply(DRAFT)
    anthropic_server.delta_delay_s = 0.3
    metrics = llm_service.state.finrag.metrics
    before = metrics.errors.labels(type="client_disconnected")._value.get()
    with live_server(llm_service) as base, httpx.Client(timeout=30) as http:
        auth = {"Authorization": f"Bearer {llm_service.state.test_key}"}
        with http.stream("POST", base + "/v1/query", headers=auth, json=DRAFT_Q) as r:
            assert r.status_code == 200
            for line in r.iter_lines():
                if line.startswith("data:") and "delta" in line:
                    break  # the first piece of the draft: leave
        deadline = time.monotonic() + 15
        while metrics.errors.labels(type="client_disconnected")._value.get() == before:
            assert time.monotonic() < deadline, "the server did not notice the disconnect"
            time.sleep(0.05)
        anthropic_server.delta_delay_s = 0.0
        again = http.post(base + "/v1/query", headers=auth, json={**DRAFT_Q, "stream": False})
        assert again.status_code == 200 and again.json()["answer"]
