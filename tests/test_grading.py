"""Grading rules: gold figures, headline figures, scale / sign / percent / rounding normalisation, yes/no
polarity, refusals, and the final grade (never "correct" without a grader that says so)."""

from __future__ import annotations

import pytest

from finrag.eval.grading import (
    compare_figures,
    gold_figure,
    grade_answer,
    grade_numeric,
    grade_yes_no,
    headline_figure,
    is_refused,
    parse_grade,
    question_kind,
    yes_no,
)

CAPEX_Q = "What is the FY2022 capital expenditure amount (in USD millions) for 3M?"


def numeric(answer: str, gold: str, question: str = "", tol: float = 0.01) -> str:
    return grade_numeric(answer, gold, question, tol).grade


# --- gold answers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("gold", "question", "value"),
    [
        ("$1577.00", CAPEX_Q, 1.577e9),  # bare money in the question's scale
        ("0.7%", "", 0.7),
        ("24.26", "", 24.26),
        ("$400,000,000 increase.", "By how much did the facility increase?", 4e8),
        ("AMCOR's Adj. EBITDA was $2,018mn in FY 2023", "What was Amcor's adjusted EBITDA for FY 2023?", 2.018e9),
        ("JnJ sold its inventory 2.7 times in FY2022.", "Roughly how many times did JnJ sell its inventory?", 2.7),
    ],
)
def test_gold_figure_is_read_from_bare_and_short_answers(gold: str, question: str, value: float) -> None:
    g = gold_figure(gold, question)
    assert g is not None and g.figure.value == pytest.approx(value)
    assert question_kind(gold, question) == "numeric"


@pytest.mark.parametrize(
    ("gold", "question", "kind"),
    [
        ("No, the company is managing its CAPEX efficiently: CAPEX/Revenue 5.1%", "Is 3M capital-intensive?", "yes/no"),
        ("Yes. MGM maintained 0.01$ per share annual dividend", "Has MGM paid dividends?", "yes/no"),
        # a figure that describes the answer to a "which" question is not the answer
        ("Las Vegas resorts contributed ~90% of EBITDAR.", "Which region had the highest EBITDAR?", "text"),
        ("Effective tax rate was 0.62% in FY2022, compared to -14.76% in FY2021.", "How does it compare?", "text"),
        ("United States, EMEA, APAC, and LACC", "What are the geographies?", "text"),
    ],
)
def test_question_kind(gold: str, question: str, kind: str) -> None:
    assert question_kind(gold, question) == kind


# --- headline figure ---------------------------------------------------------------------------------


def test_headline_is_the_first_figure_of_the_first_sentence_with_one() -> None:
    text = "Coca Cola's return on assets for FY2017 was 0.01 [KO_2017_10K p.64], or 1.3%.\nFormula: ROA = NI / TA."
    fig = headline_figure(text)
    assert fig is not None and fig.value == 0.01  # the year is not a figure; the citation's "p.64" is dropped
    assert headline_figure("Yes. Revenue grew to $5.2 billion in FY2022 from $4.9 billion.").value == 5.2e9  # type: ignore[union-attr]
    assert headline_figure("The company does not say.") is None
    assert headline_figure("Reconciliation of EBITDA (1) [p.11]\nAdjusted EBITDA was $2,018 million.").value == 2.018e9  # type: ignore[union-attr]


def test_headline_prefers_a_result_line() -> None:
    text = "Inputs: revenue $10,000 million [p.3]; cost $6,000 million [p.3].\nResult: 40.0%"
    fig = headline_figure(text)
    assert fig is not None and fig.unit == "%" and fig.value == 40.0


# --- numeric normalisation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        "3M's capital expenditure for FY2022 was $1,577 million [3M_2022_10K p.60].",
        "Capital spending was $1,577M in FY2022.",
        "Capex was 1.58 billion dollars.",
        "$1.577bn",
        "1,577",  # bare, in the question's millions
    ],
)
def test_scale_conventions_match(answer: str) -> None:
    assert numeric(answer, "$1577.00", CAPEX_Q) == "correct"


