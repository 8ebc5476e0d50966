"""Computation conventions (issue #14): denominators averaged or year-end, percent vs ratio, the scale of an
average's years, date-headed balance-sheet columns, one line item as a share of another. Every page here
is a small table built in the test (made-up company, made-up figures)."""

from __future__ import annotations

from finrag.answer.computation import compute
from finrag.answer.trust import trust_score
from finrag.finance.dates import header_fiscal_years
from finrag.finance.metrics import ITEMS, LineItem
from finrag.finance.plan import plan_question
from finrag.finance.scales import off_scale_years
from finrag.finance.statements import Found, find_in_page

BALANCE = """ACME WIDGETS INC.
CONSOLIDATED BALANCE SHEETS
(In millions)
2022
2021
Total current assets
400
380
Total assets
1,000
900
Total shareholders' equity
500
450
"""
INCOME = """ACME WIDGETS INC.
CONSOLIDATED STATEMENTS OF INCOME
(In millions)
2022
2021
Total revenues
2,000
1,800
Net income
95
80
"""
PAGES = {"ACME_2022_10K p.40": BALANCE, "ACME_2022_10K p.41": INCOME}
CITE = "[ACME_2022_10K p.40][ACME_2022_10K p.41]"


# ---------------------------------------------------------------------------------------------
# Averaged or year-end denominators


def test_roa_is_over_year_end_assets_unless_the_question_says_average() -> None:
    plain = plan_question("What was Acme's return on assets for FY2022?", None)
    averaged = plan_question("What was Acme's FY2022 return on average total assets?", None)
    defined = plan_question(
        "What is the FY2022 ROA? ROA is defined as: FY2022 net income / (average total assets between FY2021 "
        "and FY2022).",
        None,
    )
    over_years = plan_question("What is Acme's three year average ROA from FY2020 to FY2022?", None)
    assert plain is not None and averaged is not None and defined is not None and over_years is not None
    assert plain.metrics[0].needs == (("net_income", 0), ("total_assets", 0))
    assert ("total_assets", -1) in averaged.metrics[0].needs
    assert ("total_assets", -1) in defined.metrics[0].needs
    # "three year average" averages years; it says nothing about the denominator
    assert over_years.average and over_years.metrics[0].needs == (("net_income", 0), ("total_assets", 0))
    # asset turnover and ROE follow the same rule; inventory turnover keeps its textbook average
    turnover = plan_question("What is Acme's FY2022 asset turnover?", None)
    assert turnover is not None and turnover.metrics[0].needs == (("revenue", 0), ("total_assets", 0))
    inventory = plan_question("What is Acme's FY2022 inventory turnover ratio?", None)
    assert inventory is not None and ("inventory", -1) in inventory.metrics[0].needs


def test_the_trust_check_accepts_the_convention_the_answer_states() -> None:
    q = "What was Acme's return on assets for FY2022?"
    year_end = f"Acme's ROA for FY2022 was 9.5% (net income / year-end total assets) {CITE}."
    averaged = f"Acme's ROA for FY2022 was 10.0% on average total assets {CITE}."
    plain_average = f"Acme's ROA for FY2022 was 10.0% {CITE}."
    wrong = f"Acme's ROA for FY2022 was 12.5% on average total assets {CITE}."
    assert trust_score(q, None, year_end, PAGES, cited=True).score >= 0.9
    assert trust_score(q, None, averaged, PAGES, cited=True).score >= 0.9
    # the average figure with no convention stated is not what the question's (year-end) plan gives
    assert trust_score(q, None, plain_average, PAGES, cited=True).score < 0.7
    assert trust_score(q, None, wrong, PAGES, cited=True).score < 0.7


# ---------------------------------------------------------------------------------------------
# Percent and ratio; the scale of an average's years


class _Table:
    """A finder over fixed values: (item key, year) -> value in dollars."""

    months = None

    def __init__(self, values: dict[tuple[str, int], float], scale: float = 1e6) -> None:
        self.values = values
        self.scale = scale

    def find(self, item: LineItem, year: int, company: str = "") -> Found | None:
        v = self.values.get((item.key, year))
        if v is None:
            return None
        return Found(item.key, year, v, f"{v / self.scale:,.0f}", item.name, "doc", "ACME_2022_10K", 40, 1.3,
                     scale=self.scale)  # fmt: skip


