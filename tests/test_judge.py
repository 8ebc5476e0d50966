"""The optional LLM judge of faithfulness: its verdict parsing, its weight in the score that drives the
easy -> agentic fallback, degrading to the heuristic score, and online evaluation with a judge.
The LLM is the official anthropic SDK talking to the local fake server."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from finrag.answer.context import service_context
from finrag.answer.engine import AnswerEngine
from finrag.answer.judge import LLMJudge, RagasJudge, build_judge, combine, parse_verdict
from finrag.answer.llm_answerer import LLMAnswerer
from finrag.answer.online_eval import EvalItem, OnlineEvaluator
from finrag.llm import LLMSettings
from finrag.observability.metrics import build_metrics
from finrag.sample.companies import BLUEFIN
from finrag.sample.model import build_financials
from finrag.settings import AnswerSettings
from tests.fakes import fixtures
from tests.fakes.anthropic_server import FakeAnthropic

anthropic_server = fixtures.anthropic_server

REVENUE = build_financials(BLUEFIN)[2023].inc.revenue
QUESTION = "What was Bluefin Foods' total revenue in fiscal 2023?"


def llm(server: FakeAnthropic) -> LLMAnswerer:
    settings = LLMSettings(
        anthropic_api_key="test-key",
        anthropic_base_url=server.url,
        providers=["anthropic", "extractive"],
        max_retries=0,
    )
    return LLMAnswerer.from_settings(settings, sleep=lambda s: None)


def is_judge_call(body: dict[str, Any]) -> bool:
    return "You verify answers" in json.dumps(body.get("system", ""))


def scripted(server: FakeAnthropic, judge_reply: str) -> None:
    """Answer calls get a grounded answer with a made-up cause; judge calls get `judge_reply`."""

    def reply(body: dict[str, Any]) -> str:
        if is_judge_call(body):
            return judge_reply
        text = json.dumps(body["messages"])
        label = text.split('<source id=\\"', 1)[1].split('\\"', 1)[0]
        return f"Bluefin Foods' net sales were ${REVENUE:,.0f} million in fiscal 2023 [{label}]."

    server.answer = reply


def verdict_json(*supported: bool) -> str:
    claims = [{"claim": f"claim {i}", "supported": s, "source": ""} for i, s in enumerate(supported)]
    return "Here is my verdict:\n```json\n" + json.dumps({"claims": claims}) + "\n```"


def test_parse_verdict_tolerates_fences_and_rejects_garbage() -> None:
    claims = parse_verdict(verdict_json(True, False))
    assert claims is not None and [c.supported for c in claims] == [True, False]
    assert parse_verdict("looks fine to me") is None
    assert parse_verdict('{"claims": "all good"}') is None
    assert parse_verdict('{"claims": [{"claim": "x", "supported": "yes"}]}') == []  # not a boolean: not counted
    assert combine(0.9, None, 0.5) == 0.9


def test_inline_judge_joins_the_score_and_its_cost(sample_service: Any, anthropic_server: FakeAnthropic) -> None:
    scripted(anthropic_server, verdict_json(True, False))
    eng = AnswerEngine(llm(anthropic_server), AnswerSettings(online_eval_share=0, judge_inline=True, judge_weight=0.5))
    eng.judge = LLMJudge(eng.llm)
    ctx = service_context(sample_service, sample_service.settings.tenant)
    a = eng.answer(QUESTION, sample_service.retrieve(QUESTION), "easy", ctx)
    judge = a.trace["judge"]
    assert judge["score"] == 0.5 and len(judge["claims"]) == 2 and judge["judge"].startswith("llm:claude")
    assert a.faithfulness == pytest.approx(0.5 * judge["heuristic"] + 0.25, abs=1e-4)
    judge_body = anthropic_server.last
    assert is_judge_call(judge_body)
    # the filing text went in as quoted source blocks, the answer as the thing to verify
    assert "ANSWER to verify" in json.dumps(judge_body["messages"]) and "<source" in json.dumps(judge_body["messages"])
    assert len(anthropic_server.requests) == 2
    # the judge call is billed too: the answer's cost is the answer call's plus the judge's
    answer_calls = sum(c["cost_usd"] for c in a.trace["llm_calls"])
    assert judge["cost_usd"] > 0 and a.cost_usd == pytest.approx(answer_calls + judge["cost_usd"], abs=2e-6)


def test_a_judge_that_finds_nothing_supported_sends_the_answer_to_agentic(
    sample_service: Any, anthropic_server: FakeAnthropic
) -> None:
    scripted(anthropic_server, verdict_json(False, False))
    eng = AnswerEngine(llm(anthropic_server), AnswerSettings(online_eval_share=0, judge_inline=True, judge_weight=0.5))
    eng.judge = LLMJudge(eng.llm)
    ctx = service_context(sample_service, sample_service.settings.tenant)
    a = eng.answer(QUESTION, sample_service.retrieve(QUESTION), "auto", ctx)
    steps = [s["step"] for s in a.trace["escalation"]]
    assert steps[:2] == ["easy", "agentic"], a.trace["escalation"]
    first = a.trace["pipelines_run"][0]
    assert first["faithfulness"] is not None and first["faithfulness"] <= 0.5 + 1e-9


def test_an_unreadable_judge_reply_keeps_the_heuristic_score_and_says_so(
    sample_service: Any, anthropic_server: FakeAnthropic
) -> None:
    scripted(anthropic_server, "I am not able to help with that.")
    plain = AnswerEngine(llm(anthropic_server), AnswerSettings(online_eval_share=0))
    judged = AnswerEngine(llm(anthropic_server), AnswerSettings(online_eval_share=0, judge_inline=True))
    judged.judge = LLMJudge(judged.llm)
    ctx = service_context(sample_service, sample_service.settings.tenant)
    result = sample_service.retrieve(QUESTION)
    base = plain.answer(QUESTION, result, "easy", ctx)
    a = judged.answer(QUESTION, result, "easy", ctx)
    assert a.faithfulness == base.faithfulness
    assert "skipped" in a.trace["judge"] and any("judge unavailable" in n for n in a.notes)


def test_online_evaluation_with_a_judge_stores_and_exports_its_verdict(
    tmp_path: Path, anthropic_server: FakeAnthropic
) -> None:
    anthropic_server.answer = verdict_json(True, True, False, True)
    metrics = build_metrics()
    ev = OnlineEvaluator(
        f"sqlite:///{tmp_path / 'eval.sqlite3'}", share=1.0, metrics=metrics, judge=LLMJudge(llm(anthropic_server))
    )
    page = "Net sales\n2023\n2022\n1,204\n1,100\n(In millions)"
    item = EvalItem(
        tenant="t",
        question="What were net sales in 2023?",
        answer_text="Net sales were $1,204 million in 2023 [ACME p.3].",
        pipeline="easy",
        answered_by="anthropic:claude-sonnet-4-6",
        sources={"ACME p.3": page},
        citations=1,
    )
    offline = dataclasses.replace(item, answered_by="extractive")  # verbatim quotes: not judged
    assert ev.submit(item) and ev.submit(offline)
    assert ev.join(timeout=20)
    rows = ev.recent()
    assert len(rows) == 2
    with ev.engine.connect() as c:
        judged = c.exec_driver_sql("SELECT eval_id, score, heuristic, claims FROM online_eval_judge").all()
    assert len(judged) == 1 and judged[0][1] == 0.75 and len(json.loads(judged[0][3])) == 4
    row = next(r for r in rows if r["answered_by"].startswith("anthropic"))
    assert row["faithfulness"] == pytest.approx(0.5 * judged[0][2] + 0.5 * 0.75, abs=1e-4)
    count = metrics.registry.get_sample_value("finrag_online_eval_score_count", {"metric": "judge_faithfulness"})
    assert count == 1.0
    assert len(anthropic_server.requests) == 1  # only the LLM answer was judged
    ev.close()


def test_build_judge_from_settings() -> None:
    assert build_judge("off", None) is None
    assert build_judge("llm", None) is None  # no provider configured: off, with a warning
    assert isinstance(build_judge("llm", object()), LLMJudge)  # type: ignore[arg-type]
    assert build_judge("ragas", None, LLMSettings(providers=["anthropic", "extractive"])) is None
    ragas = build_judge(
        "ragas", None, LLMSettings(providers=["openai"], openai_model="gpt-4.1-mini", openai_base_url="http://x/v1")
    )
    assert isinstance(ragas, RagasJudge) and ragas.base_url == "http://x/v1"
    with pytest.raises(ValueError, match="unknown judge"):
        build_judge("gpt-judge", None)


def test_ragas_judge_without_ragas_installed_gives_no_verdict() -> None:
    pytest.importorskip("openai")
    try:
        import ragas  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("ragas is installed here; this test covers its absence")
    judge = RagasJudge("gpt-4.1-mini", base_url="http://127.0.0.1:9/v1")
    assert judge.judge("q", "a [x]", {"x": "text"}) is None


openai_server = fixtures.openai_server


def test_ragas_judge_scores_through_the_real_ragas_against_the_fake_openai_server(openai_server: Any) -> None:
    """Ragas' own prompts, parsing and score against the fake server: two statements, one unsupported."""
    pytest.importorskip("openai")
    pytest.importorskip("ragas", reason="ragas is an optional extra, not installed here")
    statements = ["Net sales were $1,204 million in 2023.", "Net sales rose because of a strike."]

    def reply(body: dict[str, Any]) -> str:
        prompt = body["messages"][-1]["content"]
        if "judge the faithfulness" in prompt:  # Ragas' NLI step: one verdict per statement
            verdicts = [{"statement": s, "reason": "", "verdict": int(i == 0)} for i, s in enumerate(statements)]
            return json.dumps({"statements": verdicts})
        return json.dumps({"statements": statements})  # Ragas' statement-extraction step

    openai_server.answer = reply
    judge = RagasJudge("gpt-4.1-mini", base_url=openai_server.url + "/v1", api_key="test-key")
    page = "Net sales\n2023\n2022\n1,204\n1,100\n(In millions)"
    verdict = judge.judge(
        "What were net sales in 2023?", "Net sales rose to $1,204 million [p.3] on a strike.", {"p.3": page}
    )
    assert verdict is not None and verdict.score == 0.5 and verdict.judge == "ragas:gpt-4.1-mini"
    bodies = [r.body for r in openai_server.requests]
    assert len(bodies) == 2 and all(b["response_format"] == {"type": "json_object"} for b in bodies)
    assert "1,204" in bodies[1]["messages"][-1]["content"]  # the filing page went in as Ragas' context

    openai_server.answer = json.dumps({"statements": []})  # no statements: Ragas' NaN, no verdict
    assert judge.judge("What were net sales in 2023?", "Fine.", {"p.3": page}) is None
    openai_server.fail_with(401, 401, 401, 401)  # the endpoint refuses: no verdict, no exception
    assert judge.judge("What were net sales in 2023?", "Net sales were $1,204 million.", {"p.3": page}) is None
