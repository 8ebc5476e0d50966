"""Numeric grounding: figure extraction, page scale, rounding tolerance, year columns, whole answers.

Pages here are made up in the layout PDF text extraction gives for filings (one cell per line).
"""

from __future__ import annotations

import json

import pytest

from finrag.answer.grounding import check_answer, find_support
from finrag.finance import calculator as calc
from finrag.finance.calculator import CalcInput
from finrag.finance.figures import analyze_page, extract_figures, scale_from_text, years_in
from finrag.finance.words import content_words

INCOME_STATEMENT = """Example Corp
Consolidated Statement of Income
(In millions, except per share amounts)
Years ended December 31,
2022
2021
2020
Net sales
$
12,480 $
11,905 $
10,214
Cost of sales
7,311
6,920
6,102
Operating income
1,577
1,499
1,362
Earnings per share diluted
$
4.87 $
4.51 $
3.90
Effective tax rate
21.4 %
19.8 %
22.0 %
48
"""

SEGMENTS = """(Dollars in millions)
2022
2021
% change
Services
3,210
3,055
5.1 %
Products
2,004
2,160
(7.2)%
"""

PROSE = """Net sales for the year were $12.5 billion, an increase of 4.8% compared to the prior year.
Sales by U.S. companies increased 4.1% in 2022 while international sales declined 1.3% in 2022.
We maintained a dividend of $0.25 per share."""


def one(text: str):
    figs = extract_figures(text)
    assert len(figs) == 1, [f.text for f in figs]
    return figs[0]


# ---------------------------------------------------------------------------------------------
# extraction


@pytest.mark.parametrize(
    ("text", "value", "unit", "scale_word", "decimals", "negative"),
    [
        ("$1,577 million", 1.577e9, "USD", "million", 0, False),
        ("1.6 billion", 1.6e9, None, "billion", 1, False),
        ("$34.2B", 34.2e9, "USD", "b", 1, False),
        ("12.4%", 12.4, "%", None, 1, False),
        ("(234)", -234.0, None, None, 0, True),
        ("−5.3%", -5.3, "%", None, 1, True),
        ("-$2,240M", -2.240e9, "USD", "m", 0, True),
        ("$(2.3) billion", -2.3e9, "USD", "billion", 1, True),
        ("(3.2)%", -3.2, "%", None, 1, True),
        ("3,655", 3655.0, None, None, 0, False),
        ("USD 2.5bn", 2.5e9, "USD", "bn", 1, False),
        ("$3,406mn", 3.406e9, "USD", "mn", 0, False),
        ("7.35 per share", 7.35, "USD/share", None, 2, False),
        ("$0.01 per diluted share", 0.01, "USD/share", None, 2, False),
        ("0.05$ per share", 0.05, "USD/share", None, 2, False),
        ("0.41x", 0.41, "x", None, 2, False),
        ("2.7 times", 2.7, "x", None, 1, False),
        ("412.5 million shares", 412.5e6, "shares", "million", 1, False),
        ("65 basis points", 65.0, "bps", None, 0, False),
        ("$1083 million", 1.083e9, "USD", "million", 0, False),
        ("€3.5 thousand", 3500.0, "EUR", "thousand", 1, False),
    ],
)
def test_extract_formats(
    text: str, value: float, unit: str | None, scale_word: str | None, decimals: int, negative: bool
) -> None:
    f = one(text)
    assert f.value == pytest.approx(value)
    assert f.unit == unit
    assert (f.scale_word or "").lower() == (scale_word or "")
    assert f.decimals == decimals
    assert f.negative is negative
    assert text.startswith(f.text) or f.text in text


@pytest.mark.parametrize(
    "text",
    [
        "FY2022",
        "in FY 2022 and fiscal 2021",
        "in 2018",
        "December 31, 2022",
        "as of Dec. 31, 2022",
        "31 December 2022",
        "on 12/31/2022",
        "Q2 results",
        "1Q22",
        "[ACME_2022_10K p.12]",
        "see [doc p.48] and [12]",
        "Item 7A",
        "Item 1A. Risk factors, Note 19 and Section 3.2",
        "Page 3 of 15",
        "annual report on Form 10-K and 8-K",
        "COVID-19",
        "3M Company",
        "(1) Alpha Ltd and (2) Beta LLC",
        "the 12 months ended February 3, 2024",
        "the 364-day facility",
        "2028 to 2032",
        "'22",
        "FY22",
    ],
)
def test_not_figures(text: str) -> None:
    assert extract_figures(text) == [], [f.text for f in extract_figures(text)]


def test_ranges_are_not_negative() -> None:
    figs = extract_figures("growth of 4.0% - 5.0% and EPS of $6.10 - $6.20")
    assert [f.value for f in figs] == [4.0, 5.0, 6.1, 6.2]
    assert not any(f.negative for f in figs)


