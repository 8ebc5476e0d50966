"""Offline comparisons and superlatives over table rows, and the excerpts a qualitative question gets:
tables titled by the measure (not only a heading line), period-aware columns, growth rankings, candidates
the question names, causal sentences ranked by what the question is about. Pages are written here, in
our own words, for the sample companies."""

from __future__ import annotations

import re
from typing import Any

import pytest

from finrag.answer.context import TenantContext
from finrag.answer.engine import _cited_texts
from finrag.answer.extractive import EXCERPT_LABEL, ExtractiveAnswerer, _units
from finrag.finance.compare import candidate_members, column, ranked_members, read_superlative
from finrag.records import Answer, AnswerKind, Chunk, ChunkKind, Citation, Hit, Scope

# A supplemental schedule: the measure is named by the table title, the columns by a period header over
# multi-line dates, the amounts in thousands, rows with footnote marks, a corporate row and a total.
_SCHEDULE = """BLUEFIN FOODS, INC.
SUPPLEMENTAL DATA - NET SALES
(In thousands)
Three months ended Twelve months ended
December 31,
2023
December 31,
2022
December 31,
2023
December 31,
2022
Coastal Markets $ 410,000 $ 380,000 $ 1,500,000 $ 1,400,000
Inland Markets(1) 250,000 200,000 1,000,000 800,000
Export Markets 90,000 120,000 420,000 600,000
Corporate and other operations 5,000 4,000 18,000 16,000
$ 755,000 $ 704,000 $ 2,938,000 $ 2,816,000
BLUEFIN FOODS, INC.
SUPPLEMENTAL DATA - SEGMENT EBITDA
(In thousands)
Three months ended Twelve months ended
December 31,
2023
December 31,
2022
December 31,
2023
December 31,
2022
Coastal Markets $ 61,000 $ 58,000 $ 240,000 $ 230,000
Inland Markets 70,000 31,000 210,000 150,000
Export Markets (4,000) 9,000 (12,000) 45,000
Corporate (20,000) (18,000) (80,000) (75,000)
"""

_CASH_FLOWS = """CEDAR RIDGE ENERGY CORPORATION
Consolidated Statements of Cash Flows
$ in millions
Fiscal Years Ended January 28, 2023 January 29, 2022 January 30, 2021
Operating activities
Net earnings $ 410 $ 380 $ 300
Depreciation 120 110 100
Total cash provided by operating activities 655 590 470
Investing activities
Additions to property and equipment (300) (250) (200)
Total cash used in investing activities (310) (262) (205)
Financing activities
Repurchase of common stock (420) (100) (50)
Total cash used in financing activities (515) (190) (95)
"""

_ANNUAL_ONLY = """NORTHWIND ROBOTICS, INC.
Segment operating income
(In millions)
2023 2022
Industrial Automation $ 340 $ 318
Logistics Systems 170 164
"""


def _hit(text: str, doc: str = "BLUEFIN_2023_10K", page: int = 12, fy: int = 2023) -> Hit:
    chunk = Chunk(
        id=f"{doc}-{page}",
        doc_id=doc,
        tenant="t",
        kind=ChunkKind.PAGE,
        text=text,
        page_start=page,
        page_end=page,
        metadata={"doc_name": doc, "company": "Bluefin Foods, Inc.", "fiscal_year": fy},
    )
    return Hit(chunk=chunk, score=1.0)


def _ask(question: str, text: str) -> Answer:
    return ExtractiveAnswerer().answer(question, [_hit(text)], Scope(companies=["Bluefin Foods, Inc."]))


# --- reading the question -------------------------------------------------------------------------
def test_a_comparison_question_is_read_into_direction_measure_growth_and_candidates() -> None:
    s = read_superlative("Which market had the highest segment EBITDA for Bluefin Foods in FY2023?")
    assert s is not None and s.highest and s.measure == "segment EBITDA" and not s.growth
    s = read_superlative("Which market had the weakest topline performance for Bluefin Foods in FY2023?")
    assert s is not None and not s.highest and s.growth
    s = read_superlative("Which segment of Northwind Robotics grew fastest in FY2022?")
    assert s is not None and s.highest and s.growth and s.measure == "revenue"
    s = read_superlative(
        "Among operating, investing and financing activities, which provided the most cash for Cedar Ridge Energy?"
    )
    assert s is not None and s.candidates == ("operating", "investing", "financing activities")
    s = read_superlative("Which market had the biggest decline in net sales for Bluefin Foods in FY2023?")
    assert s is not None and s.growth and not s.highest and s.measure == "net sales"
    assert s.phrase == "biggest decline in net sales"
    assert read_superlative("What was Bluefin Foods' net sales in FY2023?") is None
    # a company's name is not a superlative ("Top" of "Top Line Foods")
    assert read_superlative("What did Top Line Foods acquire in FY2023?", ["Top Line Foods, Inc."]) is None
    assert read_superlative("What did Top Line Foods acquire in FY2023?") is not None