def test_wrong_scale_and_wrong_digits_do_not_match() -> None:
    assert numeric("Capex was $1,577 thousand.", "$1577.00", CAPEX_Q) == "incorrect"
    assert numeric("Capex was $1,749 million.", "$1577.00", CAPEX_Q) == "incorrect"


def test_tolerances_one_and_two_and_a_half_percent() -> None:
    # 1.6 billion is 1.46 % off 1,577 million: wrong at 1 %, right at 2.5 %
    assert numeric("Capex was $1.6 billion.", "$1577.00", CAPEX_Q, 0.01) == "incorrect"
    assert numeric("Capex was $1.6 billion.", "$1577.00", CAPEX_Q, 0.025) == "correct"


def test_percent_and_ratio_are_the_same_figure() -> None:
    assert numeric("The operating income grew 0.654 times... i.e. a change of 0.654", "65.4%") == "correct"
    assert numeric("Return on assets was 1.3%.", "0.01") == "correct"  # rounds to the gold's two decimals
    assert numeric("The margin was 10.3%.", "10.3%") == "correct"
    assert numeric("The margin was 13.0%.", "10.3%") == "incorrect"


def test_rounding_to_the_golds_precision() -> None:
    assert numeric("The ratio is 24.2637.", "24.26") == "correct"
    assert numeric("The ratio is 0.0149.", "0.01") == "correct"  # 49 % off, but 0.01 at two decimals
    assert numeric("The ratio is 0.016.", "0.01") == "incorrect"


def test_negatives_in_parentheses_and_words() -> None:
    gold = "-$1561M"
    q = "What was the working capital?"
    assert numeric("Working capital was $(1,561) million.", gold, q) == "correct"
    assert numeric("Working capital was negative $1,561 million.", gold, q) == "correct"
    assert numeric("Working capital was -1,561 million dollars.", gold, q) == "correct"
    assert numeric("Working capital was $1,561 million.", gold, q) == "incorrect"  # sign lost
    # a positive gold answered with a number written negative is wrong; a decline worded positive is fine
    assert numeric("Operating income changed by -65.4%.", "65.4%") == "incorrect"
    assert numeric("Sales declined 5.0%.", "-5.0%") == "correct"


def test_compare_reports_the_error() -> None:
    gold = gold_figure("$1577.00", CAPEX_Q)
    fig = headline_figure("$1,749 million")
    assert gold is not None and fig is not None
    ok, reason = compare_figures(fig, "$1,749 million", gold, "$1577.00", 0.025)
    assert not ok and "off 10.9%" in reason


def test_numeric_refusals_and_missing_figures() -> None:
    assert numeric("I cannot determine the capital expenditure from the filings.", "$1577.00", CAPEX_Q) == "refused"
    assert numeric("The filings do not state capital expenditure on the cited pages.", "$1577.00") == "refused"
    assert numeric("Capital spending is discussed in the MD&A.", "$1577.00", CAPEX_Q) == "incorrect"


# --- yes/no, refusal -------------------------------------------------------------------------------


def test_yes_no_polarity() -> None:
    gold = "No, the company is managing its CAPEX and fixed assets efficiently."
    assert grade_yes_no("No. Capex was 5.1% of revenue [p.3].", gold).grade == "correct"
    assert grade_yes_no("Yes, it is capital intensive.", gold).grade == "incorrect"
    assert grade_yes_no("Capex was 5.1% of revenue.", gold).grade == "incorrect"
    assert grade_yes_no("I could not find enough information to answer.", gold).grade == "refused"
    assert yes_no("Nope") is None and yes_no("Not really") is None and yes_no("[p.3] Yes") is True


def test_refusal_wordings() -> None:
    for text in (
        "I could not find anything about this in the indexed filings.",
        "I don't know.",
        "The sources do not contain the segment data.",
        "The ratio cannot be computed from these pages.",
        "There is insufficient information to answer.",
        "",
    ):
        assert is_refused(text), text
    assert not is_refused("Revenue was $5.2 billion [p.3].")


# --- final grade ---------------------------------------------------------------------------------------