def test_prose_aside_in_parentheses_is_not_negative() -> None:
    f = one("operating cash flow was the largest in FY 2023 ($2.3 bn)")
    assert f.value == pytest.approx(2.3e9) and not f.negative


def test_year_association() -> None:
    figs = extract_figures("The tax rate in FY2022 was 1.35%, compared to -9.12% in FY2021. A drop of 3.1% overall.")
    assert [(f.text, f.year) for f in figs] == [("1.35%", 2022), ("-9.12%", 2021), ("3.1%", None)]
    assert one("revenue declined 37% in FY2022").year == 2022
    assert one("sales of $4.1 billion (FY 2021)").year == 2021


def test_years_in_and_scale_from_text() -> None:
    assert years_in("What is the FY2019 ratio? Use average PP&E between FY2018 and FY2019.") == [2019, 2018]
    assert scale_from_text("Answer in USD millions.") == 1e6
    assert scale_from_text("How much (in USD billions) did it pay?") == 1e9
    assert scale_from_text("Round to two decimal places.") is None


# ---------------------------------------------------------------------------------------------
# pages


def test_page_scale_and_year_columns() -> None:
    page = analyze_page(INCOME_STATEMENT)
    assert page.scales == [1e6]
    by_text = {f.text: i for i, f in enumerate(page.figures)}
    assert "48" not in by_text  # the page number at the foot is not a figure
    assert page.cells[by_text["1,577"]].year == 2022
    assert page.cells[by_text["1,499"]].year == 2021
    assert page.cells[by_text["10,214"]].year == 2020
    assert page.contexts[by_text["1,577"]] == "Operating income"


@pytest.mark.parametrize(
    ("phrase", "scale"),
    [
        ("(In millions, except per share amounts)", 1e6),
        ("(Dollars in thousands)", 1e3),
        ("($ million)", 1e6),
        ("(Inthousands,exceptsharedata)", 1e3),
        ("Amounts in billions", 1e9),
        ("($000s)", 1e3),
    ],
)
def test_page_scale_phrases(phrase: str, scale: float) -> None:
    assert analyze_page(f"{phrase}\nRevenue\n1,234\n").scales == [scale]


@pytest.mark.parametrize(
    ("answer", "found"),
    [
        ("$1.6 billion", True),  # 1,577 million rounds to 1.6 billion
        ("$1,577 million", True),
        ("$1,577,000,000", True),
        ("$1.58 billion", True),
        ("$1.7 billion", False),  # nothing on the page rounds to 1.7 billion
        ("$1.57 billion", False),
        ("$1,577 billion", False),  # wrong scale
        ("$1,577 thousand", False),
    ],
)
def test_scaled_statement_figures(answer: str, found: bool) -> None:
    m = find_support(one(answer), INCOME_STATEMENT)
    assert (m is not None) is found
    if m:
        assert m.text == "1,577" and m.scale == 1e6


@pytest.mark.parametrize(
    ("page_number", "found"),
    [("1,577", True), ("1,612", True), ("1,550", True), ("1,650", True), ("1,499", False), ("1,651", False)],
)
def test_rounding_tolerance_boundaries(page_number: str, found: bool) -> None:
    page = f"(In millions)\n2022\n2021\nOperating income\n{page_number}\n1,000\n"
    assert (find_support(one("$1.6 billion"), page) is not None) is found


def test_unstated_page_scale_tries_the_usual_scales() -> None:
    page = "Summary table\nRestructuring charges\n411\n380\n"
    assert find_support(one("$411 million"), page)
    assert find_support(one("$0.41 billion"), page)
    assert find_support(one("$411"), page)
    assert find_support(one("$412 million"), page) is None


def test_scale_hint_overrides_inference() -> None:
    page = "Restructuring charges\n411\n380\n"
    assert find_support(one("$411 million"), page, scale_hint=1e6)
    assert find_support(one("$411 million"), page, scale_hint=1e3) is None


def test_percent_matches_percent_or_bare_change_column() -> None:
    assert find_support(one("21.4%"), INCOME_STATEMENT)
    assert find_support(one("21%"), INCOME_STATEMENT)  # 21.4 rounds to 21
    assert find_support(one("21.0%"), INCOME_STATEMENT) is None  # a stated decimal
    # a money figure is never matched by a percent with the same digits
    assert find_support(one("$21.4 million"), INCOME_STATEMENT) is None
    assert find_support(one("7.2%"), SEGMENTS)  # "(7.2)%": sign compared by magnitude
    assert find_support(one("4.87 per share"), INCOME_STATEMENT)


