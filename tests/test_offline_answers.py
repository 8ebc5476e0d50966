"""The offline answerer (no LLM), per question family, on the sample filings: period-aware figures,
yes/no decided by a computed figure or a filing sentence, labelled excerpts, refusals, ask-which-company."""

from __future__ import annotations

import re
from typing import Any

import pytest

from finrag.answer.extractive import EXCERPT_LABEL, ExtractiveAnswerer
from finrag.finance.judgement import RULES, decide, rule_for
from finrag.finance.metrics import ITEMS
from finrag.finance.periods import header_durations
from finrag.finance.statements import find_in_page
from finrag.records import AnswerKind, Chunk, ChunkKind, Hit, Scope

pytestmark = pytest.mark.usefixtures("sample_service")

_TEN_Q = """NORTHWIND ROBOTICS, INC.
Condensed Consolidated Statements of Income
(In millions, except per share amounts)
Three Months Ended Nine Months Ended
September 30, September 30,
2023 2022 2023 2022
Revenue $ 1,074 $ 959 $ 3,114 $ 2,781
Net income $ 138 $ 104 $ 398 $ 300
"""
_TEN_K = """NORTHWIND ROBOTICS, INC.
Consolidated Statements of Income
(In millions)
Years Ended December 31,
2023 2022
Revenue $ 4,295 $ 3,835
"""


def _money(text: str) -> list[float]:
    return [float(m.replace(",", "")) for m in re.findall(r"\$(-?[\d,]+(?:\.\d+)?) million", text)]


# --- period grammar and column choice ---------------------------------------------------------------
def test_period_headers_name_their_column_groups() -> None:
    assert header_durations("Three Months Ended Nine Months Ended") == [3, 9]
    assert header_durations("13 Weeks Ended 39 Weeks Ended") == [3, 9]
    assert header_durations("Three months ended Twelve months ended") == [3, 12]
    assert header_durations("Years Ended December 31,") == [12]
    assert header_durations("2023 2022 2023 2022") == []


def test_the_column_of_the_period_asked_is_read() -> None:
    def values(item: str, text: str, months: int | None) -> list[float]:
        return [v for _s, v, *_ in find_in_page(ITEMS[item], 2023, text, filing_year=2023, months=months)]

    assert values("revenue", _TEN_Q, 3) == [1074e6]
    assert values("net_income", _TEN_Q, 9) == [398e6]
    assert values("revenue", _TEN_Q, 12) == []  # a quarterly report's table holds no full year
    assert values("revenue", _TEN_K, 3) == []  # nor an annual table a quarter
    assert values("revenue", _TEN_K, 12) == [4295e6]


def test_quarter_and_nine_month_questions_get_their_own_figures(sample_service: Any) -> None:
    q3 = sample_service.ask("What was Northwind Robotics' revenue for the three months ended September 30, 2023?")
    assert q3.kind == AnswerKind.FIGURE
    assert _money(q3.text)[0] == 1074 and "4,295" not in q3.text
    assert "three months" in q3.text and q3.citations and "10Q" in q3.citations[0].doc_name
    ytd = sample_service.ask("What was Northwind Robotics' net income for the nine months ended September 30, 2023?")
    assert _money(ytd.text)[0] == 398


# --- yes/no -----------------------------------------------------------------------------------------
def test_yes_no_rules_are_data_and_decide_only_on_a_figure() -> None:
    assert {r.name for r in RULES} >= {"healthy liquidity", "capital intensive", "positive", "rose", "stable"}
    liquidity = rule_for("Does Northwind Robotics keep a healthy liquidity position, judged by its quick ratio?")
    assert liquidity is not None and decide(liquidity, 0.54) is False and decide(liquidity, 1.3) is True
    rose = rule_for("Did Bluefin Foods grow its PP&E from FY2022 to FY2023?")
    assert rose is not None and decide(rose, 14.9e9, change=8.3) is True and decide(rose, 1.0, change=None) is None
    stable = rule_for("Are margins consistent (not fluctuating more than roughly 3% each year)?")
    assert stable is not None and stable.threshold_in("not fluctuating more than roughly 3% each year") == 3.0
    assert rule_for("Did wages as a percent of sales increase or decrease in FY2023?") is None


def test_a_growth_question_is_answered_yes_with_its_figures(sample_service: Any) -> None:
    ans = sample_service.ask("Did Northwind Robotics' revenue grow in FY2022?")
    assert ans.kind == AnswerKind.YES_NO
    assert ans.text.startswith("Yes.")
    assert {3835.0, 3306.0} <= set(_money(ans.text)) and ans.citations


def test_threshold_and_sign_questions_follow_the_computed_figure(sample_service: Any) -> None:
    capex = sample_service.ask("Is Northwind Robotics a capital-intensive business based on FY2022 data?")
    assert capex.kind == AnswerKind.YES_NO
    share = float(re.search(r"was (\d+(?:\.\d+)?)%", capex.text).group(1))  # type: ignore[union-attr]
    assert capex.text.startswith("Yes." if share >= 10 else "No.")
    wc = sample_service.ask("Does Cedar Ridge Energy have positive working capital in FY2023?")
    assert wc.kind == AnswerKind.YES_NO
    value = _money(wc.text.split("\n")[1])[0]
    assert wc.text.startswith("Yes." if value > 0 else "No.")