def _roa_table(assets_2020: float = 1.0e9) -> _Table:
    return _Table({
        ("net_income", 2020): 70e6, ("net_income", 2021): 80e6, ("net_income", 2022): 95e6,
        ("total_assets", 2020): assets_2020, ("total_assets", 2021): 1.0e9, ("total_assets", 2022): 1.0e9,
    })  # fmt: skip


def test_an_average_of_roa_asked_in_percent_is_shown_in_percent() -> None:
    q = "What is Acme's three year average ROA from FY2020 to FY2022, in percent?"
    plan = plan_question(q, None)
    assert plan is not None and plan.unit == "%"
    comp = compute(plan, _roa_table(), "Acme")  # type: ignore[arg-type]
    assert comp.complete
    assert abs((comp.final or 0) - (7.0 + 8.0 + 9.5) / 3) < 1e-9
    assert "8.2%" in comp.text.split("\n")[0]
    # without "percent" the ratio is the answer
    ratio = compute(plan_question("What is Acme's three year average ROA from FY2020 to FY2022?", None),  # type: ignore[arg-type]
                    _roa_table(), "Acme")  # type: ignore[arg-type]  # fmt: skip
    assert abs((ratio.final or 0) - (0.07 + 0.08 + 0.095) / 3) < 1e-9


def test_an_average_whose_years_are_on_different_scales_is_refused() -> None:
    plan = plan_question("What is Acme's three year average ROA from FY2020 to FY2022, in percent?", None)
    assert plan is not None
    # FY2020 total assets read in thousands where the other years are in millions
    comp = compute(plan, _roa_table(assets_2020=1.0e6), "Acme")  # type: ignore[arg-type]
    assert not comp.complete


def test_off_scale_years() -> None:
    assert off_scale_years([7.9, 8.1, 181.0], ratio=True) == [2]
    assert off_scale_years([0.079, 7.9, 8.1], ratio=True) == [0]  # a ratio among percentages
    assert off_scale_years([7.9, 8.1, 8.6], ratio=True) == []
    assert off_scale_years([-3.0, 5.0, 6.0], ratio=True) == []  # a loss year is no scale slip
    assert off_scale_years([46e9, 47e9, 47e6], ratio=False) == [2]
    assert off_scale_years([1e9, 1.1e9, 5e7], ratio=False) == []  # a line item may fall 20x


# ---------------------------------------------------------------------------------------------
# Date-headed columns; row labels with note references

DATED = """ACME WIDGETS INC.
CONSOLIDATED BALANCE SHEETS
At January 1, 2023 and January 2, 2022
(Dollars in Millions)
Current assets
Inventories (Notes 1 and 3)
120
100
Total current assets
400
380
Total assets
1,000
900
Liabilities
"""


def test_a_column_headed_by_a_date_is_the_fiscal_year_it_ends() -> None:
    assert header_fiscal_years("At January 1, 2023 and January 2, 2022", [2023, 2022]) == [2022, 2021]
    assert header_fiscal_years("January 1,\n2023\n2022", [2023, 2022]) == [2022, 2021]
    assert header_fiscal_years("December 31, 2022 December 31, 2021", [2022, 2021]) == [2022, 2021]
    # retail years ending late January take the year they end in
    assert header_fiscal_years("January 28, 2023 January 29, 2022", [2023, 2022]) == [2023, 2022]
    # a quarter-end next to a year-end: the fiscal years would not tell them apart
    assert header_fiscal_years("January 1, 2023 October 2, 2022", [2023, 2022]) == [2023, 2022]
    assert find_in_page(ITEMS["total_assets"], 2022, DATED)[0][1] == 1000e6
    assert find_in_page(ITEMS["total_assets"], 2021, DATED)[0][1] == 900e6
    # the row's label is "Inventories", not a sentence cut at "(Notes 1 and"
    assert find_in_page(ITEMS["inventory"], 2022, DATED)[0][1] == 120e6
    one_per_line = DATED.replace("At January 1, 2023 and January 2, 2022", "January 1, 2023\nJanuary 2, 2022")
    assert find_in_page(ITEMS["total_assets"], 2021, one_per_line)[0][1] == 900e6