# --- the column of the year and the period asked --------------------------------------------------
def test_the_column_is_the_year_asked_within_the_period_asked() -> None:
    years, groups = [2023, 2022, 2023, 2022], [3, 12]
    assert column(years, groups, 2023, None) == 2  # a fiscal year: the twelve-month group
    assert column(years, groups, 2023, 3) == 0  # a quarter: the three-month group
    assert column(years, groups, 2023, 9) is None  # no nine-month group: nothing, not the annual column
    assert column([2023, 2022], [], 2022, None) == 1
    assert column([2023, 2022], [], 2023, 3) is None  # a table that names no period is annual
    assert column([2023, 2022, 2023, 2022], [], 2023, None) is None  # repeated years, no period: ambiguous


def test_segments_are_ranked_from_the_table_the_title_names_in_the_annual_column() -> None:
    top = ranked_members(_SCHEDULE, "segment EBITDA", 2023)
    assert [m.label for m in top] == ["Coastal Markets", "Inland Markets", "Export Markets"]  # no corporate row
    assert top[0].value == 240_000_000 and top[-1].value == -12_000_000
    sales = ranked_members(_SCHEDULE, "net sales", 2023)
    assert [m.label for m in sales][:1] == ["Coastal Markets"] and sales[0].value == 1_500_000_000
    assert "Inland Markets" in [m.label for m in sales]  # the footnote mark "(1)" does not end the group


def test_a_quarter_question_ranks_the_quarter_column_never_the_annual_one() -> None:
    ans = _ask(
        "Which market had the highest segment EBITDA for Bluefin Foods in the fourth quarter of 2023?", _SCHEDULE
    )
    assert ans.kind == AnswerKind.COMPARISON
    assert ans.text.startswith("Inland Markets had the highest segment EBITDA in the three months of FY2023: $70")
    assert "240" not in ans.text and "210" not in ans.text  # the annual cells
    annual_only = _ask("Which segment had the highest operating income in the third quarter of 2023?", _ANNUAL_ONLY)
    assert annual_only.kind != AnswerKind.COMPARISON  # an annual table does not answer a quarter
    assert not re.search(r"\$340", annual_only.text.split("\n")[0])


def test_growth_rankings_log_each_change_as_a_calculation_on_cited_cells() -> None:
    ans = _ask("Which market had the weakest topline performance for Bluefin Foods in FY2023?", _SCHEDULE)
    assert ans.kind == AnswerKind.COMPARISON
    first = ans.text.split("\n")[0]
    assert first.startswith("Export Markets had the weakest topline performance in FY2023: -30.0%")
    steps = ans.trace["calculations"]
    assert len(steps) == 3 and {s["op"] for s in steps} == {"pct_change"}
    by_name = {s["inputs"][0]["name"]: s["result"] for s in steps}
    assert by_name["Inland Markets FY2023"] == pytest.approx(25.0)
    assert by_name["Coastal Markets FY2023"] == pytest.approx(100 * (1_500 - 1_400) / 1_400)
    assert "Export Markets: $420 million in FY2023, $600 million in FY2022 (-30.0%)" in ans.text
    fell = _ask("Which market had the biggest decline in net sales for Bluefin Foods in FY2023?", _SCHEDULE)
    assert fell.text.startswith("Export Markets had the biggest decline in net sales in FY2023: -30.0%")


def test_candidates_the_question_names_are_read_from_their_own_rows() -> None:
    q = "Among operating, investing and financing activities, which provided the most cash for Cedar Ridge in FY2023?"
    sup = read_superlative(q)
    assert sup is not None
    members = candidate_members(_CASH_FLOWS, sup, 2023)
    assert [m.label for m in members] == [
        "Total cash provided by operating activities",
        "Total cash used in investing activities",
        "Total cash used in financing activities",
    ]
    ans = _ask(q, _CASH_FLOWS)
    assert ans.kind == AnswerKind.COMPARISON and "$655 million" in ans.text.split("\n")[0]
    least = _ask(q.replace("most", "least"), _CASH_FLOWS)
    assert least.text.startswith("Total cash used in financing activities had the least cash in FY2023: -$515 million")


