"""Answer pipelines end to end on the sample filings: retrieval (real index) -> router -> easy / agentic
pipelines, with the fake Anthropic / OpenAI servers for the LLM paths. Expected figures come from the
sample generator's financial model, not from the filings' text."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from finrag.answer.context import service_context
from finrag.answer.engine import AnswerEngine
from finrag.answer.extractive import EXCERPT_LABEL
from finrag.answer.llm_answerer import LLMAnswerer, context_blocks
from finrag.finance.calculator import CalcStep
from finrag.finance.plan import plan_question
from finrag.llm import LLMSettings
from finrag.records import Answer, AnswerKind
from finrag.sample.companies import BLUEFIN, CEDAR_RIDGE, NORTHWIND
from finrag.sample.model import build_financials
from finrag.settings import AnswerSettings
from tests.fakes import fixtures
from tests.fakes.anthropic_server import FakeAnthropic
from tests.fakes.fixtures import anthropic_llm
from tests.fakes.openai_server import FakeOpenAI

anthropic_server = fixtures.anthropic_server
openai_server = fixtures.openai_server

FIN = {spec.key: build_financials(spec) for spec in (BLUEFIN, NORTHWIND, CEDAR_RIDGE)}
BF, NW, CR = FIN[BLUEFIN.key], FIN[NORTHWIND.key], FIN[CEDAR_RIDGE.key]
BF23 = "BLUEFINFOODS_2023_10K"


def offline_llm() -> LLMSettings:
    return LLMSettings(providers=["extractive"])


def engine(llm: LLMSettings | None = None, **answer: Any) -> AnswerEngine:
    answer.setdefault("online_eval_share", 0.0)
    return AnswerEngine(LLMAnswerer.from_settings(llm or offline_llm(), sleep=lambda s: None), AnswerSettings(**answer))


def ask(service: Any, eng: AnswerEngine, question: str, mode: str = "auto") -> Answer:
    result = service.retrieve(question)
    return eng.answer(question, result, mode, service_context(service, service.settings.tenant))


def money(millions: float) -> str:
    return f"${millions:,.0f} million"


def user_text(body: dict[str, Any]) -> str:
    return "\n".join(b["text"] for b in body["messages"][0]["content"] if b.get("type") == "text")


def source_label(body: dict[str, Any], needle: str) -> str:
    """The id of the source block (in a recorded request) whose text contains `needle`."""
    for b in body["messages"][0]["content"]:
        if b.get("type") == "text" and b["text"].startswith("<source") and needle in b["text"]:
            return re.match(r'<source id="([^"]+)"', b["text"]).group(1)  # type: ignore[union-attr]
    raise AssertionError(f"no source block contains {needle!r}")


# --- agentic, offline (calculator) ---------------------------------------------------------------


def _avg(a: float, b: float) -> float:
    return (a + b) / 2


EXPECTED = [
    (
        "What was Bluefin Foods' gross margin in fiscal 2023?",
        f"{100 * BF[2023].inc.gross_profit / BF[2023].inc.revenue:.1f}%",
    ),
    (
        "What is Bluefin Foods' FY2023 inventory turnover ratio?",
        f"{BF[2023].inc.cogs / _avg(BF[2022].bal.inventories, BF[2023].bal.inventories):.2f}",
    ),
    (
        "What is Bluefin Foods' FY2023 days payable outstanding?",
        f"{365 * _avg(BF[2022].bal.payables, BF[2023].bal.payables) / (BF[2023].inc.cogs + BF[2023].bal.inventories - BF[2022].bal.inventories):.2f} days",  # noqa: E501
    ),
    (  # no "average" asked: over year-end total assets (finance/data/metrics.toml [[year_end]])
        "What was Northwind Robotics' return on assets in FY2023?",
        f"{NW[2023].inc.net_income / NW[2023].bal.total_assets:.2f}",
    ),
    (
        "What was Northwind Robotics' return on average total assets in FY2023?",
        f"{NW[2023].inc.net_income / _avg(NW[2022].bal.total_assets, NW[2023].bal.total_assets):.2f}",
    ),
    (
        "What was Cedar Ridge Energy's working capital at the end of FY2023?",
        money(CR[2023].bal.current_assets - CR[2023].bal.current_liabilities),
    ),
    (
        "By what percentage did Northwind Robotics' revenue grow in FY2023?",
        f"{100 * (NW[2023].inc.revenue - NW[2022].inc.revenue) / NW[2022].inc.revenue:.1f}%",
    ),
    (
        "What was Cedar Ridge Energy's effective tax rate in FY2023?",
        f"{100 * CR[2023].inc.tax / CR[2023].inc.pretax:.1f}%",
    ),
    (
        "What was Northwind Robotics' EBITDA margin in FY2023?",
        f"{100 * (NW[2023].inc.operating_income + NW[2023].cf.da) / NW[2023].inc.revenue:.1f}%",
    ),
    (
        "What is Cedar Ridge Energy's FY2023 capex to revenue ratio?",
        f"{100 * abs(CR[2023].cf.capex) / CR[2023].inc.revenue:.1f}%",
    ),
]


@pytest.mark.parametrize(("question", "expected"), EXPECTED)
def test_agentic_offline_computes_and_cites(sample_service: Any, question: str, expected: str) -> None:
    a = ask(sample_service, engine(), question)
    assert a.pipeline == "agentic" and a.trace["route"]["route"] == "agentic"
    assert a.trace["answered_by"] == "calculator"
    assert expected in a.text.split("\n")[0], a.text
    assert "Formula:" in a.text
    # every figure in the answer is on a cited page or a logged calculation of cited inputs
    assert a.faithfulness == 1.0 and a.unsupported_figures == []
    assert a.usage["input_tokens"] == 0 and a.cost_usd == 0.0
    steps = [CalcStep.model_validate(s) for s in a.trace["calculations"]]
    assert steps and all(s.verify() for s in steps)
    cited = {f"{c.doc_name} p.{c.page}" for c in a.citations}
    for step in steps:
        for i in step.inputs:
            assert i.citation is None or i.citation in cited
    for c in a.citations:
        assert c.page >= 1 and c.chunk_id and c.quote
        assert c.doc_name.endswith("_10K")


def test_agentic_reads_the_asked_year_column(sample_service: Any) -> None:
    # The FY2023 filing prints FY2023 first and FY2022 second; DPO needs both years of payables.
    a = ask(sample_service, engine(), "What is Bluefin Foods' FY2023 days payable outstanding?")
    inputs = {(i["item"], i["year"]): i for c in a.trace["agentic"]["computations"] for i in c["inputs"]}
    assert inputs[("accounts_payable", 2023)]["value"] == BF[2023].bal.payables * 1e6
    assert inputs[("accounts_payable", 2022)]["value"] == BF[2022].bal.payables * 1e6
    assert inputs[("inventory", 2022)]["value"] == BF[2022].bal.inventories * 1e6
    assert all(i["by_column_header"] for i in inputs.values())


def test_agentic_compares_years(sample_service: Any) -> None:
    q = "How did Cedar Ridge Energy's operating margin change between FY2022 and FY2023?"
    a = ask(sample_service, engine(), q)
    m23 = 100 * CR[2023].inc.operating_income / CR[2023].inc.revenue
    m22 = 100 * CR[2022].inc.operating_income / CR[2022].inc.revenue
    assert f"{m23:.1f}% in FY2023" in a.text and f"{m22:.1f}% in FY2022" in a.text
    assert f"{abs(m23 - m22):.1f} percentage points" in a.text
    assert a.unsupported_figures == []


def test_agentic_judgement_question_offline_adds_quotes(sample_service: Any) -> None:
    a = ask(sample_service, engine(), "Why did Bluefin Foods' gross margin improve in fiscal 2023?")
    assert a.pipeline == "agentic"
    assert f"{100 * BF[2022].inc.gross_profit / BF[2022].inc.revenue:.1f}%" in a.text  # the prior year too
    assert "Relevant passages:" in a.text
    assert any(c.page == 7 for c in a.citations)  # the MD&A page that explains it
    assert a.unsupported_figures == []


def test_plans_refuse_non_gaap_and_segment_questions() -> None:
    # a non-GAAP figure is never computed from GAAP rows: it is read from the company's own adjusted row
    adjusted = plan_question("What was Bluefin Foods' adjusted non-GAAP EBITDA for FY 2023", None)
    assert adjusted is not None and adjusted.kind == "lookup" and not adjusted.metrics
    assert adjusted.item is not None and adjusted.item.key == "adjusted_ebitda"
    assert plan_question("What is Bluefin Foods' EBITDA guidance for FY 2024?", None) is None
    assert (
        plan_question(
            "How did Cedar Ridge Energy's US sales growth compare with its international sales growth in FY2022?", None
        )
        is None
    )
    assert plan_question("Did Bluefin Foods' wages expense as a percent of net sales increase in FY2023?", None) is None
    plan = plan_question(
        "What is the FY2019 fixed asset turnover ratio for Northwind Robotics? Fixed asset turnover ratio is "
        "defined as: FY2019 revenue / (average PP&E between FY2018 and FY2019).",
        None,
    )
    assert plan is not None and plan.years == [2019]  # definition years are not asked-about years
    assert plan.needs() == [("revenue", 2019), ("ppe", 2018), ("ppe", 2019)]


# --- easy, offline --------------------------------------------------------------------------------


def golden(sample_dir: Path, question: str) -> dict[str, Any]:
    for line in (sample_dir / "golden.jsonl").read_text().splitlines():
        record = json.loads(line)
        if record["question"] == question:
            return record
    raise KeyError(question)


def test_easy_offline_reads_the_statement_row(sample_service: Any, sample_dir: Path) -> None:
    q = "What were Cedar Ridge Energy's purchases of property, plant and equipment in FY2023?"
    a = ask(sample_service, engine(), q)
    assert a.pipeline == "easy" and a.trace["route"]["route"] == "easy"
    assert money(abs(CR[2023].cf.capex)) in a.text
    evidence = golden(sample_dir, q)["evidence"][0]
    assert (a.citations[0].doc_name, a.citations[0].page) == (evidence["doc_name"], evidence["evidence_page_num"] + 1)
    assert "property, plant and equipment" in a.citations[0].quote


def test_easy_offline_extractive_when_no_line_item(sample_service: Any) -> None:
    a = ask(sample_service, engine(), "What was Bluefin Foods Corporation formerly known as?")
    assert a.pipeline == "easy" and a.trace["answered_by"] == "extractive"
    assert BLUEFIN.former_name.split(",")[0] in a.text
    # labelled excerpts are supported but are not a computed answer: the trust score stays under the line
    assert a.kind == AnswerKind.EXCERPTS and a.text.startswith(EXCERPT_LABEL)
    assert a.supported and a.citations and a.faithfulness is not None and a.faithfulness < 0.7
    assert "excerpts, not a computed answer" in a.trace["trust"]["reasons"]


# --- easy, with an LLM ------------------------------------------------------------------------------


def test_easy_with_anthropic_cites_and_grounds(sample_service: Any, anthropic_server: FakeAnthropic) -> None:
    revenue = BF[2023].inc.revenue

    def reply(body: dict[str, Any]) -> str:
        label = source_label(body, "Net sales $")
        return f"Bluefin Foods' net sales were {money(revenue)} in fiscal 2023 [{label}]."

    anthropic_server.answer = reply
    a = ask(
        sample_service, engine(anthropic_llm(anthropic_server)), "What was Bluefin Foods' total revenue in fiscal 2023?"
    )
    assert a.pipeline == "easy" and a.trace["answered_by"] == "anthropic:claude-sonnet-4-6"
    assert a.text.startswith("Bluefin Foods' net sales were")
    (c,) = a.citations
    assert (c.doc_name, c.page) == (BF23, 9) and c.chunk_id
    assert f"{revenue:,}" in c.quote  # the line that supports the sentence, not the page's first characters
    assert a.faithfulness is not None and a.faithfulness >= 0.9 and a.unsupported_figures == []
    assert a.usage["input_tokens"] > 500 and a.usage["output_tokens"] > 0 and a.cost_usd > 0
    assert a.trace["llm"]["provider"] == "anthropic" and len(a.trace["llm_calls"]) == 1
    body = anthropic_server.last
    # one-off question: the system prompt is marked for caching, the sources are not
    assert "cache_control" in body["system"][0]
    assert not any("cache_control" in b for b in body["messages"][0]["content"])
    assert sum(len(b.get("text", "")) for b in body["messages"][0]["content"]) < 8_000 + 2_000


def test_provider_fallback_to_openai(
    sample_service: Any, anthropic_server: FakeAnthropic, openai_server: FakeOpenAI
) -> None:
    anthropic_server.fail_with(529, 529)
    openai_server.answer = lambda body: "Net sales were $5,648 million in fiscal 2023 [BLUEFINFOODS_2023_10K p.9]."
    llm = anthropic_llm(
        anthropic_server,
        providers=["anthropic", "openai", "extractive"],
        max_retries=1,
        openai_base_url=openai_server.url + "/v1",
        openai_api_key="test-key",
        openai_model="local-llama",
    )
    a = ask(sample_service, engine(llm), "What was Bluefin Foods' total revenue in fiscal 2023?")
    assert a.trace["answered_by"] == "openai:local-llama"
    failed = a.trace["llm"]["failed_attempts"]
    assert [f["provider"] for f in failed] == ["anthropic", "anthropic"]
    assert {f["error"] for f in failed} == {"OverloadedError"}
    assert a.faithfulness == 1.0 and a.citations[0].page == 9


def test_all_providers_down_answers_offline(sample_service: Any, anthropic_server: FakeAnthropic) -> None:
    anthropic_server.fail_with(500, 500, 500)
    a = ask(
        sample_service, engine(anthropic_llm(anthropic_server)), "What was Bluefin Foods Corporation formerly known as?"
    )
    assert a.trace["answered_by"] == "extractive"
    assert any("all LLM providers failed" in n for n in a.notes)
    assert [f["status"] for f in a.trace["llm"]["failed_attempts"]] == [500]
    assert BLUEFIN.former_name.split(",")[0] in a.text


def test_easy_falls_back_to_agentic_when_not_grounded(sample_service: Any, anthropic_server: FakeAnthropic) -> None:
    anthropic_server.answer = "Net sales were $9,999 million in fiscal 2023 [BLUEFINFOODS_2023_10K p.9]."
    a = ask(
        sample_service, engine(anthropic_llm(anthropic_server)), "What was Bluefin Foods' total revenue in fiscal 2023?"
    )
    assert a.pipeline == "agentic"
    assert money(BF[2023].inc.revenue) in a.text and "9,999" not in a.text
    easy, agentic = a.trace["pipelines_run"]
    assert easy["pipeline"] == "easy" and easy["unsupported_figures"] == ["$9,999 million"] and not easy["supported"]
    assert agentic["pipeline"] == "agentic" and agentic["supported"]
    assert a.trace["fallback"]["reason"].startswith("faithfulness 0.")
    assert a.cost_usd == pytest.approx(easy["cost_usd"] + agentic["cost_usd"]) and a.cost_usd > 0
    assert any("easy pipeline's answer was not used" in n for n in a.notes)


def test_requested_easy_mode_is_not_overridden(sample_service: Any, anthropic_server: FakeAnthropic) -> None:
    anthropic_server.answer = "Net sales were $9,999 million in fiscal 2023 [BLUEFINFOODS_2023_10K p.9]."
    eng = engine(anthropic_llm(anthropic_server))
    a = ask(sample_service, eng, "What was Bluefin Foods' total revenue in fiscal 2023?", mode="easy")
    assert a.pipeline == "easy" and a.trace["route"]["source"] == "override"
    assert a.unsupported_figures == ["$9,999 million"] and a.faithfulness is not None and a.faithfulness < 0.7
    assert "fallback" not in a.trace


# --- agentic, with an LLM ---------------------------------------------------------------------------

GOOD_WHY = (
    "Gross margin was 26.0% in fiscal 2023 compared with 25.0% in fiscal 2022 [{mdna}]. The improvement "
    "reflected pricing and productivity savings that more than offset cost inflation [{mdna}]."
)
BAD_WHY = "Gross margin improved to 31.5% in fiscal 2023 thanks to lower fish prices [{mdna}]."


def test_agentic_draft_check_correct(sample_service: Any, anthropic_server: FakeAnthropic) -> None:
    def reply(body: dict[str, Any]) -> str:
        mdna = source_label(body, "Gross margin was")
        return (GOOD_WHY if "<draft>" in user_text(body) else BAD_WHY).format(mdna=mdna)

    anthropic_server.answer = reply
    a = ask(
        sample_service,
        engine(anthropic_llm(anthropic_server)),
        "Why did Bluefin Foods' gross margin improve in fiscal 2023?",
    )
    assert a.pipeline == "agentic" and a.trace["answered_by"] == "anthropic:claude-sonnet-4-6"
    assert len(anthropic_server.requests) == 2
    attempts = a.trace["agentic"]["attempts"]
    assert attempts[0]["unsupported_figures"] == ["31.5%"] and attempts[1]["supported"]
    assert a.trace["agentic"]["iterations"] == 2
    assert "31.5%" not in a.text and "productivity savings" in a.text
    assert a.faithfulness is not None and a.faithfulness >= 0.7
    # the correction names the problem and re-sends the same sources: the second call reads the cache
    second = anthropic_server.requests[1].body
    assert "31.5%" in user_text(second) and "<draft>" in user_text(second)
    assert "calculator" in user_text(second)  # the calculator block with the computed margins
    calls = a.trace["llm_calls"]
    assert [c["step"] for c in calls] == ["draft", "correct 1"]
    assert calls[0]["usage"]["cache_creation_input_tokens"] > 0
    assert calls[1]["usage"]["cache_read_input_tokens"] > 0
    assert a.usage["input_tokens"] + a.usage["cache_read_input_tokens"] > 0
    assert a.cost_usd == pytest.approx(sum(c["cost_usd"] for c in calls), abs=1e-5)


def test_agentic_loop_is_bounded(sample_service: Any, anthropic_server: FakeAnthropic) -> None:
    anthropic_server.answer = lambda body: BAD_WHY.format(mdna=source_label(body, "Gross margin was"))
    eng = engine(anthropic_llm(anthropic_server), agentic_max_iterations=2)
    a = ask(sample_service, eng, "Why did Bluefin Foods' gross margin improve in fiscal 2023?")
    assert len(anthropic_server.requests) == 2
    # no draft was grounded: the calculator's answer is returned, with a note
    assert a.trace["answered_by"] == "calculator" and "31.5%" not in a.text
    assert "calculator's answer" in a.trace["agentic"]["fallback"]
    assert a.unsupported_figures == []
    assert a.cost_usd > 0  # the failed drafts were still paid for


def test_pure_metric_needs_no_llm_call(sample_service: Any, anthropic_server: FakeAnthropic) -> None:
    a = ask(
        sample_service,
        engine(anthropic_llm(anthropic_server)),
        "What is Bluefin Foods' FY2023 inventory turnover ratio?",
    )
    assert a.trace["answered_by"] == "calculator" and anthropic_server.requests == []
    assert a.cost_usd == 0.0


def test_agentic_plans_with_llm_when_no_metric_is_recognized(
    sample_service: Any, anthropic_server: FakeAnthropic
) -> None:
    def reply(body: dict[str, Any]) -> str:
        if "SEARCH:" in body["system"][0]["text"]:
            return "SEARCH: Bluefin Foods segment operating income fiscal 2023\nSEARCH: Bluefin Foods Frozen Meals"
        label = source_label(body, "Frozen Meals")
        return f"Frozen Meals grew fastest: its revenue increased 13.1% in fiscal 2023 [{label}]."

    anthropic_server.answer = reply
    q = "Which of Bluefin Foods' segments grew fastest in fiscal 2023, and why does it matter?"
    a = ask(sample_service, engine(anthropic_llm(anthropic_server)), q)
    assert a.pipeline == "agentic"
    steps = [c["step"] for c in a.trace["llm_calls"]]
    assert steps[0] == "plan" and steps[1] == "draft"
    assert [s["query"] for s in a.trace["agentic"]["searches"]][:1] == [
        "Bluefin Foods segment operating income fiscal 2023"
    ]
    assert "13.1%" in a.text and a.unsupported_figures == []


# --- pieces ---------------------------------------------------------------------------------------


def test_context_budget_focuses_long_pages(sample_service: Any) -> None:
    q = "What was Bluefin Foods' total revenue in fiscal 2023?"
    hits = sample_service.retrieve(q, top_k=10).hits
    blocks = context_blocks(q, hits, max_chars=3_000, block_chars=1_200)
    assert sum(len(b.text) for b in blocks) <= 3_000
    assert all(len(b.text) <= 1_200 for b in blocks)
    statement = next(b for b in blocks if "Net sales" in b.text)
    assert "2023 2022" in statement.text  # the column years stay with the rows


def test_answer_is_json_serialisable(sample_service: Any) -> None:
    a = ask(sample_service, engine(), "What is Bluefin Foods' FY2023 days payable outstanding?")
    json.dumps(a.model_dump(mode="json"))


def test_nothing_retrieved_costs_nothing(anthropic_server: FakeAnthropic) -> None:
    from finrag.records import Scope
    from finrag.retrieve.retriever import RetrievalResult

    eng = engine(anthropic_llm(anthropic_server))
    a = eng.answer("What was revenue in FY2023?", RetrievalResult(hits=[], scope=Scope(), queries=[]), "auto")
    assert anthropic_server.requests == [] and a.cost_usd == 0.0
    assert "could not find" in a.text and a.citations == []


# --- serving policy, registry -------------------------------------------------------------------


def test_an_answer_with_unsupported_figures_is_withheld(sample_service: Any, anthropic_server: FakeAnthropic) -> None:
    # the requested mode runs alone (no escalation): its draft states a figure that is not on the page
    revenue = money(BF[2023].inc.revenue)
    anthropic_server.answer = f"Net sales were {revenue}, up from $9,999 million [BLUEFINFOODS_2023_10K p.9]."
    q = "What was Bluefin Foods' total revenue in fiscal 2023?"
    a = ask(sample_service, engine(anthropic_llm(anthropic_server)), q, mode="easy")
    assert a.supported is False and a.unsupported_figures == ["$9,999 million"]
    assert a.text.startswith("No supported answer") and "$9,999 million" in a.text
    # the supported figure and the page to read are given; the draft is kept for the trace only
    assert f"Figures found on the cited pages: {revenue}." in a.text
    assert "Pages to read: [BLUEFINFOODS_2023_10K p.9]." in a.text
    assert a.trace["withheld_draft"] == anthropic_server.answer
    assert any("answer withheld" in n for n in a.notes)


def test_a_supported_answer_is_served_as_written(sample_service: Any, anthropic_server: FakeAnthropic) -> None:
    revenue = money(BF[2023].inc.revenue)
    anthropic_server.answer = f"Net sales were {revenue} in fiscal 2023 [BLUEFINFOODS_2023_10K p.9]."
    a = ask(
        sample_service,
        engine(anthropic_llm(anthropic_server)),
        "What was Bluefin Foods' total revenue in fiscal 2023?",
        "easy",
    )
    assert a.supported and a.text == anthropic_server.answer and "withheld_draft" not in a.trace


def test_a_registered_pipeline_is_a_mode(sample_service: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from finrag.answer import registry
    from finrag.answer.request import AnswerRequest, Pipeline

    seen: list[AnswerRequest] = []

    class Echo:
        name = "echo"

        def run(self, request: AnswerRequest) -> Answer:
            seen.append(request)
            return Answer(question=request.question, text="no figures here", pipeline=self.name, supported=True,
                          faithfulness=1.0)  # fmt: skip

    registry.names()  # built-ins first
    monkeypatch.setitem(registry._FACTORIES, "echo", lambda llm, s, built: Echo())
    assert registry.modes()[-1] == "echo" and isinstance(Echo(), Pipeline)
    q = "What was Bluefin Foods' inventory turnover ratio in FY2023?"
    a = ask(sample_service, engine(), q, mode="echo")
    assert a.pipeline == "echo" and a.trace["route"]["route"] == "echo" and a.trace["route"]["source"] == "override"
    # the request carries the question read once: the metric plan, the fiscal year
    assert seen[0].facts.plan is not None and seen[0].facts.metric == "inventory turnover ratio"
    assert seen[0].facts.years == (2023,)
    with pytest.raises(ValueError, match="unknown answer mode 'nope'"):
        ask(sample_service, engine(), q, mode="nope")
