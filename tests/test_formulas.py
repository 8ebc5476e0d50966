"""Formulas the question writes out (parsed into calculator steps), textbook days/payout/coverage metrics,
CAGR, and the offline answerer computing them from the sample filings with each input cited."""

from __future__ import annotations

import math
import re
from typing import Any

import pytest

from finrag.answer.computation import ItemFinder
from finrag.answer.context import TenantContext
from finrag.finance import calculator as calc
from finrag.finance.assemble import assemble
from finrag.finance.calculator import CalcInput
from finrag.finance.formulas import ask_text, defined_metric, definitions, using_denominator
from finrag.finance.metrics import ITEMS, METRICS, Metric, run_steps
from finrag.finance.plan import plan_question
from finrag.finance.scales import reconcile_scales
from finrag.finance.statements import find_in_page
from finrag.records import AnswerKind, Chunk, ChunkKind, Hit
from finrag.sample.companies import BLUEFIN, NORTHWIND
from finrag.sample.model import build_financials

# Made-up year-end balances and flows ($), keyed (item, fiscal year).
_BOOK: dict[tuple[str, int], float] = {
    ("revenue", 2024): 5_000.0,
    ("revenue", 2022): 3_200.0,
    ("cogs", 2024): 3_000.0,
    ("inventory", 2023): 400.0,
    ("inventory", 2024): 500.0,
    ("accounts_receivable", 2023): 600.0,
    ("accounts_receivable", 2024): 700.0,
    ("accounts_payable", 2023): 300.0,
    ("accounts_payable", 2024): 360.0,
    ("net_income", 2024): 800.0,
    ("dividends", 2024): 200.0,
    ("operating_income", 2024): 1_100.0,
    ("da", 2024): 250.0,
    ("interest_expense", 2024): 90.0,
    ("cfo", 2024): 1_300.0,
    ("current_liabilities", 2024): 1_000.0,
    ("total_equity", 2024): 4_000.0,
}


def _run(metric: Metric, year: int) -> float:
    def get(key: str, offset: int) -> CalcInput:
        return CalcInput(name=f"{key} {year + offset}", value=_BOOK[(key, year + offset)], citation="p.1")

    steps = run_steps(metric.steps, get)
    for s in steps:
        assert s.verify()  # every step re-evaluates from its logged expression
    return steps[-1].result


def _plan_metric(question: str) -> Metric:
    plan = plan_question(question, None)
    assert plan is not None and plan.metrics, question
    return plan.metrics[0]


# --- the definition grammar -------------------------------------------------------------------------
def test_definitions_are_read_one_per_sentence_with_their_names() -> None:
    q = (
        "What was Northwind Robotics' FY2024 cash conversion cycle (CCC)? CCC is defined as: DIO + DSO - DPO. "
        "DIO is defined as: 365 * (average inventory between FY2023 and FY2024) / (FY2024 COGS). "
        "Round your answer to two decimal places."
    )
    defs = definitions(q)
    assert [(d.name, d.expr) for d in defs] == [
        ("CCC", "DIO + DSO - DPO"),
        ("DIO", "365 * (average inventory between FY2023 and FY2024) / (FY2024 COGS)"),
    ]
    assert ask_text(q) == "What was Northwind Robotics' FY2024 cash conversion cycle (CCC)? "


def test_a_chain_of_definitions_computes_the_cash_conversion_cycle() -> None:
    q = (
        "What is Cedar Ridge Energy's FY2024 cash conversion cycle (CCC)? CCC is defined as: DIO + DSO - DPO. "
        "DIO is defined as: 365 * (average inventory between FY2023 and FY2024) / (FY2024 COGS). "
        "DSO is defined as: 365 * (average accounts receivable between FY2023 and FY2024) / (FY2024 Revenue). "
        "DPO is defined as: 365 * (average accounts payable between FY2023 and FY2024) / (FY2024 COGS + change "
        "in inventory between FY2023 and FY2024). Round your answer to two decimal places."
    )
    metric = _plan_metric(q)
    assert metric.key == "defined" and metric.unit == "days" and metric.name == "cash conversion cycle (CCC)"
    dio = calc.days_ratio(400, 500, 3_000).result
    dso = calc.days_ratio(600, 700, 5_000).result
    dpo = calc.dpo(300, 360, 3_000, 400, 500).result  # the question's DPO: purchases = COGS + change in inventory
    assert math.isclose(_run(metric, 2024), dio + dso - dpo)
    assert not re.search(r"\d", metric.formula)  # the formula line holds no figure the filing must print


