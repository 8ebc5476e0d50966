"""Safe calculator: what it evaluates, what it refuses, and the financial helpers' formulas."""

from __future__ import annotations

import json
import math

import pytest

from finrag.finance import calculator as calc
from finrag.finance.calculator import CalcInput, CalcStep, CalculatorError, evaluate


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("1 + 2 * 3", 7.0),
        ("(1 + 2) * 3", 9.0),
        ("-5 + +2", -3.0),
        ("2 ** 10", 1024.0),
        ("7 / 2", 3.5),
        ("abs(-4.5)", 4.5),
        ("round(2.345, 2)", 2.35),
        ("round(2.5)", 2.0),  # Python rounds half to even; documented by this test
        ("min(3, 1, 2)", 1.0),
        ("max(3, 1, 2)", 3.0),
        ("avg(1, 2, 3, 4)", 2.5),
        ("2 ** -1", 0.5),
        ("1e3 * 1.5", 1500.0),
    ],
)
def test_evaluate_arithmetic(expr: str, expected: float) -> None:
    assert evaluate(expr) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("expr", "reason"),
    [
        ("__import__('os')", "function not allowed"),
        ("__import__('os').system('true')", "not allowed"),
        ("().__class__", "attribute access"),
        ("(1).real", "attribute access"),
        ("x + 1", "names are not allowed"),
        ("lambda: 1", "not allowed"),
        ("(lambda: 1)()", "function not allowed"),
        ("print(1)", "function not allowed"),
        ("[1, 2]", "not allowed"),
        ("'a' * 3", "only numbers"),
        ("True + 1", "only numbers"),
        ("1j * 2", "only numbers"),
        ("7 % 2", "Mod"),
        ("7 // 2", "FloorDiv"),
        ("1 if 1 else 2", "not allowed"),
        ("round(1.5, ndigits=1)", "keyword"),
        ("max(*[1, 2])", "starred"),
        ("1; 2", "not a valid expression"),
        ("import os", "not a valid expression"),
    ],
)
def test_evaluate_rejects(expr: str, reason: str) -> None:
    with pytest.raises(CalculatorError, match=reason):
        evaluate(expr)


@pytest.mark.parametrize(
    ("expr", "reason"),
    [
        ("2 ** 1000", "exponent"),
        ("9 ** 9 ** 9", "exponent"),
        ("10.0 ** 60 * 10.0 ** 60", "out of range"),
        ("1e400", "out of range"),
        ("1 / 0", "division by zero"),
        ("5 / (2 - 2)", "division by zero"),
        ("0 ** -1", "division by zero"),
        ("(-8) ** 0.5", "negative"),
        ("round(1.234, 40)", "digits"),
        ("avg()", "at least one"),
        ("9" * 5000, "not a valid expression|too long|longer"),
        ("+".join(["1"] * 600), "longer|too complex"),
    ],
)
def test_evaluate_guards(expr: str, reason: str) -> None:
    with pytest.raises(CalculatorError, match=reason):
        evaluate(expr)


def test_pct_change_and_growth_alias() -> None:
    step = calc.pct_change(120, 100)
    assert step.result == pytest.approx(20.0)
    assert step.unit == "%"
    assert calc.growth is calc.pct_change
    # a loss shrinking from -50 to -30 is growth: divide by |prior|
    assert calc.pct_change(-30, -50).result == pytest.approx(40.0)


def test_margin_ratio_difference_total_average() -> None:
    assert calc.margin(25, 200).result == pytest.approx(12.5)
    assert calc.ratio(3, 4).result == pytest.approx(0.75)
    assert calc.ratio(3, 4).unit == "x"
    assert calc.difference(10, 15).result == pytest.approx(-5)
    assert calc.total(1, 2, 3.5).result == pytest.approx(6.5)
    assert calc.average(10, 20, 60, unit="%").result == pytest.approx(30)
    with pytest.raises(CalculatorError, match="division by zero"):
        calc.margin(1, 0)


def test_cagr_formula() -> None:
    # 100 -> 121 over two years is 10 % a year; 1000 -> 2000 over 5 years is 2 ** (1/5) - 1
    assert calc.cagr(100, 121, 2).result == pytest.approx(10.0)
    assert calc.cagr(1000, 2000, 5).result == pytest.approx((2 ** (1 / 5) - 1) * 100)
    with pytest.raises(CalculatorError):
        calc.cagr(100, 121, 0)


def test_turnover_and_inventory_turnover() -> None:
    # COGS 900 over inventory 80 -> 100: average 90, turnover 10
    step = calc.inventory_turnover(900, 80, 100)
    assert step.result == pytest.approx(10.0)
    assert step.op == "inventory_turnover"
    assert step.formula == "cogs / avg(inventory_begin, inventory_end)"
    assert calc.turnover(500, 200, 300).result == pytest.approx(2.0)


def test_days_ratio_and_dpo() -> None:
    # DPO = 365 * avg AP / COGS
    assert calc.days_ratio(100, 120, 730).result == pytest.approx(365 * 110 / 730)
    assert calc.dpo(100, 120, 730).result == pytest.approx(55.0)
    assert calc.dpo(100, 120, 730).unit == "days"
    # with purchases = COGS + change in inventory (50 -> 60)
    assert calc.dpo(100, 120, 900, 50, 60).result == pytest.approx(365 * 110 / 910)
    with pytest.raises(CalculatorError, match="both inventory"):
        calc.dpo(100, 120, 900, 50)


def test_step_is_json_serialisable_and_reverifiable() -> None:
    step = calc.margin(
        CalcInput(name="operating income", value=1.2e9, citation="doc#p3", year=2022),
        CalcInput(name="revenue", value=8e9, citation="doc#p3", year=2022),
    )
    assert step.formula == "operating income / revenue * 100"
    data = json.loads(json.dumps(step.model_dump(mode="json")))
    assert data["inputs"][0] == {"name": "operating income", "value": 1.2e9, "citation": "doc#p3", "year": 2022}
    again = CalcStep.model_validate(data)
    assert again == step
    assert again.verify()
    forged = again.model_copy(update={"result": 99.0})
    assert not forged.verify()


def test_negative_inputs_are_parenthesised_in_the_expression() -> None:
    step = calc.difference(5, -3)
    assert step.expression == "5.0 - (-3.0)"
    assert step.result == 8.0
    assert math.isclose(evaluate(step.expression), 8.0)


def test_compute_free_form_step() -> None:
    ins = [CalcInput(name="a", value=2.0), CalcInput(name="b", value=3.0), CalcInput(name="c", value=4.0)]
    step = calc.compute("({0} + {1}) / {2} * 100", ins, unit="%")
    assert step.result == pytest.approx(125.0)
    assert step.formula == "(a + b) / c * 100"