def test_a_quarter_headed_by_a_date_keeps_its_calendar_year() -> None:
    page = """ACME WIDGETS INC.
CONDENSED CONSOLIDATED STATEMENTS OF INCOME
(In millions)
Three Months Ended
January 1, 2023
January 2, 2022
Total revenues
520
480
Net income
30
25
"""
    assert find_in_page(ITEMS["revenue"], 2023, page)[0][1] == 520e6


# ---------------------------------------------------------------------------------------------
# One line item as a share of another


def test_a_share_of_one_line_item_in_another() -> None:
    asks = [
        "What percentage of total assets were current assets for Acme in FY2022?",
        "What share of Acme's total assets came from current assets in FY2022?",
        "Current assets accounted for what percent of total assets at Acme in FY2022?",
    ]
    for q in asks:
        plan = plan_question(q, None)
        assert plan is not None and plan.unit == "%", q
        assert plan.metrics[0].needs == (("current_assets", 0), ("total_assets", 0)), q
        comp = compute(plan, _Table({("current_assets", 2022): 400e6, ("total_assets", 2022): 1000e6}), "Acme")  # type: ignore[arg-type]
        assert comp.complete and abs((comp.final or 0) - 40.0) < 1e-9
    # a segment's share is no consolidated row
    assert plan_question("What percentage of total revenues came from the Europe segment in FY2022?", None) is None
    # the answer is checked against the two rows of the cited pages
    q = asks[0]
    good = f"Current assets were 40.0% of total assets in FY2022 {CITE}."
    bad = f"Current assets were 44.0% of total assets in FY2022 {CITE}."
    assert trust_score(q, None, good, PAGES, cited=True).score >= 0.9
    assert trust_score(q, None, bad, PAGES, cited=True).score < 0.7


def test_a_ratio_written_as_a_percent_is_the_same_figure() -> None:
    q = "What was Acme's FY2022 asset turnover?"
    assert trust_score(q, None, f"Acme's asset turnover for FY2022 was 2.00 {CITE}.", PAGES, cited=True).score >= 0.9
    assert trust_score(q, None, f"Acme's asset turnover for FY2022 was 200% {CITE}.", PAGES, cited=True).score >= 0.9
    assert trust_score(q, None, f"Acme's asset turnover for FY2022 was 240% {CITE}.", PAGES, cited=True).score < 0.7


def test_row_blocks_read_date_headed_columns_as_fiscal_years() -> None:
    from finrag.finance.compare import blocks

    table = """ACME WIDGETS INC.
SEGMENT OPERATING INCOME
(In millions)
January 1, 2023 January 2, 2022
Widgets $ 120 $ 100
Gadgets 80 90
Total $ 200 $ 190
"""
    assert [b.years for b in blocks(table)] == [[2022, 2021]]
    quarter = table.replace("(In millions)", "(In millions)\nThree Months Ended")
    assert [b.years for b in blocks(quarter)] == [[2023, 2022]]


def test_an_answer_cannot_swap_the_convention_the_question_asks_for() -> None:
    q = "What was Acme's FY2022 return on average total assets?"
    averaged = f"Acme's ROA for FY2022 was 10.0% on average total assets {CITE}."
    year_end = f"Acme's ROA for FY2022 was 9.5% on year-end total assets {CITE}."
    assert trust_score(q, None, averaged, PAGES, cited=True).score >= 0.9
    assert trust_score(q, None, year_end, PAGES, cited=True).score < 0.7


def test_total_liabilities_is_a_line_item_apart_from_the_balance_sheet_total() -> None:
    page = """ACME WIDGETS INC.
CONSOLIDATED BALANCE SHEETS
(In millions)
2022
2021
Total current liabilities
150
140
Total liabilities
600
560
Total shareholders' equity
400
340
Total liabilities and shareholders' equity
1,000
900
"""
    assert find_in_page(ITEMS["total_liabilities"], 2022, page)[0][1] == 600e6
    plan = plan_question(
        "What were Acme's total current liabilities as a percentage of total liabilities in FY2022?", None
    )
    assert plan is not None and plan.unit == "%"
    assert plan.metrics[0].needs == (("current_liabilities", 0), ("total_liabilities", 0))
    table = _Table({("current_liabilities", 2022): 150e6, ("total_liabilities", 2022): 600e6})
    comp = compute(plan, table, "Acme")  # type: ignore[arg-type]
    assert comp.complete and abs((comp.final or 0) - 25.0) < 1e-9