def test_a_textbook_metric_named_only_inside_a_definition_is_not_the_answer() -> None:
    # "DPO" appears in the definition of CCC; the question asks for CCC
    q = "What is Bluefin Foods' FY2024 cash conversion cycle (CCC)? CCC is defined as: DIO + DSO - DPO."
    metric = _plan_metric(q)
    assert metric.unit == "days" and "CCC" in metric.name
    # the textbook terms: DPO over COGS alone
    dio, dso, dpo = (
        calc.days_ratio(400, 500, 3_000),
        calc.days_ratio(600, 700, 5_000),
        calc.days_ratio(300, 360, 3_000),
    )
    assert math.isclose(_run(metric, 2024), dio.result + dso.result - dpo.result)


def test_the_question_definition_overrides_the_textbook_one_only_when_it_differs() -> None:
    same = (
        "What is the FY2024 inventory turnover ratio? Inventory turnover ratio is defined as: (FY2024 COGS) / "
        "(average inventory between FY2023 and FY2024)."
    )
    assert _plan_metric(same).key == "inventory_turnover"
    other = (
        "What is the FY2024 inventory turnover ratio? Inventory turnover ratio is defined as: FY2024 revenue / "
        "FY2024 inventory."
    )
    metric = _plan_metric(other)
    assert metric.key == "defined" and math.isclose(_run(metric, 2024), 5_000 / 500)
    # a sub-term defined for a textbook metric the question names keeps the textbook metric
    sub = (
        "What is the FY2024 unadjusted EBITDA less capex? Define unadjusted EBITDA as operating income + "
        "depreciation and amortization."
    )
    assert _plan_metric(sub).key == "ebitda_less_capex"


def test_retention_and_percent_terms_and_words_for_operators() -> None:
    q = (
        "What is Northwind Robotics' FY2024 retention ratio? The retention ratio is defined as (net income minus "
        "cash dividends) divided by net income. Answer in percentage terms."
    )
    metric = _plan_metric(q)
    assert metric.unit == "%" and metric.name == "retention ratio"
    assert math.isclose(_run(metric, 2024), (800 - 200) / 800 * 100)
    q2 = (
        "Define the operating cash flow cover as cash from operations / total current liabilities. What was "
        "Bluefin Foods' FY2024 operating cash flow cover?"
    )
    m2 = defined_metric(q2, 2024)
    assert m2 is None  # the definition comes before the ask: nothing asks for it yet
    q3 = (
        "What was Bluefin Foods' FY2024 operating cash flow cover? Define operating cash flow cover as cash from "
        "operations / total current liabilities."
    )
    m3 = defined_metric(q3, 2024)
    assert m3 is not None and m3.unit == "x" and math.isclose(_run(m3, 2024), 1.3)


def test_an_operand_that_is_no_line_item_gives_no_formula() -> None:
    q = "What is the FY2024 widget yield? Widget yield is defined as: FY2024 widgets shipped / FY2024 revenue."
    assert defined_metric(q, 2024) is None
    assert defined_metric("What is the FY2024 ratio? Ratio is defined as: (revenue / cogs", 2024) is None


