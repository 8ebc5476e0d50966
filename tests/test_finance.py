"""finrag.finance: metric and line-item tables read from data files, metrics evaluated from their
declarative steps, and the facts read from a question once."""

from __future__ import annotations

import pytest

from finrag.finance.calculator import CalcInput
from finrag.finance.data import load
from finrag.finance.facts import read_question
from finrag.finance.metrics import ITEMS, METRICS, Metric, Step, item_in, run_steps
from finrag.finance.plan import plan_question

VALUES = {
    ("revenue", 0): 1_000.0,
    ("cogs", 0): 600.0,
    ("gross_profit", 0): 400.0,
    ("operating_income", 0): 150.0,
    ("da", 0): 50.0,
    ("capex", 0): 80.0,
    ("net_income", 0): 90.0,
    ("total_assets", 0): 1_100.0,
    ("total_assets", -1): 900.0,
    ("inventory", 0): 130.0,
    ("inventory", -1): 110.0,
    ("accounts_payable", 0): 70.0,
    ("accounts_payable", -1): 50.0,
    ("cash", 0): 40.0,
    ("short_term_investments", 0): 20.0,
    ("accounts_receivable", 0): 60.0,
    ("current_liabilities", 0): 100.0,
}


def get(key: str, offset: int) -> CalcInput:
    return CalcInput(name=f"{key} {offset}", value=VALUES[(key, offset)], citation="doc p.1")


def metric(key: str, alternative: int = 0) -> Metric:
    return [m for m in METRICS if m.key == key][alternative]


@pytest.mark.parametrize(
    ("key", "alternative", "expected"),
    [
        ("gross_margin", 0, 40.0),  # 400 / 1000
        ("gross_margin", 1, 40.0),  # (1000 - 600) / 1000
        ("ebitda", 0, 200.0),
        ("ebitda_margin", 0, 20.0),  # (150 + 50) / 1000
        ("ebitda_less_capex", 0, 120.0),
        ("roa", 0, 9.0),  # 90 / avg(900, 1100) in percent
        ("inventory_turnover", 0, 5.0),  # 600 / avg(110, 130)
        ("dpo", 0, 365 * 60 / (600 + 20)),  # days x avg AP / (COGS + change in inventory)
        ("quick_ratio", 0, 1.2),  # (40 + 20 + 60) / 100
        ("quick_ratio", 1, 1.0),  # (40 + 60) / 100
    ],
)
def test_metric_steps_compute_the_textbook_definition(key: str, alternative: int, expected: float) -> None:
    steps = metric(key, alternative).build(get)
    assert steps[-1].result == pytest.approx(expected)
    # every input of every step is cited or is an earlier step's result
    results = {s.result for s in steps}
    assert all(i.citation or i.value in results for s in steps for i in s.inputs)


def test_named_steps_feed_later_steps_and_rename_the_log() -> None:
    steps = metric("ebitda_margin").build(get)
    assert steps[0].op == "ebitda" and steps[0].formula == "operating income + depreciation and amortization"
    assert [i.name for i in steps[1].inputs] == ["EBITDA", "revenue 0"]


def test_every_metric_reads_known_items_with_known_functions() -> None:
    for m in METRICS:
        assert all(k in ITEMS for k, _ in m.needs), m.key
        refs = {a.partition("@")[0] for s in m.steps for a in s.args} - {s.name for s in m.steps}
        assert refs <= set(ITEMS), m.key
    with pytest.raises(KeyError):
        run_steps((Step("no_such_function", ("revenue",)),), get)
    assert {m["key"] for m in load("metrics")["metrics"]} == {m.key for m in METRICS}


def test_questions_name_line_items_specific_before_general() -> None:
    assert item_in("What was the cost of goods sold?") == ITEMS["cogs"]
    assert item_in("What were net sales?") == ITEMS["revenue"]
    assert item_in("the weather") is None


def test_read_question_once() -> None:
    f = read_question("Is 3M's Q2 FY2023 gross margin healthy compared to FY22? Answer in the 10-Q.")
    assert f.years == (2022, 2023) and f.quarter == 2 and f.period == "quarter" and f.forms == ("10-Q",)
    assert f.yes_no and f.needs_judgement and not f.asks_why
    assert f.metric == "gross margin" and f.formula == "gross profit / revenue"
    why = read_question("What drove the decline in operating margin during the first half of 2022?")
    assert why.asks_why and why.needs_reading and why.period == "half" and not why.yes_no
    assert read_question("What was the nine months ended revenue?").period == "nine_months"
    lookup = read_question("What was revenue?")
    assert lookup.years == () and lookup.plan is None  # no year and no default: nothing to plan
    dated = lookup.with_default_year(2021)
    assert dated.plan is not None and dated.plan.years == [2021] and dated.metric == "revenue"
    assert dated.with_default_year(2021) is dated
    assert plan_question("What was revenue?", 2021).needs() == dated.plan.needs()