def test_the_sample_filing_answers_which_segment_grew_fastest(sample_service: Any) -> None:
    ans = sample_service.ask("Which segment of Northwind Robotics grew fastest in FY2022?")
    assert ans.kind == AnswerKind.COMPARISON, ans.text
    rows = re.findall(
        r"^(.+?): \$[\d,.]+ million in FY2022, \$[\d,.]+ million in FY2021 \(([+-][\d.]+)%\)", ans.text, re.M
    )
    assert len(rows) == 3
    growth = {name: float(g) for name, g in rows}
    winner = ans.text.split(" had the fastest")[0]
    assert growth[winner] == max(growth.values())
    assert ans.faithfulness is not None and ans.faithfulness >= 0.9  # the changes check as calculations
    assert not ans.unsupported_figures


# --- qualitative questions: excerpts about what is asked ----------------------------------------------
def test_a_why_question_quotes_the_causal_sentence_about_its_subject() -> None:
    page = (
        "Gross margin improved to 31.0% compared to 30.2%, primarily due to lower freight costs and a "
        "favorable mix of products.\n"
        "Inventories at the end of fiscal 2023 totaled $1.6\n"
        "billion compared to $1.4 billion at the end of fiscal 2022. The $200 million increase was primarily\n"
        "due to the opening of 30 new distribution centers and higher product costs.\n"
        "We expect inventories to remain elevated while we open new centers."
    )
    ans = _ask("What drove the increase in Bluefin Foods' inventories at the end of FY2023?", page)
    assert ans.kind == AnswerKind.EXCERPTS and ans.text.startswith(EXCERPT_LABEL)
    first = ans.text.split("\n")[1]
    # the wrapped line "... totaled $1.6" is prose, not a table row, and "The $200 million increase ..."
    # is quoted with the sentence it points back to
    assert first.startswith("Inventories at the end of fiscal 2023 totaled $1.6 billion")
    assert "opening of 30 new distribution centers" in first


def test_a_pointing_back_sentence_is_kept_with_the_one_before() -> None:
    hit = _hit(
        "Sales by domestic companies were $48.0 billion in 2023 and $46.0 billion in 2022. This represents an "
        "increase of 4.3% in 2023."
    )
    units = [u[0] for u in _units(hit)]
    assert units == [
        "Sales by domestic companies were $48.0 billion in 2023 and $46.0 billion in 2022. This represents an "
        "increase of 4.3% in 2023."
    ]


# --- the trust score reads the whole cited page -------------------------------------------------------
def test_cited_texts_are_whole_pages_not_only_the_retrieved_chunk() -> None:
    page = "Consolidated Statements of Income\n(In millions)\n2023 2022\nIncome before income taxes 1,797 2,426\n"
    part = Chunk(
        id="c1",
        doc_id="d1",
        tenant="t",
        kind=ChunkKind.TABLE,
        text="Provision for income taxes (411) (491)",
        page_start=57,
        page_end=57,
        metadata={"doc_name": "CEDAR_2023_10K"},
    )
    ctx = TenantContext(tenant="t", read_page=lambda doc, p: page if (doc, p) == ("d1", 57) else None)
    answer = Answer(
        question="q",
        text="Income before income taxes was $1,797 million [CEDAR_2023_10K p.58].",
        citations=[Citation(doc_id="d1", doc_name="CEDAR_2023_10K", page=58, chunk_id="c1", quote="x", score=1.0)],
    )
    hits = [Hit(chunk=part, score=1.0)]
    assert "1,797" not in _cited_texts(answer, hits, ctx)["CEDAR_2023_10K p.58"]  # the chunk alone
    texts = _cited_texts(answer, hits, ctx, whole_pages=True)
    assert "1,797" in texts["CEDAR_2023_10K p.58"] and "(411)" in texts["CEDAR_2023_10K p.58"]


def test_a_why_question_answered_only_by_table_rows_is_a_refusal_naming_pages() -> None:
    rows = (
        "Consolidated Statements of Income\n(In millions)\n2023 2022\n"
        "Net revenues $ 5,210 $ 4,880\nPretax income 1,020 990\n"
    )
    ans = _ask("What drove Bluefin Foods' gross margin change in FY2023?", rows)
    assert ans.kind == AnswerKind.REFUSAL
    assert "Pages to read: BLUEFIN_2023_10K p.13" in ans.text and "explain the causes" in ans.text
    assert not ans.text.startswith(EXCERPT_LABEL)