# --- textbook metrics and CAGR -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("question", "key", "expected"),
    [
        ("What was Cedar Ridge Energy's FY2024 cash conversion cycle?", "ccc",
         calc.days_ratio(400, 500, 3_000).result + calc.days_ratio(600, 700, 5_000).result
         - calc.days_ratio(300, 360, 3_000).result),
        ("What is Bluefin Foods' FY2024 earnings retention ratio?", "retention_ratio", 75.0),
        ("What is Bluefin Foods' FY2024 dividend payout ratio?", "payout_ratio", 25.0),
        ("What is Northwind Robotics' FY2024 EBITDA interest coverage?", "ebitda_coverage", (1_100 + 250) / 90),
        ("What is Northwind Robotics' FY2024 interest coverage ratio?", "interest_coverage", 1_100 / 90),
        ("What is Bluefin Foods' FY2024 operating cash flow ratio?", "operating_cash_flow_ratio", 1.3),
    ],
)  # fmt: skip
def test_textbook_metrics(question: str, key: str, expected: float) -> None:
    metric = _plan_metric(question)
    assert metric.key == key
    assert math.isclose(_run(metric, 2024), expected)


def test_cagr_plan_reads_the_first_and_last_year() -> None:
    plan = plan_question("What is Northwind Robotics' revenue CAGR from FY2022 to FY2024?", None)
    assert plan is not None and plan.kind == "cagr" and plan.years == [2022, 2024] and plan.unit == "%"
    assert plan.needs() == [("revenue", 2022), ("revenue", 2024)]
    two = plan_question("What is Bluefin Foods' 2 year compound annual growth rate of revenue ending FY2024?", None)
    assert two is not None and two.kind == "cagr" and two.years == [2022, 2024]
    step = calc.cagr(_BOOK[("revenue", 2022)], _BOOK[("revenue", 2024)], 2)
    assert math.isclose(step.result, ((5_000 / 3_200) ** 0.5 - 1) * 100)


def test_using_a_named_denominator() -> None:
    net = next(m for m in METRICS if m.key == "net_margin")
    over_equity = using_denominator(net, "net margin using total shareholders' equity as the denominator")
    assert over_equity.needs == (("net_income", 0), ("total_equity", 0))
    assert math.isclose(_run(over_equity, 2024), 800 / 4_000 * 100)
    assert using_denominator(net, "net margin for FY2024") is net


def test_a_ratio_in_percentage_terms_gets_a_logged_percent_step() -> None:
    metric = _plan_metric("What is Bluefin Foods' FY2024 operating cash flow ratio in percentage terms?")
    assert metric.unit == "%" and math.isclose(_run(metric, 2024), 130.0)


# --- end to end on the sample filings ---------------------------------------------------------------
def _number(text: str, unit: str) -> float:
    m = re.search(rf"(-?[\d,]+\.\d+)\s*{unit}", text)
    assert m, text
    return float(m.group(1).replace(",", ""))


def test_offline_cash_conversion_cycle_from_the_sample_statements(sample_service: Any) -> None:
    fin = build_financials(BLUEFIN)
    cur, prev = fin[2023], fin[2022]
    dio = calc.days_ratio(prev.bal.inventories, cur.bal.inventories, cur.inc.cogs).result
    dso = calc.days_ratio(prev.bal.receivables, cur.bal.receivables, cur.inc.revenue).result
    dpo = calc.days_ratio(prev.bal.payables, cur.bal.payables, cur.inc.cogs).result
    ans = sample_service.ask("What was Bluefin Foods' FY2023 cash conversion cycle?")
    assert ans.kind == AnswerKind.COMPUTED
    assert abs(_number(ans.text, "days") - (dio + dso - dpo)) < 0.006
    assert ans.citations and not ans.unsupported_figures


def test_offline_defined_formula_from_the_sample_statements(sample_service: Any) -> None:
    fin = build_financials(BLUEFIN)[2023]
    ans = sample_service.ask(
        "What was Bluefin Foods' FY2023 cash flow cover? Define cash flow cover as cash from operations "
        "divided by total current liabilities. Round your answer to two decimal places."
    )
    expected = fin.cf.operating / fin.bal.current_liabilities
    m = re.search(r"was (\d+\.\d{2})", ans.text)
    assert m and abs(float(m.group(1)) - expected) < 0.006, ans.text
    assert "cash from operations / total current liabilities" in ans.text and not ans.unsupported_figures


