"""Router: rules and keywords, the mode override, and the optional LLM classifier (fake Anthropic server)."""

from __future__ import annotations

import pytest

from finrag.answer.router import Route, Router, llm_classifier
from finrag.llm import FallbackChain
from finrag.llm.anthropic_provider import AnthropicProvider
from finrag.records import Scope
from finrag.settings import DEFAULT_PRICES
from tests.fakes import fixtures
from tests.fakes.anthropic_server import FakeAnthropic

anthropic_server = fixtures.anthropic_server


@pytest.mark.parametrize(
    "question",
    [
        "What was Bluefin Foods' total revenue in fiscal 2023?",
        "What were Northwind Robotics' total assets at the end of FY2023?",
        "How much did Cedar Ridge Energy pay in dividends in FY2023?",
        "What was Bluefin Foods Corporation formerly known as?",
        "Has Cedar Ridge Energy reported any material ongoing legal battles in FY2022?",
    ],
)
def test_single_lookups_are_easy(question: str) -> None:
    d = Router().route(question)
    assert d.route == Route.EASY and d.source == "rules"
    assert d.reason.startswith("easy:")


@pytest.mark.parametrize(
    ("question", "signal"),
    [
        ("What was Bluefin Foods' gross margin in fiscal 2023?", "ratio"),
        ("What is Bluefin Foods' FY2019 fixed asset turnover ratio?", "ratio"),
        ("What is Cedar Ridge Energy's FY2018 days payable outstanding (DPO)?", "ratio"),
        ("What is Northwind Robotics' FY2021 net working capital?", "ratio"),
        ("Is Northwind Robotics a capital-intensive business, judging by FY2022 data?", "ratio"),
        ("By what percentage did Northwind Robotics' revenue grow in FY2023?", "growth"),
        ("Why did Bluefin Foods' gross margin improve in fiscal 2023?", "why"),
        ("What drove the increase in Bluefin Foods' merchandise inventories?", "why"),
        ("Which region had the worst topline performance for Bluefin Foods during FY2022?", "comparison"),
        ("How does Cedar Ridge Energy's effective tax rate in FY2022 compare to FY2021?", "several periods"),
        ("What was revenue in FY2021 and FY2022?", "several periods"),
    ],
)
def test_composed_questions_are_agentic(question: str, signal: str) -> None:
    d = Router().route(question)
    assert d.route == Route.AGENTIC, d.reason
    assert signal in d.signals
    assert d.reason.startswith("agentic:")


def test_several_companies_in_scope_are_agentic() -> None:
    scope = Scope(companies=["Bluefin Foods Corporation", "Northwind Robotics, Inc."])
    d = Router().route("What was total revenue in fiscal 2023?", scope=scope)
    assert d.route == Route.AGENTIC and "several companies" in d.signals


@pytest.mark.parametrize(
    "question",
    [
        "What does the chart of segment revenue show for Bluefin Foods?",
        "Describe the bar graph of quarterly sales in the 2023 annual report.",
        "What is in the table on page 10 of Bluefin Foods' FY2023 10-K?",
        "Which colour is used for the Foodservice segment in the pie chart?",
    ],
)
def test_visual_questions_go_to_vision(question: str) -> None:
    d = Router().route(question)
    assert d.route == Route.VISION, d.reason
    assert d.reason.startswith("vision: mentions")


def test_statement_wording_is_not_visual() -> None:
    # FinanceBench phrasing: "details shown in the balance sheet" is about data, not a picture
    q = "What is the FY2017 ROA for Coca Cola? Give a response by relying on the details shown in the balance sheet."
    assert Router().route(q).route == Route.AGENTIC


@pytest.mark.parametrize("mode", ["easy", "agentic", "vision"])
def test_mode_override(mode: str) -> None:
    d = Router().route("What was Bluefin Foods' gross margin in fiscal 2023?", mode=mode)
    assert d.route == Route(mode) and d.source == "override"
    assert mode in d.reason


def test_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown answer mode"):
        Router().route("What was revenue?", mode="fast")


def test_classifier_hook_is_off_by_default() -> None:
    calls: list[str] = []

    def classifier(q: str) -> Route:
        calls.append(q)
        return Route.VISION

    assert Router(classifier).route("What was revenue in FY2023?").route == Route.EASY
    assert calls == []
    d = Router(classifier, use_classifier=True).route("What was revenue in FY2023?")
    assert d.route == Route.VISION and d.source == "llm" and "overrides rules" in d.reason
    assert calls == ["What was revenue in FY2023?"]


def test_classifier_failure_falls_back_to_rules() -> None:
    def broken(q: str) -> Route:
        raise RuntimeError("boom")

    d = Router(broken, use_classifier=True).route("What was Bluefin Foods' gross margin in fiscal 2023?")
    assert d.route == Route.AGENTIC and d.source == "rules"
    assert any("classifier failed" in s for s in d.signals)


def test_llm_classifier_with_fake_anthropic(anthropic_server: FakeAnthropic) -> None:
    anthropic_server.answer = "vision"
    provider = AnthropicProvider("test-key", "claude-sonnet-4-6", base_url=anthropic_server.url, prices=DEFAULT_PRICES)
    router = Router(llm_classifier(FallbackChain([provider], retries=0)), use_classifier=True)
    d = router.route("What was Bluefin Foods' total revenue in fiscal 2023?")
    assert d.route == Route.VISION and d.source == "llm"
    assert d.response is not None and d.response.cost_usd > 0  # counted in the answer's cost
    body = anthropic_server.last
    assert body["max_tokens"] == 5
    assert "one word" in body["system"][0]["text"]


def test_llm_classifier_unparseable_reply_keeps_rules(anthropic_server: FakeAnthropic) -> None:
    anthropic_server.answer = "I am not sure."
    provider = AnthropicProvider("test-key", "claude-sonnet-4-6", base_url=anthropic_server.url)
    router = Router(llm_classifier(FallbackChain([provider], retries=0)), use_classifier=True)
    d = router.route("What was Bluefin Foods' gross margin in fiscal 2023?")
    assert d.route == Route.AGENTIC and d.source == "rules"


def test_llm_classifier_provider_down_keeps_rules(anthropic_server: FakeAnthropic) -> None:
    anthropic_server.fail_with(500)
    provider = AnthropicProvider("test-key", "claude-sonnet-4-6", base_url=anthropic_server.url)
    router = Router(llm_classifier(FallbackChain([provider], retries=0)), use_classifier=True)
    assert router.route("What was revenue in FY2023?").route == Route.EASY