# --- yes/no on the change of a row the question names ---------------------------------------------------
def test_did_a_named_row_rise_is_decided_by_its_two_year_cells() -> None:
    up = _ask("Did Bluefin Foods' Inland Markets net sales increase between FY2022 and FY2023?", _SCHEDULE)
    assert up.kind == AnswerKind.YES_NO
    assert up.text.startswith("Yes. Inland Markets rose from $800 million in FY2022 to $1,000 million in FY2023")
    assert up.trace["calculations"][0]["result"] == pytest.approx(25.0)
    # the same label under the EBITDA title: the question's measure picks the group
    drop = _ask("Is there a drop in Export Markets segment EBITDA in FY2023?", _SCHEDULE)
    assert drop.text.startswith("Yes. Export Markets fell from $45 million in FY2022 to -$12 million in FY2023")
    quarter = _ask("Did Coastal Markets net sales grow in the fourth quarter of 2023?", _SCHEDULE)
    assert quarter.text.startswith("Yes. Coastal Markets rose from $380 million in the three months of FY2022")
    # an outlook is not decided by last year's columns
    outlook = _ask("Are Export Markets net sales expected to increase in FY2024?", _SCHEDULE)
    assert outlook.kind != AnswerKind.YES_NO


def test_a_two_sided_comparison_quotes_a_sentence_about_each_side() -> None:
    page = (
        "Total sales grew 4.0% in 2023, and the five-year growth rates for domestic and export sales were 3.1% "
        "and 5.2%, respectively.\n"
        "The ten-year growth rates for domestic and export sales were 2.9% and 4.8%, respectively.\n"
        "Sales by domestic operations were $3.2 billion in 2023 and $3.0 billion in 2022.\n"
        "Sales by export operations declined 2.5% in 2023 as freight costs rose."
    )
    ans = _ask("How did Bluefin Foods' domestic sales growth compare to export sales growth in FY2023?", page)
    assert ans.kind == AnswerKind.EXCERPTS
    quotes = ans.text.split("\n")[1:3]
    assert quotes[0].startswith("Sales by domestic operations were $3.2 billion")
    assert quotes[1].startswith("Sales by export operations declined 2.5%")


# --- segment results written as prose, over two pages ---------------------------------------------------
_PROSE_P1 = """Full Year 2023 Highlights:
Coastal Markets
• Net sales of $1.5 billion in the current year compared to $1.4 billion in the prior year, an
increase of 7%;
• Segment EBITDA of $240 million in the current year compared to $230 million in the prior year.
"""
_PROSE_P2 = """Inland Markets
• Net sales of $1.0 billion in the current year compared to $800 million in the prior year;
• Segment EBITDA of $210 million in the current year compared to $150 million in the prior year.
Export Markets
• Net sales of $420 million in the current year compared to $600 million in the prior year; and
• Export Markets segment EBITDA loss of $12 million in the current year compared to segment EBITDA of
$45 million in the prior year.
"""
_PROSE_PARAGRAPHS = """Segment Results
Coastal Markets revenue increased 7.1% to $1,500 million in fiscal 2023. Segment operating income was
$240 million, or 16.0% of segment revenue, compared with $230 million in fiscal 2022.
Inland Markets revenue increased 25.0% to $1,000 million in fiscal 2023. Segment operating income was $210
million, or 21.0% of segment revenue, compared with $150 million in fiscal 2022.
Liquidity and Capital Resources
At December 31, 2023, we had cash and cash equivalents of $900 million. Net cash provided by operating
activities was $700 million compared with $650 million, driven by net income of $400 million.
"""


