"""Safe arithmetic for answers: an `ast` whitelist evaluator and logged financial helpers.

Every figure an answer computes goes through here so that the trace records *what* was computed
from *which* cited inputs (`CalcStep`), and `finrag.answer.grounding.check_answer` can re-check
both the inputs (against cited pages) and the result (against the figure in the answer).
No `eval`: the expression is parsed with `ast` and only numbers, + - * / **, unary signs,
parentheses and a handful of functions are interpreted.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable, Sequence

from pydantic import BaseModel, Field

MAX_EXPRESSION_CHARS = 1_000
MAX_NODES = 400
MAX_EXPONENT = 64  # enough for compounding over decades; blocks 10**10**10 style bombs
MAX_MAGNITUDE = 1e18  # larger than any filing figure in base units (a quintillion dollars)


class CalculatorError(ValueError):
    """Raised for anything the calculator refuses to evaluate (with the reason)."""


def _avg(*xs: float) -> float:
    if not xs:
        raise CalculatorError("avg() needs at least one argument")
    return math.fsum(xs) / len(xs)


def _round(x: float, ndigits: float = 0) -> float:
    if ndigits != int(ndigits) or not 0 <= ndigits <= 12:
        raise CalculatorError("round() digits must be an integer between 0 and 12")
    return float(round(x, int(ndigits)))


def _min(*xs: float) -> float:
    if not xs:
        raise CalculatorError("min() needs at least one argument")
    return min(xs)


def _max(*xs: float) -> float:
    if not xs:
        raise CalculatorError("max() needs at least one argument")
    return max(xs)


FUNCTIONS: dict[str, Callable[..., float]] = {
    "abs": abs,
    "round": _round,
    "min": _min,
    "max": _max,
    "avg": _avg,
}


def _checked(x: float) -> float:
    if not math.isfinite(x) or abs(x) > MAX_MAGNITUDE:
        raise CalculatorError(f"result out of range (|x| > {MAX_MAGNITUDE:g})")
    return x


def _eval(node: ast.AST) -> float:
    if isinstance(node, ast.Expression):
        return _eval(node.body)
    if isinstance(node, ast.Constant):
        # bool is an int subclass: True + 1 is not arithmetic anyone meant
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise CalculatorError(f"only numbers are allowed, not {type(node.value).__name__}")
        return _checked(float(node.value))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        v = _eval(node.operand)
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.BinOp):
        left, right = _eval(node.left), _eval(node.right)
        op = node.op
        if isinstance(op, ast.Add):
            return _checked(left + right)
        if isinstance(op, ast.Sub):
            return _checked(left - right)
        if isinstance(op, ast.Mult):
            return _checked(left * right)
        if isinstance(op, ast.Div):
            if right == 0:
                raise CalculatorError("division by zero")
            return _checked(left / right)
        if isinstance(op, ast.Pow):
            if abs(right) > MAX_EXPONENT:
                raise CalculatorError(f"exponent {right:g} too large (limit {MAX_EXPONENT})")
            if left == 0 and right < 0:
                raise CalculatorError("division by zero (0 to a negative power)")
            if left < 0 and right != int(right):
                raise CalculatorError("fractional power of a negative number")
            try:
                return _checked(left**right)
            except OverflowError as exc:
                raise CalculatorError("result out of range") from exc
        raise CalculatorError(f"operator {type(op).__name__} is not allowed")
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            raise CalculatorError(f"function not allowed: {ast.unparse(node.func)}; allowed: {sorted(FUNCTIONS)}")
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            raise CalculatorError("keyword or starred arguments are not allowed")
        args = [_eval(a) for a in node.args]
        return _checked(float(FUNCTIONS[node.func.id](*args)))
    if isinstance(node, ast.Name):
        raise CalculatorError(f"names are not allowed: {node.id!r}")
    if isinstance(node, ast.Attribute):
        raise CalculatorError("attribute access is not allowed")
    raise CalculatorError(f"syntax not allowed: {type(node).__name__}")


def evaluate(expression: str) -> float:
    """Evaluate an arithmetic expression safely; raise `CalculatorError` with the reason otherwise."""
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise CalculatorError(f"expression longer than {MAX_EXPRESSION_CHARS} characters")
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except (SyntaxError, ValueError) as exc:  # ValueError: e.g. int literal with too many digits
        raise CalculatorError(f"not a valid expression: {exc}") from exc
    if sum(1 for _ in ast.walk(tree)) > MAX_NODES:
        raise CalculatorError("expression too complex")
    try:
        return _eval(tree)
    except CalculatorError:
        raise
    except (ArithmeticError, TypeError, ValueError) as exc:
        raise CalculatorError(str(exc)) from exc


# ---------------------------------------------------------------------------------------------
# Logged steps


class CalcInput(BaseModel):
    """One operand of a calculation and where it came from (a citation key of the answer's sources)."""

    name: str
    value: float = Field(description="in base units: dollars, shares, percent points")
    citation: str | None = None
    year: int | None = Field(default=None, description="fiscal year the value is meant to be for, if any")


class CalcStep(BaseModel):
    """A logged calculation: JSON-serialisable with `model_dump(mode='json')` for the answer trace."""

    op: str
    formula: str = Field(description="symbolic, with input names")
    expression: str = Field(description="numeric, re-evaluable with `evaluate`")
    inputs: list[CalcInput]
    result: float
    unit: str | None = Field(default=None, description="'%', 'x', 'days', 'USD' or None")

    def verify(self) -> bool:
        """Re-evaluate the numeric expression; True when it still gives `result`."""
        return math.isclose(evaluate(self.expression), self.result, rel_tol=1e-9, abs_tol=1e-12)


Operand = CalcInput | float | int


def _inputs(values: Sequence[Operand], default_names: Sequence[str]) -> list[CalcInput]:
    out = []
    for v, name in zip(values, default_names, strict=True):
        out.append(v if isinstance(v, CalcInput) else CalcInput(name=name, value=float(v)))
    return out


def _num(x: float) -> str:
    # repr round-trips exactly; negatives parenthesised so "a - -b" never appears
    s = repr(float(x))
    return f"({s})" if x < 0 else s


def _step(op: str, formula: str, inputs: list[CalcInput], unit: str | None) -> CalcStep:
    """Substitute input values for `{0}`, `{1}`... in `formula` and evaluate it safely."""
    expression = formula.format(*(_num(i.value) for i in inputs))
    symbolic = formula.format(*(i.name for i in inputs))
    return CalcStep(
        op=op, formula=symbolic, expression=expression, inputs=inputs, result=evaluate(expression), unit=unit
    )


def pct_change(current: Operand, prior: Operand) -> CalcStep:
    """Growth in percent: (current - prior) / |prior| * 100 (|prior| so a shrinking loss reads as growth)."""
    ins = _inputs([current, prior], ["current", "prior"])
    return _step("pct_change", "({0} - {1}) / abs({1}) * 100", ins, "%")


growth = pct_change


def margin(part: Operand, total: Operand) -> CalcStep:
    """Share in percent: part / total * 100 (gross, operating, EBITDA margins; tax rates)."""
    ins = _inputs([part, total], ["part", "total"])
    return _step("margin", "{0} / {1} * 100", ins, "%")


def ratio(numerator: Operand, denominator: Operand) -> CalcStep:
    """Plain ratio (current ratio, debt/equity, ROA as a fraction)."""
    ins = _inputs([numerator, denominator], ["numerator", "denominator"])
    return _step("ratio", "{0} / {1}", ins, "x")


def cagr(begin: Operand, end: Operand, years: float) -> CalcStep:
    """Compound annual growth in percent over `years` periods: ((end / begin) ** (1 / years) - 1) * 100."""
    if years <= 0:
        raise CalculatorError("cagr needs a positive number of years")
    ins = _inputs([begin, end], ["begin", "end"])
    return _step("cagr", "(({1} / {0}) ** (1 / " + repr(float(years)) + ") - 1) * 100", ins, "%")


def average(*values: Operand, unit: str | None = None) -> CalcStep:
    """Mean over periods (e.g. average inventory of two year-ends, three-year average margin)."""
    if not values:
        raise CalculatorError("average needs at least one value")
    ins = _inputs(values, [f"v{i + 1}" for i in range(len(values))])
    return _step("average", "avg(" + ", ".join(f"{{{i}}}" for i in range(len(ins))) + ")", ins, unit)


def difference(a: Operand, b: Operand, unit: str | None = None) -> CalcStep:
    """a - b (working capital, change between years, EBITDA less capex)."""
    ins = _inputs([a, b], ["a", "b"])
    return _step("difference", "{0} - {1}", ins, unit)


def total(*values: Operand, unit: str | None = None) -> CalcStep:
    """Sum of values (named `total` so it does not shadow the builtin)."""
    if not values:
        raise CalculatorError("total needs at least one value")
    ins = _inputs(values, [f"v{i + 1}" for i in range(len(values))])
    return _step("sum", " + ".join(f"{{{i}}}" for i in range(len(ins))), ins, unit)


def turnover(flow: Operand, balance_begin: Operand, balance_end: Operand) -> CalcStep:
    """Turnover = flow / average balance, e.g. inventory turnover = COGS / avg inventory,
    fixed asset turnover = revenue / avg PP&E, ROA = net income / avg total assets."""
    ins = _inputs([flow, balance_begin, balance_end], ["flow", "balance_begin", "balance_end"])
    return _step("turnover", "{0} / avg({1}, {2})", ins, "x")


def inventory_turnover(cogs: Operand, inventory_begin: Operand, inventory_end: Operand) -> CalcStep:
    step = turnover(*_inputs([cogs, inventory_begin, inventory_end], ["cogs", "inventory_begin", "inventory_end"]))
    return step.model_copy(update={"op": "inventory_turnover"})


def days_ratio(balance_begin: Operand, balance_end: Operand, flow: Operand, days: float = 365) -> CalcStep:
    """Days ratio = days * average balance / flow (DPO with COGS, DSO with revenue, DIO with COGS)."""
    ins = _inputs([balance_begin, balance_end, flow], ["balance_begin", "balance_end", "flow"])
    return _step("days_ratio", repr(float(days)) + " * avg({0}, {1}) / {2}", ins, "days")


def dpo(
    ap_begin: Operand,
    ap_end: Operand,
    cogs: Operand,
    inventory_begin: Operand | None = None,
    inventory_end: Operand | None = None,
    days: float = 365,
) -> CalcStep:
    """Days payable outstanding = days * avg AP / purchases, where purchases = COGS + change in
    inventory when both inventory balances are given (FinanceBench's definition), else COGS."""
    if (inventory_begin is None) != (inventory_end is None):
        raise CalculatorError("dpo needs both inventory balances or neither")
    if inventory_begin is None or inventory_end is None:
        step = days_ratio(*_inputs([ap_begin, ap_end, cogs], ["ap_begin", "ap_end", "cogs"]), days=days)
        return step.model_copy(update={"op": "dpo"})
    ins = _inputs(
        [ap_begin, ap_end, cogs, inventory_begin, inventory_end],
        ["ap_begin", "ap_end", "cogs", "inventory_begin", "inventory_end"],
    )
    return _step("dpo", repr(float(days)) + " * avg({0}, {1}) / ({2} + {4} - {3})", ins, "days")


def compute(expression: str, inputs: Sequence[CalcInput] = (), unit: str | None = None) -> CalcStep:
    """Free-form step: `expression` refers to inputs as {0}, {1}, ... (validated by `evaluate`)."""
    return _step("expression", expression, list(inputs), unit)
