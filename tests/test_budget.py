"""Per-tenant LLM budgets through the API: spend tracked from each answer's cost, 402 or offline answers
once the month is spent, budget 0 = offline only, the per-request ceiling stopping escalation, and
the spend gauge. Real app and index; the real AnthropicProvider against the fake Anthropic server."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from finrag.db import open_database
from finrag.records import Answer
from finrag.serve.answers import AnswerStore
from finrag.serve.app import create_app
from finrag.serve.budget import BudgetGuard
from finrag.serve.errors import ApiError
from finrag.service import QAService, build_components
from finrag.settings import AnswerSettings, BudgetSettings, SecuritySettings, ServeSettings
from tests.conftest import make_settings
from tests.fakes import fixtures
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.fixtures import anthropic_llm
from tests.test_api import CEDAR_8K, bearer, metric, sse_events

anthropic_server = fixtures.anthropic_server
pytestmark = pytest.mark.slow

Q1 = "What did Cedar Ridge Energy announce in its 8-K?"
Q2 = "What are Cedar Ridge Energy's revolving credit commitments according to the 8-K?"
Q3 = "When does Cedar Ridge Energy's credit facility mature according to the 8-K?"


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]{4,}", text.lower()))


def grounded(body: dict[str, Any]) -> str:
    """The source line sharing most words with the question, cited: a supported answer."""
    content = body["messages"][0]["content"]
    question = _words(content[-1]["text"].split("\n\nAnswer from")[0])
    best = (0, "I don't know based on the provided sources.")
    for block in content[:-1]:
        m = re.match(r'<source id="([^"]+)"[^>]*>\n(.*)\n</source>$', block.get("text", ""), flags=re.S)
        for line in m.group(2).split("\n") if m else []:
            if len(line.split()) >= 6 and len(question & _words(line)) > best[0]:
                best = (len(question & _words(line)), f"{line.strip().rstrip('.')} [{m.group(1)}].")  # type: ignore[union-attr]
    return best[1]


def wrong(body: dict[str, Any]) -> str:
    label = re.search(r'<source id=\\?"([^"\\]+)', json.dumps(body["messages"])).group(1)  # type: ignore[union-attr]
    return f"Cedar Ridge Energy announced revenue of $9,999 million [{label}]."


@pytest.fixture()
def make_app(
    tmp_path: Path, shared_embedder, sample_dir: Path, anthropic_server: FakeAnthropic
) -> Iterator[Callable[..., tuple[TestClient, dict[str, str]]]]:
    """Apps over one service (LLM = the fake Anthropic server) whose tenants acme and trial hold the
    Cedar Ridge 8-K; each call is a new app (a restart) on the same database."""
    settings = make_settings(
        tmp_path / "data",
        security=SecuritySettings(metrics_tenants=["acme", "trial"]),  # exported by name in tenant gauges
        llm=anthropic_llm(anthropic_server),
        answer=AnswerSettings(online_eval_share=0.0),
    )
    components = build_components(settings)
    components.embedder = shared_embedder
    svc = QAService(settings, components)
    for tenant in ("acme", "trial"):
        assert not svc.ingest([sample_dir / CEDAR_8K], tenant=tenant).failed
    anthropic_server.answer = grounded
    clients: list[TestClient] = []

    def make(**budget: Any) -> tuple[TestClient, dict[str, str]]:
        app = create_app(settings, svc, ServeSettings(budget=BudgetSettings(**budget)))
        keys = {t: app.state.finrag.keys.create(t, "k")[0] for t in ("acme", "trial")}
        client = TestClient(app)
        client.__enter__()
        clients.append(client)
        return client, keys

    yield make
    for c in clients:
        c.__exit__(None, None, None)
    svc.close()


def post(c: TestClient, key: str, question: str, url: str = "/v1/query", **body: Any) -> Any:
    return c.post(url, headers=bearer(key), json={"question": question, **body})


def test_spend_is_tracked_from_answer_costs_and_exported(make_app, anthropic_server: FakeAnthropic) -> None:
    c, keys = make_app()  # no limits: spend is still counted
    a1, a2 = post(c, keys["acme"], Q1).json(), post(c, keys["acme"], Q2).json()
    assert a1["cost_usd"] > 0 and a2["cost_usd"] > 0
    spent = a1["cost_usd"] + a2["cost_usd"]
    store = c.app.state.finrag.answers  # type: ignore[attr-defined]
    assert store.spend("acme") == pytest.approx(spent)
    assert metric(c, "finrag_tenant_spend_usd", tenant="acme") == pytest.approx(spent, abs=1e-6)
    stored = c.get(f"/v1/answers/{a1['answer_id']}", headers=bearer(keys["acme"])).json()
    assert stored["charged_usd"] == pytest.approx(a1["cost_usd"])
    # a cache hit costs nothing and is charged nothing
    again = post(c, keys["acme"], Q1).json()
    assert again["cached"] and store.spend("acme") == pytest.approx(spent)
    assert store.spend("trial") == 0.0
    # a restart reads the month's spend back into the gauge
    c2, _ = make_app()
    assert metric(c2, "finrag_tenant_spend_usd", tenant="acme") == pytest.approx(spent, abs=1e-6)


def test_spent_budget_is_a_402_when_configured(make_app, anthropic_server: FakeAnthropic) -> None:
    c, keys = make_app(tenants={"acme": {"monthly_usd": 0.001, "over_budget": "reject"}})
    assert post(c, keys["acme"], Q1).status_code == 200  # under budget before it: the call runs
    calls = len(anthropic_server.requests)
    r = post(c, keys["acme"], Q2)
    assert r.status_code == 402, r.text
    err = r.json()["error"]
    assert err["type"] == "budget_exceeded" and "monthly LLM budget of $0.001 is spent" in err["message"]
    assert (
        err["monthly_usd"] == 0.001 and err["spent_usd"] > 0.001 and err["month"] == datetime.now(UTC).strftime("%Y-%m")
    )
    assert err["renews_on"].endswith("-01")
    # streams and chat get the same real status code, before any stream starts
    assert post(c, keys["acme"], Q2, stream=True).status_code == 402
    chat = c.post(
        "/v1/chat/completions", headers=bearer(keys["acme"]), json={"messages": [{"role": "user", "content": Q2}]}
    )
    assert chat.status_code == 402 and chat.json()["error"]["type"] == "budget_exceeded"
    assert len(anthropic_server.requests) == calls  # no LLM call for a rejected request
    assert metric(c, "finrag_errors_total", type="budget_exceeded") == 3
    # other tenants are not affected
    assert post(c, keys["trial"], Q2).status_code == 200


def test_spent_budget_answers_offline_when_configured(make_app, anthropic_server: FakeAnthropic) -> None:
    c, keys = make_app(monthly_usd=0.001)  # over_budget defaults to offline
    assert post(c, keys["acme"], Q1).json()["cost_usd"] > 0
    calls = len(anthropic_server.requests)
    body = post(c, keys["acme"], Q2).json()
    assert len(anthropic_server.requests) == calls and body["cost_usd"] == 0.0 and body["citations"]
    assert any("monthly LLM budget of $0.001 reached" in n and "offline answer" in n for n in body["notes"])
    assert body["trace"]["budget"]["offline"] is True and body["trace"]["answered_by"] != "anthropic:claude-sonnet-4-6"
    # offline answers are not cached: once the budget is raised, the question gets an LLM answer
    assert post(c, keys["acme"], Q2).json()["cached"] is False
    raised, keys = make_app(monthly_usd=10.0)
    fresh = post(raised, keys["acme"], Q2).json()
    assert fresh["cost_usd"] > 0 and len(anthropic_server.requests) == calls + 1


def test_zero_budget_means_offline_answers_only(make_app, anthropic_server: FakeAnthropic) -> None:
    c, keys = make_app(tenants={"trial": {"monthly_usd": 0, "over_budget": "reject"}})
    for url, body in (("/v1/query", {}), ("/v1/query", {"stream": True})):
        r = post(c, keys["trial"], Q1, url=url, **body)
        assert r.status_code == 200  # never a 402: a $0 budget is a choice, not an overrun
    notes = post(c, keys["trial"], Q3).json()["notes"]
    assert any("LLM budget is $0" in n for n in notes)
    assert anthropic_server.requests == []
    assert metric(c, "finrag_tenant_spend_usd", tenant="trial") == 0.0
    assert post(c, keys["acme"], Q1).json()["cost_usd"] > 0  # acme has no limit


def test_per_request_ceiling_stops_escalation(make_app, anthropic_server: FakeAnthropic) -> None:
    anthropic_server.answer = wrong  # the easy answer is ungrounded: the engine would escalate
    c, keys = make_app(tenants={"acme": {"per_query_usd": 0.001}})
    body = post(c, keys["acme"], Q1, debug=True).json()
    assert len(anthropic_server.requests) == 1  # easy only
    budget = body["trace"]["budget"]
    assert budget["ceiling_usd"] == 0.001 and budget["stopped_before"] == "agentic"
    assert (
        body["trace"]["escalation"][-1]["step"] == "agentic" and "ceiling" in body["trace"]["escalation"][-1]["skipped"]
    )
    assert any("not escalated to the agentic pipeline" in n for n in body["notes"])
    # without a ceiling (trial) the same question escalates
    post(c, keys["trial"], Q1)
    assert len(anthropic_server.requests) > 2


def test_what_is_left_of_the_month_caps_the_ceiling(make_app, anthropic_server: FakeAnthropic) -> None:
    c, keys = make_app(monthly_usd=0.0085)
    first = post(c, keys["acme"], Q1).json()
    assert 0 < first["cost_usd"] < 0.0085
    anthropic_server.answer = wrong
    body = post(c, keys["acme"], Q2, debug=True).json()
    left = 0.0085 - first["cost_usd"]
    assert body["trace"]["budget"]["ceiling_usd"] == pytest.approx(left)
    assert body["trace"]["budget"]["stopped_before"] == "agentic"


def test_budget_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FINRAG_BUDGET_MONTHLY_USD", "25")
    monkeypatch.setenv("FINRAG_BUDGET_PER_QUERY_USD", "0.05")
    monkeypatch.setenv("FINRAG_BUDGET_OVER_BUDGET", "reject")
    monkeypatch.setenv("FINRAG_BUDGET_TENANTS", '{"trial": {"monthly_usd": 0}, "big": {"over_budget": "offline"}}')
    b = ServeSettings().budget
    assert (b.monthly_usd, b.per_query_usd, b.over_budget) == (25.0, 0.05, "reject")
    trial, big, other = b.for_tenant("trial"), b.for_tenant("big"), b.for_tenant("other")
    assert (trial.monthly_usd, trial.per_query_usd, trial.over_budget) == (0.0, 0.05, "reject")
    assert (big.monthly_usd, big.over_budget) == (25.0, "offline")
    assert (other.monthly_usd, other.over_budget) == (25.0, "reject")
    monkeypatch.setenv("FINRAG_BUDGET_TENANTS", '{"x": {"monthly_usd": -1}}')
    with pytest.raises(ValueError):
        ServeSettings()


def test_spend_is_per_calendar_month(tmp_path: Path) -> None:
    now = [datetime(2025, 1, 31, 23, 59, tzinfo=UTC)]
    store = AnswerStore(open_database(f"sqlite:///{tmp_path / 'db.sqlite3'}"), now=lambda: now[0])
    guard = BudgetGuard(BudgetSettings(monthly_usd=0.01, over_budget="reject"), store)
    paid = Answer(question="q", text="a", cost_usd=0.012)
    _, spent = store.save("acme", paid, mode="auto", cached=False)
    assert spent == pytest.approx(0.012) and store.spend("acme", "2025-01") == pytest.approx(0.012)
    with pytest.raises(ApiError) as exc:
        guard.check("acme")
    assert exc.value.status == 402 and exc.value.extra["renews_on"] == "2025-02-01"
    now[0] = datetime(2025, 2, 1, 0, 1, tzinfo=UTC)  # a new month: a fresh budget
    assert store.spend("acme") == 0.0
    assert guard.check("acme").ceiling_usd == pytest.approx(0.01)
    assert store.spend_by_tenant("2025-01") == {"acme": pytest.approx(0.012)}
    # December rolls over into January of the next year
    now[0] = datetime(2025, 12, 15, tzinfo=UTC)
    store.save("acme", paid, mode="auto", cached=False)
    assert guard.status("acme")["renews_on"] == "2026-01-01"


def test_streamed_answers_are_charged(make_app, anthropic_server: FakeAnthropic) -> None:
    c, keys = make_app()
    with c.stream("POST", "/v1/query", headers=bearer(keys["acme"]), json={"question": Q3, "stream": True}) as r:
        events = sse_events(r.read().decode())
    final = json.loads(events[-2][1])
    assert final["cost_usd"] > 0
    assert c.app.state.finrag.answers.spend("acme") == pytest.approx(final["cost_usd"])  # type: ignore[attr-defined]
