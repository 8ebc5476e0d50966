"""The trust score redoes the question's own calculation over the cited pages, and checks a yes/no against
what the cited figures (and the answer's own explanation) decide. Companies and wording are our own."""

from __future__ import annotations

from finrag.answer.trust import TRUSTED, body_polarity, trust_score

INCOME = """Northwind Robotics
Consolidated Statements of Operations
(In millions)
Years ended December 31 2022 2021 2020
Net sales $ 4,800 $ 4,500 $ 4,000
Cost of sales 2,900 2,700 2,500
Operating income 610 540 430
"""
BALANCE = """Northwind Robotics
Consolidated Balance Sheets
(In millions)
December 31 2022 2021
Inventories 700 660
Total current assets 2,100 2,300
Total current liabilities 2,450 2,050
"""
PAGES = {"NORTHWIND_2022_10K p.40": INCOME, "NORTHWIND_2022_10K p.42": BALANCE}
CITE = "[NORTHWIND_2022_10K p.40]"


def score(question: str, answer: str, pages: dict[str, str] = PAGES) -> tuple[float, list[str]]:
    t = trust_score(question, None, answer, pages)
    return t.score, t.reasons


def test_a_ratio_the_question_defines_is_recomputed_from_the_cited_rows() -> None:
    q = "What is Northwind Robotics' FY2022 inventory turnover ratio? Round your answer to two decimal places."
    # 2,900 / ((700 + 660) / 2) = 4.2647
    t = trust_score(q, None, f"4.26 {CITE}", PAGES)
    assert t.score >= TRUSTED
    assert t.checks["numeric"]["figures"][0]["reason"] == (
        "computed from the cited pages: inventory turnover ratio for FY2022"
    )
    assert "every figure found on the cited pages or in a calculation over the cited pages" in t.reasons
    for wrong in ("4.56", "3.97", "42.65", "2.46", "4.14"):  # +7 %, -7 %, x10, digits swapped, 2,900 / 700
        s, _ = score(q, f"{wrong} {CITE}")
        assert s < TRUSTED, wrong


def test_a_percent_is_recomputed_and_may_be_written_as_a_ratio() -> None:
    q = "What was Northwind Robotics' FY2022 operating margin? Answer in percent, rounded to one decimal."
    assert score(q, f"12.7% {CITE}")[0] >= TRUSTED  # 610 / 4,800
    assert score(q, f"0.127 {CITE}")[0] >= TRUSTED
    assert score(q, f"12.0% {CITE}")[0] < TRUSTED  # the FY2021 margin: another year's figure
    assert score(q, f"13.6% {CITE}")[0] < TRUSTED


def test_the_change_between_two_years_of_a_metric_is_recomputed() -> None:
    q = "Did Northwind Robotics' operating margin improve in FY2022?"
    s, reasons = score(
        q, f"Yes. The operating margin went from 12.0% in FY2021 to 12.7% in FY2022, up 0.7 points {CITE}."
    )
    assert s >= TRUSTED, reasons
    assert "its Yes agrees with the operating margin computed from the cited pages" in reasons


def test_a_yes_or_no_against_what_the_cited_figures_decide() -> None:
    q = "Does Northwind Robotics have positive working capital based on FY2022 data?"
    right, reasons = score(q, "No. Working capital was -$350 million in FY2022 [NORTHWIND_2022_10K p.42].")
    assert right >= TRUSTED and "its No agrees with the working capital computed from the cited pages" in reasons
    flipped, reasons = score(q, "Yes. Working capital was -$350 million in FY2022 [NORTHWIND_2022_10K p.42].")
    assert flipped < TRUSTED
    assert "the answer says Yes, the working capital computed from the cited pages says No" in reasons


def test_an_answer_whose_explanation_contradicts_its_yes() -> None:
    page = {"NORTHWIND_2022_10K p.30": "Outlook\nManagement expects adjusted EPS growth to decelerate in 2023.\n"}
    q = "Is growth in Northwind Robotics' adjusted EPS expected to accelerate in FY2023?"
    ok, _ = score(q, "No, adjusted EPS growth is expected to decelerate in 2023 [NORTHWIND_2022_10K p.30].", page)
    assert ok >= TRUSTED
    bad, reasons = score(
        q, "Yes, adjusted EPS growth is expected to decelerate in 2023 [NORTHWIND_2022_10K p.30].", page
    )
    assert bad < TRUSTED and "it opens Yes but its own explanation says the opposite" in reasons


def test_body_polarity_reads_change_words_and_negated_question_words() -> None:
    assert body_polarity("Is growth expected to accelerate?", "growth is expected to decelerate") is False
    assert body_polarity("Did the company grow its assets?", "the change was positive") is True
    assert body_polarity("Did sales increase?", "sales did not increase") is False
    assert body_polarity("Is it a high growth company?", "it is not a high growth company") is False
    assert body_polarity("Is it a high growth company?", "sales were $4.8 billion") is None


def test_not_a_useful_metric_is_accepted_only_where_the_pages_lack_its_rows() -> None:
    bank = {
        "HARBORBANK_2022_10K p.50": """Harbor Bank
Consolidated Statements of Income
(In millions)
Years ended December 31 2022 2021
Interest income 5,000 4,700
Net interest income 3,100 2,900
Total revenues net of interest expense 6,200 5,800
"""
    }
    q = (
        "Does Harbor Bank have an improving gross margin profile as of FY2022? If gross margin is not a useful "
        "metric for a company like this, then state that and explain why."
    )
    answer = "Gross margin is not a useful metric here: a bank is measured on its net interest income [{}]."
    s, reasons = score(q, answer.format("HARBORBANK_2022_10K p.50"), bank)
    assert s >= TRUSTED and any("not a useful metric" in r for r in reasons)
    # Northwind's statements print net sales and cost of sales: its gross margin is computable
    q2 = q.replace("Harbor Bank", "Northwind Robotics")
    s2, _ = score(q2, answer.format("NORTHWIND_2022_10K p.40"))
    assert s2 < TRUSTED


def test_a_which_way_question_is_answered_by_picking_a_way() -> None:
    q = "Did Northwind Robotics' net sales increase or decrease in FY2022?"
    s, reasons = score(q, f"Net sales increased 6.7% in FY2022 {CITE}.")  # 4,800 / 4,500 - 1
    assert s >= TRUSTED and "the question offers two alternatives and the answer picks one" in reasons
    assert score(q, f"Net sales were reported {CITE}.")[0] < TRUSTED


def test_a_figure_the_answer_derives_from_its_own_figures() -> None:
    page = {"NORTHWIND_2022_10K p.41": "Operating margin 2022 2021\nOperating margin 34.6% 36.8%\n"}
    q = "Did Northwind Robotics' operating margin improve in FY2022?"
    t = trust_score(
        q, None, "No, it fell from 36.8% in FY2021 to 34.6% in FY2022, a drop of 2.2% [NORTHWIND_2022_10K p.41].", page
    )
    figs = t.checks["numeric"]["figures"]
    assert t.score >= TRUSTED and figs[2]["reason"] == "the difference of the answer's own figures 36.8% and 34.6%"
    t = trust_score(
        q, None, "No, it fell from 36.8% in FY2021 to 34.6% in FY2022, a drop of 3.2% [NORTHWIND_2022_10K p.41].", page
    )
    assert t.score < TRUSTED


def test_two_things_joined_by_or_are_not_two_ways() -> None:
    q = "Did Northwind Robotics pay a dividend or buy back shares in FY2022?"
    assert score(q, f"Northwind Robotics reported a dividend {CITE}.")[0] < TRUSTED