def test_offline_revenue_cagr_over_two_filings(sample_service: Any) -> None:
    fin = build_financials(NORTHWIND)
    expected = calc.cagr(fin[2021].inc.revenue, fin[2023].inc.revenue, 2).result
    ans = sample_service.ask("What was Northwind Robotics' revenue CAGR from FY2021 to FY2023?")
    assert ans.kind == AnswerKind.COMPUTED
    assert abs(_number(ans.text, "%") - expected) < 0.051, ans.text
    assert not ans.unsupported_figures


# --- amounts put together from sentences -----------------------------------------------------------
_TERM_LOAN_PAGE = (
    "Item 1.01 Entry into a Material Definitive Agreement.\n"
    "On March 3, 2024, Northwind Robotics, Inc. terminated its $600 million senior term loan facility dated "
    "as of June 1, 2021. No amounts were outstanding at the time of termination.\n"
    "On March 3, 2024, Northwind Robotics, Inc. entered into a new $900 million senior term loan facility "
    "with a group of lenders. The facility allows the Company to draw up to $900 million until 2029.\n"
    "On March 3, 2024, the Company also entered into a new $250 million delayed-draw senior term loan facility."
)


def test_a_change_is_the_new_amount_less_the_old_one_from_two_sentences() -> None:
    got = assemble("By how much did Northwind Robotics increase its senior term loan facility in March 2024?",
                   [("NW 8-K p.2", _TERM_LOAN_PAGE)], frozenset({"northwind", "robotics"}))  # fmt: skip
    # the delayed-draw facility is a third sentence with a new amount: which one is "the" new one is not decided
    assert got is None
    only_two = _TERM_LOAN_PAGE.rsplit("\n", 1)[0]
    got = assemble("By how much did Northwind Robotics increase its senior term loan facility in March 2024?",
                   [("NW 8-K p.2", only_two)], frozenset({"northwind", "robotics"}))  # fmt: skip
    assert got is not None and got.kind == "change" and got.step.result == 300e6
    assert [s.role for s in got.used] == ["old", "new"] and all(s.citation == "NW 8-K p.2" for s in got.used)
    assert got.step.verify()


def test_a_total_sums_each_instrument_entered_into() -> None:
    got = assemble("What is the total amount Northwind Robotics may draw under its senior term loan facilities?",
                   [("NW 8-K p.2", _TERM_LOAN_PAGE)], frozenset({"northwind", "robotics"}))  # fmt: skip
    assert got is not None and got.kind == "total"
    assert got.step.result == 1_150e6  # $900M + $250M; the terminated facility and the restatement are not counted
    assert assemble("What was Northwind Robotics' revenue in FY2023?", [("p", _TERM_LOAN_PAGE)]) is None
    one = _TERM_LOAN_PAGE.rsplit("\n", 1)[0]  # one facility entered into: a lookup, not a total
    assert assemble("What is the total amount Northwind Robotics may draw under its senior term loan facilities?",
                    [("p", one)], frozenset({"northwind", "robotics"})) is None  # fmt: skip


def test_offline_change_stated_in_one_sentence_from_to(sample_service: Any) -> None:
    ans = sample_service.ask(
        "By how much did Cedar Ridge Energy increase the aggregate revolving commitments under its credit "
        "agreement in November 2023?"
    )
    assert ans.kind == AnswerKind.COMPUTED, ans.text
    assert "$500 million" in ans.text and "$750 million" in ans.text and "$1,250 million" in ans.text
    assert ans.citations and "8K" in ans.citations[0].doc_name and not ans.unsupported_figures


# --- non-GAAP rows read from the company's reconciliation ---------------------------------------------
_RECONCILIATION = """Reconciliation of Non-GAAP Measures
Three Months Ended March 31, 2023 Three Months Ended March 31, 2024
($ million) EBITDA EBIT
Net income 40 52
Depreciation and amortization 20 21
Adjusted EBITDA 75 90
Twelve Months Ended March 31, 2023 Twelve Months Ended March 31, 2024
($ million) EBITDA EBIT
Net income 160 190
Depreciation and amortization 80 84
Adjusted EBITDA 301 344
"""