def test_text_answers_are_ungraded_without_a_judge() -> None:
    g = grade_answer("What drove the increase?", "New stores drove it.", "The opening of 47 new stores.")
    assert g.kind == "text" and g.grade == "ungraded" and g.grader == "none"
    g = grade_answer("What drove the increase?", "I could not find this.", "The opening of 47 new stores.")
    assert g.grade == "refused"


def test_numeric_final_grade_has_both_tolerances() -> None:
    g = grade_answer(CAPEX_Q, "Capex was $1.6 billion.", "$1577.00")
    assert (g.kind, g.grade, g.loose_grade, g.grader) == ("numeric", "incorrect", "correct", "numeric")


def test_parse_grade() -> None:
    assert parse_grade('```json\n{"grade": "correct", "reason": "same figure"}\n```') == ("correct", "same figure")
    assert parse_grade('{"grade": "maybe"}') is None
    assert parse_grade("correct") is None


def test_an_unscaled_answer_is_read_at_the_golds_scale() -> None:
    q = "How much net cash did the company provide from operating activities in FY2022?"
    assert numeric("Net cash provided by operating activities: 2022: 541; 2021: 574 [X p.11]", "$541 million", q) == (
        "correct"
    )
    assert numeric("Net cash provided by operating activities: 2022: 574", "$541 million", q) == "incorrect"
    assert numeric("It was $541 thousand.", "$541 million", q) == "incorrect"  # a stated scale is kept


def test_percent_and_ratio_readings_never_apply_to_money() -> None:
    # an exhibit number is not 1,010 million read "as a percent"
    q = "What is the total revolving commitment under the credit agreement?"
    g = grade_numeric("Exhibit Amendment No. 2 to Credit Agreement 10.1 [X p.2]", "$1,250 million", q, 0.025)
    assert g.grade == "incorrect" and "off 99.2%" in g.reason
    assert numeric("It was 0.125.", "$12.5 million") == "incorrect"  # no x100 reading for money


def test_yes_no_rows_are_counted_by_the_polarity_the_answer_gave() -> None:
    from finrag.eval.answers import summarise_rows

    gold = "Yes, the margins have been consistent."
    rows = []
    for i, text in enumerate(("Yes. Gross margin moved 1.1 points.", "No, it fluctuated.", "Gross margin was 22%.")):
        g = grade_answer("Are the margins consistent?", text, gold)
        rows.append({"id": str(i), **g.to_dict(), "trust": 1.0, "latency_ms": 5.0})
    yn = summarise_rows(rows)["yes_no"]
    assert (yn["n"], yn["right_polarity"], yn["answered_yes_or_no"]) == (3, round(1 / 3, 4), 2)
    assert summarise_rows(rows)["wrong_with_trust>=0.9"] == 2


def test_an_opening_no_that_names_a_missing_answer_is_a_refusal_not_a_no() -> None:
    gold = "No, working capital was negative."
    assert yes_no("No supported answer: the draft gave figures that are not on the pages.") is None
    assert grade_yes_no("No supported answer: the figures are not on the pages.", gold).grade == "refused"
    assert grade_yes_no("No information on working capital in these filings.", gold).grade == "refused"
    assert grade_yes_no("No, data on the balance sheet show a deficit.", gold).grade == "correct"
    assert grade_yes_no("No. Working capital was -$350 million.", gold).grade == "correct"


def test_cents_under_one_unit_are_part_of_the_gold() -> None:
    q = "How much did Bluefin Foods pay in dividends in FY2022? Answer in USD billions."
    # "$0.40" billion states 0.40: 0.39 is 2.5 % off, inside the loose tolerance only
    assert numeric("Bluefin Foods paid $0.39 billion [p.3].", "$0.40", q) == "incorrect"
    assert numeric("Bluefin Foods paid $0.39 billion [p.3].", "$0.40", q, 0.025) == "correct"
    assert numeric("Bluefin Foods paid $0.4 billion [p.3].", "$0.40", q) == "correct"
    # whole amounts: the cents are format, "$303.00" is 303
    assert numeric("$302.6 million [p.3]", "$303.00", "Answer in USD millions.") == "correct"