def test_money_trailing_zeros_are_format_but_other_zeros_are_digits() -> None:
    # an answer "in USD billions" of $0.40 for a page value of 397 million: cents formatting
    page = "(In millions)\n2020\n2019\nDividends paid\n(397)\n(351)\n"
    f = one("$0.40").rescaled(1e9)
    assert find_support(f, page)
    assert find_support(one("$0.42").rescaled(1e9), page) is None
    assert find_support(one("1.0%"), "Organic sales\n(0.9)\n") is None


def test_negative_figures_match_by_magnitude() -> None:
    page = "(In millions)\n2022\n2021\nCapital expenditures\n(2,115)\n(1,930)\n"
    assert find_support(one("$(2,115) million"), page)
    assert find_support(one("$2,115 million"), page)


def test_year_column_required_when_the_answer_names_the_year() -> None:
    right = one("operating income of $1,577 million in FY2022")
    wrong = one("operating income of $1,499 million in FY2022")  # the FY2021 figure
    assert find_support(right, INCOME_STATEMENT)
    assert find_support(wrong, INCOME_STATEMENT) is None
    assert find_support(wrong, INCOME_STATEMENT, year=2021)
    # no year named: the column cannot be checked, the figure is on the page
    assert find_support(one("$1,499 million"), INCOME_STATEMENT)


def test_change_column_is_not_a_year_column() -> None:
    assert find_support(one("5.1%"), SEGMENTS)
    assert find_support(one("5.1%"), SEGMENTS, year=2022) is None


def test_context_must_agree_with_row_label() -> None:
    page = "(In millions)\n2022\n2021\nCost of sales\n7,311\n6,920\nOperating income\n1,577\n1,499\n"
    f = one("$1,577 million")
    assert find_support(f, page, context="operating income")
    assert find_support(f, page, context="cost of sales") is None
    assert find_support(one("$7,311 million"), page, context="cost of sales")


def test_content_words_normalise() -> None:
    assert content_words("U.S. sales increased") == frozenset({"us", "sale"})
    assert "taxe" not in content_words("income taxes") and "tax" in content_words("income taxes")


def test_prose_figures() -> None:
    assert find_support(one("$12.5 billion"), PROSE)
    assert find_support(one("$12,480 million"), PROSE) is None  # prose says 12.5 billion only
    assert find_support(one("4.1% in 2022"), PROSE)
    assert find_support(one("4.1% in 2021"), PROSE) is None  # prose ties it to 2022
    assert find_support(one("$0.25 per share"), PROSE)


# ---------------------------------------------------------------------------------------------
# whole answers


def test_check_answer_supported_and_unsupported() -> None:
    src = {"ex#p48": INCOME_STATEMENT}
    rep = check_answer("Operating income was $1.6 billion in FY2022, on net sales of $12.5 billion.", src)
    assert rep.passed and rep.score == 1.0 and rep.total == 2
    assert rep.checks[0].match and rep.checks[0].match.source_key == "ex#p48"

    rep = check_answer("Operating income was $1.7 billion in FY2022 and the tax rate 21.4%.", src)
    assert not rep.passed
    assert rep.unsupported_figures == ["$1.7 billion"]
    assert rep.score == pytest.approx(0.5)
    assert "not on the cited pages" in rep.checks[0].reason


def test_check_answer_reports_the_swapped_year() -> None:
    rep = check_answer("Operating income was $1,499 million in FY2022.", {"ex#p48": INCOME_STATEMENT})
    assert rep.unsupported_figures == ["$1,499 million"]
    assert "2021 column" in rep.checks[0].reason


def test_check_answer_no_figures_scores_one() -> None:
    rep = check_answer("The company operates in the United States and Europe since 2018.", {"a": PROSE})
    assert rep.total == 0 and rep.score == 1.0 and rep.passed


def test_check_answer_uses_question_scale_and_year() -> None:
    src = {"ex#p48": INCOME_STATEMENT}
    q = "What was FY2022 operating income? Answer in USD millions."
    assert check_answer("$1577.00", src, question=q).passed
    assert not check_answer("$1499.00", src, question=q).passed  # FY2021 column
    assert not check_answer("$1577000.00", src, question=q).passed  # thousands, not millions