def test_segment_results_written_as_prose_over_two_pages_are_ranked() -> None:
    hits = [_hit(_PROSE_P2, page=5), _hit(_PROSE_P1, page=4)]
    scope = Scope(companies=["Bluefin Foods, Inc."])
    q = "Which market had the lowest segment EBITDA for Bluefin Foods in FY2023?"
    ans = ExtractiveAnswerer().answer(q, hits, scope)
    assert ans.kind == AnswerKind.COMPARISON
    lines = ans.text.split("\n")
    assert lines[0] == (
        "Export Markets had the lowest segment EBITDA in FY2023: a loss of $12 million [BLUEFIN_2023_10K p.6]."
    )
    assert [ln.split(":")[0] for ln in lines[1:]] == ["Export Markets", "Inland Markets", "Coastal Markets"]
    assert lines[-1].endswith("[BLUEFIN_2023_10K p.5]")  # Coastal Markets is on the page before
    grew = ExtractiveAnswerer().answer("Which market grew fastest for Bluefin Foods in FY2023?", hits, scope)
    assert grew.text.startswith("Inland Markets had the fastest revenue growth in FY2023: +25.0%")
    # the prose names no quarter: a quarter's question is not answered from it
    q4 = ExtractiveAnswerer().answer(
        "Which market had the highest net sales in the fourth quarter of 2023?", hits, scope
    )
    assert q4.kind != AnswerKind.COMPARISON


def test_segment_paragraphs_led_by_the_segment_name_are_read() -> None:
    ans = _ask("Which segment had the highest operating income for Bluefin Foods in FY2023?", _PROSE_PARAGRAPHS)
    assert ans.kind == AnswerKind.COMPARISON
    assert ans.text.startswith("Coastal Markets had the highest operating income in FY2023: $240 million")
    assert "Liquidity" not in ans.text and "At December" not in ans.text and "$700" not in ans.text


def test_titles_and_flattened_tables_are_not_read_as_segments() -> None:
    q = "Which market had the highest net sales for Bluefin Foods in FY2023?"
    titles = (
        "Quarterly Net Sales Data\n"
        "• Net sales of $2.1 billion in the current year compared to $2.0 billion in the prior year.\n"
        "Annual Net Sales Data\n"
        "• Net sales of $5.6 billion in the current year compared to $5.4 billion in the prior year.\n"
    )
    assert _ask(q, titles).kind != AnswerKind.COMPARISON  # headings naming the measure are titles
    flattened = (
        "Harbor Division net sales were $ 1,200 $ 1,100 $ 1,000, gross profit $ 300 $ 280 $ 260, operating "
        "income $ 90 $ 85 $ 80.\n"
        "Valley Division net sales were $ 900 $ 950 $ 990, gross profit $ 200 $ 210 $ 220, operating income "
        "$ 60 $ 70 $ 75.\n"
    )
    assert _ask(q, flattened).kind != AnswerKind.COMPARISON  # a table run into one line is not a sentence


def test_a_figure_read_outside_the_retrieved_chunk_is_checked_on_the_whole_page() -> None:
    from types import SimpleNamespace

    from finrag.answer.engine import AnswerEngine
    from finrag.answer.llm_answerer import LLMAnswerer
    from finrag.settings import AnswerSettings, LLMSettings

    page = (
        "BLUEFIN FOODS, INC.\nConsolidated Statements of Income\n(In millions)\nYears Ended December 31,\n"
        "2023 2022\nNet sales $ 5,648 $ 5,401\nCost of sales 4,180 4,011\nGross profit 1,468 1,390\n"
        "Income before income taxes 1,797 2,426\nProvision for income taxes (411) (491)\nNet income 1,386 1,935\n"
    )
    part = Chunk(  # the retrieved chunk holds the lower rows only
        id="bf-9-2",
        doc_id="bf23",
        tenant="t",
        kind=ChunkKind.TABLE,
        text="Provision for income taxes (411) (491)\nNet income 1,386 1,935",
        page_start=8,
        page_end=8,
        metadata={"doc_name": "BLUEFINFOODS_2023_10K", "company": "Bluefin Foods, Inc.", "fiscal_year": 2023},
    )
    retrieval = SimpleNamespace(hits=[Hit(chunk=part, score=1.0)], scope=Scope(companies=["Bluefin Foods, Inc."]))
    ctx = TenantContext(tenant="t", read_page=lambda doc, p: page if (doc, p) == ("bf23", 8) else None)
    eng = AnswerEngine(
        LLMAnswerer.from_settings(LLMSettings(providers=["extractive"]), sleep=lambda s: None),
        AnswerSettings(online_eval_share=0),
    )
    ans = eng.answer("What was Bluefin Foods' income before income taxes in FY2023?", retrieval, "easy", ctx)
    assert "$1,797 million" in ans.text and not ans.unsupported_figures, ans.text
    assert ans.trace["trust"]["whole_pages"] is True and ans.faithfulness is not None and ans.faithfulness >= 0.9