def _hit(text: str, section: str, doc: str = "ACME_2022_10K") -> Hit:
    chunk = Chunk(
        id=f"{doc}-{section}",
        doc_id=doc,
        tenant="t",
        kind=ChunkKind.PAGE,
        text=text,
        page_start=40,
        page_end=40,
        metadata={"doc_name": doc, "section_key": section, "company": "Acme Corp"},
    )
    return Hit(chunk=chunk, score=1.0)


_LEGAL = (
    "Multiple legal actions have been filed against us as a result of the recall of our products. "
    "We cannot reasonably estimate a range of loss."
)


def test_a_legal_question_is_answered_yes_by_a_sentence_of_the_legal_note() -> None:
    q = "Has Acme reported any ongoing legal battles in FY2022?"
    ans = ExtractiveAnswerer().answer(q, [_hit(_LEGAL, "notes_contingencies")], Scope(companies=["Acme Corp"]))
    assert ans.kind == AnswerKind.YES_NO and ans.text.startswith("Yes.")
    assert "legal actions have been filed against us" in ans.text and ans.citations[0].page == 41
    # the same words in the risk factors decide nothing: a risk is not a reported proceeding
    risk = ExtractiveAnswerer().answer(q, [_hit(_LEGAL, "risk_factors")], Scope(companies=["Acme Corp"]))
    assert risk.kind == AnswerKind.EXCERPTS and risk.text.startswith(EXCERPT_LABEL)


# --- qualitative, refusal, company missing -------------------------------------------------------------
def test_qualitative_questions_get_labelled_excerpts_from_the_intended_section(sample_service: Any) -> None:
    ans = sample_service.ask("Who are Bluefin Foods' primary customers?")
    assert ans.kind == AnswerKind.EXCERPTS
    assert ans.text.startswith(EXCERPT_LABEL)
    body = ans.text.split("\n")[1:]
    assert body and "customer" in body[0].lower()


def test_no_matching_sentence_is_an_explicit_refusal_naming_pages() -> None:
    hit = _hit("Property, plant and equipment is depreciated on a straight-line basis.", "notes")
    ans = ExtractiveAnswerer().answer("Who chairs the audit committee?", [hit], Scope())
    assert ans.kind == AnswerKind.REFUSAL
    assert "Pages to read: ACME_2022_10K p.41" in ans.text and "LLM" in ans.text


def test_a_question_naming_no_company_asks_which(sample_service: Any) -> None:
    ans = sample_service.ask("What was revenue in FY2022?")
    assert ans.kind == AnswerKind.REFUSAL
    assert ans.text.startswith("Which company do you mean?")
    assert "Northwind Robotics" in ans.text or "Bluefin Foods" in ans.text


def test_the_value_after_a_change_is_read_from_the_sentence_stating_it(sample_service: Any) -> None:
    ans = sample_service.ask(
        "What is the total revolving commitment under Cedar Ridge Energy's credit agreement after the amendment "
        "reported in its November 2023 8-K?"
    )
    assert ans.kind == AnswerKind.FIGURE
    assert ans.text.startswith("$1,250 million") and "from $750 million to $1,250 million" in ans.text
    assert "8K" in ans.citations[0].doc_name


def test_a_superlative_over_segments_names_the_winner_with_the_figures(sample_service: Any) -> None:
    ans = sample_service.ask("Which segment of Northwind Robotics had the highest operating income in FY2022?")
    assert ans.kind == AnswerKind.COMPARISON
    assert ans.text.startswith("Industrial Automation had the highest operating income in FY2022: $318 million")
    assert "Logistics Systems $164 million" in ans.text and "Corporate" not in ans.text
    low = sample_service.ask("Which segment of Northwind Robotics had the lowest revenue in FY2022?")
    assert low.text.startswith("Software and Services had the lowest revenue in FY2022: $614 million")


def test_a_sentence_printing_the_measure_asked_next_to_an_amount_comes_first() -> None:
    gain = _hit(
        "Acme will report its Coatings division as a discontinued operation and expects a gain of about "
        "$1.1 billion on the sale of the Coatings division to Northwind Robotics.",
        "mda",
    )
    proceeds = _hit("Acme received $2.4 billion in net proceeds from the transaction.", "mda", "ACME_8K")
    q = "What is the amount of the net proceeds Acme received from the sale of its Coatings division?"
    ans = ExtractiveAnswerer().answer(q, [gain, proceeds], Scope(companies=["Acme Corp"]))
    assert ans.kind == AnswerKind.EXCERPTS
    assert ans.text.split("\n")[1].startswith("Acme received $2.4 billion in net proceeds")