def test_check_answer_with_calculations() -> None:
    src = {"ex#p48": INCOME_STATEMENT}
    margin = calc.margin(
        CalcInput(name="operating income", value=1_577e6, citation="ex#p48", year=2022),
        CalcInput(name="net sales", value=12_480e6, citation="ex#p48", year=2022),
    )
    answer = "The FY2022 operating margin was 12.6%."
    assert not check_answer(answer, src).passed  # 12.6 is on no page
    rep = check_answer(answer, src, [margin])
    assert rep.passed and rep.checks[0].calc_index == 0
    json.dumps(rep.to_dict())  # the report can go into the answer trace

    # inputs not on the cited page, or from the wrong year column, do not support the result
    bad = calc.margin(
        CalcInput(name="operating income", value=1_499e6, citation="ex#p48", year=2022),
        CalcInput(name="net sales", value=12_480e6, citation="ex#p48", year=2022),
    )
    rep = check_answer(f"The FY2022 operating margin was {bad.result:.1f}%.", src, [bad])
    assert not rep.passed and "inputs" in rep.checks[0].reason
    made_up = calc.margin(CalcInput(name="x", value=1_600e6, citation="ex#p48"), 12_480e6)
    assert not check_answer(f"Margin {made_up.result:.1f}%.", src, [made_up]).passed
    # a step whose result was edited after the fact does not verify
    forged = margin.model_copy(update={"result": 15.0})
    assert not check_answer("The FY2022 operating margin was 15.0%.", src, [forged]).passed


def test_check_answer_chained_calculations() -> None:
    src = {"ex#p48": INCOME_STATEMENT}
    gross = calc.difference(
        CalcInput(name="net sales", value=12_480e6, citation="ex#p48", year=2022),
        CalcInput(name="cost of sales", value=7_311e6, citation="ex#p48", year=2022),
        unit="USD",
    )
    gm = calc.margin(CalcInput(name="gross profit", value=gross.result), CalcInput(name="sales", value=12_480e6))
    rep = check_answer("Gross profit was $5,169 million, a 41.4% gross margin in FY2022.", src, [gross, gm])
    assert rep.passed, [c.reason for c in rep.checks]
    # the same ratio result with only the margin step logged: its input 5,169 is on no page
    assert not check_answer("Gross margin was 41.4% in FY2022.", src, [gm]).passed


def test_inherited_scale_continued_statement_then_the_filings_usual_scale() -> None:
    from finrag.finance.scales import inherited_scales, scale_note, stated_scales

    pages = [
        "Consolidated Statement of Income\n(In millions)\nNet revenue\n86,392\n",  # states millions
        "Consolidated Statement of Income (continued)\nRestructuring\n411\n",  # continued: millions
        "Schedule of share awards\n(in thousands)\nGranted\n1,204\n",  # states thousands
        "Awards (continued)\nForfeited\n210\n",  # continued: thousands, not the filing's millions
        "Notes\nOther matters are described elsewhere.\n",
        "Cash flows\n(in millions)\nCapex\n5,207\n",
        "Balance sheet\n($ in millions)\nAssets\n92,187\n",
        "Segment data\nRevenue\n1,000\n",  # lookback 2: page 6 states millions
        "Page nine\n",
        "Page ten\n",
        "Page eleven\n",  # beyond the lookback: the filing's usual scale
    ]
    got = inherited_scales(pages)
    assert got[0] is None and got[2] is None and got[5] is None and got[6] is None
    assert got[1] == (1e6, "continued") and got[3] == (1e3, "continued")
    assert got[4] == (1e3, "continued")  # two pages after the thousands schedule, nothing stated between
    assert got[7] == (1e6, "continued") and got[10] == (1e6, "filing")
    note = scale_note(*got[10])
    assert stated_scales(note) == [1e6] and not any(ch.isdigit() for ch in note)
    # A filing with no usual scale (too few pages state one) lends none beyond the lookback.
    assert inherited_scales(["(In millions)\n1\n", "a\n", "b\n", "c\n"])[3] is None


def test_scale_note_rules_out_the_other_scales_on_a_silent_page() -> None:
    from finrag.finance.scales import scale_note

    page = "Summary table\nRestructuring charges\n411\n380\n"
    noted = f"{page}\n{scale_note(1e6, 'continued')}"
    assert find_support(one("$411 billion"), page)  # silent page: any usual scale is possible
    assert find_support(one("$411 billion"), noted) is None
    assert find_support(one("$411 thousand"), noted) is None
    assert find_support(one("$411 million"), noted) and find_support(one("$0.41 billion"), noted)


def test_a_table_cell_quoted_as_printed_is_supported_and_an_altered_one_is_not() -> None:
    """An excerpt quotes rows as the page prints them: "(9,128)" from a table in millions is that cell,
    not 9,128 dollars. Changing a digit must still fail."""
    page = (
        "Net Cash Used in Investing Activities\n(Amounts in millions) 2020 2019 2018\n"
        "Net cash used in investing activities $ (9,128) $ (24,036) $ (9,079)\n"
    )
    quoted = check_answer("Net cash used in investing activities: 2020: (9,128)", {"p": page})
    assert [c.supported for c in quoted.checks] == [True]
    altered = check_answer("Net cash used in investing activities: 2020: (9,182)", {"p": page})
    assert [c.supported for c in altered.checks] == [False]
    scaled_wrong = check_answer("Net cash used in investing activities was $9,128 billion", {"p": page})
    assert [c.supported for c in scaled_wrong.checks] == [False]