def test_adjusted_figures_are_looked_up_in_the_reconciliation_not_computed() -> None:
    plan = plan_question("What was Bluefin Foods' adjusted EBITDA for FY2024?", None)
    assert plan is not None and plan.kind == "lookup" and plan.item is not None
    assert plan.item.key == "adjusted_ebitda" and plan.years == [2024]
    assert plan_question("What is Bluefin Foods' expected adjusted EBITDA growth in FY2025?", None) is None
    # the column of the year asked, in the twelve-month block (header dates put the older year first)
    got = find_in_page(plan.item, 2024, _RECONCILIATION, filing_year=2024, months=12)
    assert [v for _s, v, *_ in got] == [344e6]
    assert [v for _s, v, *_ in find_in_page(plan.item, 2024, _RECONCILIATION, filing_year=2024, months=3)] == [90e6]


# --- scales reconciled across the inputs of one calculation -----------------------------------------
def test_an_input_read_a_thousandfold_off_its_other_years_is_restated() -> None:
    readings = [
        ("capex", 310e3, 1e3),  # FY2021 from a schedule whose page scale was taken as thousands
        ("capex", 298e6, 1e6),
        ("capex", 305e6, 1e6),
        ("revenue", 3_900e6, 1e6),
        ("revenue", 4_100e6, 1e6),
        ("revenue", 4_300e6, 1e6),
    ]
    assert reconcile_scales(readings) == {0: 1e6}
    # a real thousandfold change is not touched when no scale most inputs agree on exists
    assert reconcile_scales([("capex", 310e3, 1e3), ("capex", 298e6, 1e6)]) == {}
    # nor an item whose years sit close together at different scales (a filing switching units)
    assert reconcile_scales([("capex", 298e6, 1e3), ("capex", 305e6, 1e6), ("revenue", 4e9, 1e6)]) == {}


def test_the_year_table_on_the_page_after_a_quarter_table_is_read() -> None:
    quarter, year = _RECONCILIATION.split("Twelve Months Ended", 1)
    pages = {4: quarter, 5: "Twelve Months Ended" + year}  # the full-year table continues on the next page

    def read_page(doc_id: str, page: int) -> str | None:
        return pages.get(page)

    hit = Hit(
        chunk=Chunk(id="c4", doc_id="bf", tenant="t", kind=ChunkKind.PAGE, text=quarter, page_start=4, page_end=4,
                    metadata={"fiscal_year": 2024, "company": "Bluefin Foods Corporation"}),
        score=1.0, source="test",
    )  # fmt: skip
    item = ITEMS["adjusted_ebitda"]
    finder = ItemFinder([hit], TenantContext(read_page=read_page), None, target_year=2024, months=12)
    found = finder.find(item, 2024, "Bluefin Foods")
    assert found is not None and found.value == 344e6 and found.page == 5
    # a quarter asked: the quarter's own table, no page turned
    finder3 = ItemFinder([hit], TenantContext(read_page=read_page), None, target_year=2024, months=3)
    found3 = finder3.find(item, 2024, "Bluefin Foods")
    assert found3 is not None and found3.value == 90e6 and found3.page == 4 and len(finder3.pages) == 1


@pytest.mark.parametrize(
    "question",
    [
        "What is Northwind Robotics' FY2024 cash cover? Cash cover = cash from operations / total current liabilities.",
        "What is Northwind Robotics' FY2024 cash cover, calculated as cash from operations divided by total current "
        "liabilities?",
        "What is Northwind Robotics' FY2024 cash cover? Cash cover is computed as: (cash from operations) / "
        "(total current liabilities). Round your answer to two decimal places.",
    ],
)
def test_the_ways_a_question_writes_a_definition(question: str) -> None:
    metric = _plan_metric(question)
    assert metric.key == "defined" and metric.name.lower() == "cash cover" and metric.unit == "x"
    assert math.isclose(_run(metric, 2024), 1.3)
