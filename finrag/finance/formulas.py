"""Formulas a question writes out itself, parsed into a calculator metric.

"DPO is defined as: 365 * (average accounts payable between FY2017 and FY2018) / (FY2018 COGS +
change in inventory between FY2017 and FY2018)" becomes one logged `compute` step over line items at
year offsets from the fiscal year asked (accounts_payable@-1, accounts_payable, cogs, inventory@-1,
inventory); "CCC is defined as DIO + DSO - DPO" uses the question's other definitions, or the
textbook terms of `data/formulas.toml`, for its operands. Every operand must resolve to a line item
(`data/items.toml`), a number or a defined term; anything else and there is no formula (None), never
a guess. The vocabulary (definition openers, operator words, aggregates, number words) is data.

`using_denominator` re-points a ratio metric's denominator ("using total revenue as the denominator").
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from finrag.finance.calculator import CalcInput, CalculatorError
from finrag.finance.data import load
from finrag.finance.figures import years_in
from finrag.finance.metrics import ITEM_MENTIONS, ITEMS, Metric, Step, item_in, run_steps

_DATA = load("formulas")
_DEFINITIONS = tuple(re.compile(d["pattern"], re.I) for d in _DATA["definitions"])
_OPERATORS = re.compile(
    "|".join(
        f"(?P<{name}>{'|'.join(alts)})"
        for name, alts in zip(("add", "sub", "mul", "div"), _DATA["operators"].values(), strict=True)
    ),
    re.I,
)
_OP_OF = {"add": "+", "sub": "-", "mul": "*", "div": "/"}
_AVERAGE = re.compile(_DATA["words"]["average"], re.I)
_CHANGE = re.compile(_DATA["words"]["change"], re.I)
_FILLER = re.compile(_DATA["words"]["filler"], re.I)
PERCENT = re.compile(_DATA["words"]["percent"], re.I)
_NUMBER_WORDS: dict[float, str] = {float(k): v for k, v in _DATA["numbers"].items()}
_TERMS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(t["pattern"], re.I), t["formula"]) for t in _DATA["terms"].values()
)
_REMARK = re.compile(r"\[[^\]]*\]")  # "[from cash flow statement]": where to read it, not arithmetic
_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")
# The end of a definition: a full stop before the next sentence, a question mark, a semicolon.
_END = re.compile(r"\.\s+(?=[A-Z(\[])|\.\s*$|\?|;|\n")
_NAME_CUT = re.compile(r"(?i)^.*(?:[,;:?]|\.\s|\b(?:where|with|given|and|if|when|that|which)\b)\s*")
MAX_DEPTH = 4  # definitions that use definitions; deeper is a cycle


class FormulaError(ValueError):
    """A formula the grammar cannot read (an operand that is no line item, number or defined term)."""


# ---------------------------------------------------------------------------------------------
# Expression trees


@dataclass(frozen=True, slots=True)
class Item:
    key: str
    offset: int  # fiscal years from the year asked: 0 that year, -1 the year before


@dataclass(frozen=True, slots=True)
class Num:
    value: float


@dataclass(frozen=True, slots=True)
class Avg:
    items: tuple[Item, ...]


@dataclass(frozen=True, slots=True)
class Bin:
    op: str  # + - * /
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Neg:
    node: Node


Node = Item | Num | Avg | Bin | Neg


def items_of(node: Node) -> list[Item]:
    """Line items of a tree, in order of first appearance."""
    out: list[Item] = []

    def walk(n: Node) -> None:
        if isinstance(n, Item):
            if n not in out:
                out.append(n)
        elif isinstance(n, Avg):
            for i in n.items:
                walk(i)
        elif isinstance(n, Bin):
            walk(n.left)
            walk(n.right)
        elif isinstance(n, Neg):
            walk(n.node)

    walk(node)
    return out


def _num_text(v: float) -> str:
    return repr(int(v)) if v == int(v) else repr(v)


def expression(node: Node, refs: list[Item]) -> str:
    """The calculator expression, inputs as {0}, {1}... in the order of `refs`."""
    if isinstance(node, Item):
        return "{" + str(refs.index(node)) + "}"
    if isinstance(node, Num):
        return _num_text(node.value)
    if isinstance(node, Avg):
        return "avg(" + ", ".join(expression(i, refs) for i in node.items) + ")"
    if isinstance(node, Neg):
        return f"-({expression(node.node, refs)})"
    return f"({expression(node.left, refs)} {node.op} {expression(node.right, refs)})"


def _item_words(item: Item) -> str:
    name = ITEMS[item.key].name
    if item.offset == 0:
        return name
    if item.offset == -1:
        return f"prior-year {name}"
    return f"{name} of {abs(item.offset)} years before" if item.offset < 0 else f"{name} of a later year"


def words(node: Node, top: bool = True) -> str:
    """The formula in words, with no digits (a digit in an answer reads as a figure to find in the filing)."""
    if isinstance(node, Item):
        return _item_words(node)
    if isinstance(node, Num):
        return _NUMBER_WORDS.get(node.value, _num_text(node.value))
    if isinstance(node, Avg):
        names = {ITEMS[i.key].name for i in node.items}
        if len(names) == 1 and len(node.items) == 2:
            return f"average {next(iter(names))} of the two year-ends"
        return "average of " + ", ".join(_item_words(i) for i in node.items)
    if isinstance(node, Neg):
        return f"minus {words(node.node, False)}"
    text = f"{words(node.left, False)} {node.op} {words(node.right, False)}"
    return text if top else f"({text})"


# ---------------------------------------------------------------------------------------------
# Reading definitions


def _norm(text: str) -> str:
    text = _FILLER.sub(" ", text.lower())
    text = re.sub(r"\([^)]*\)", " ", text)  # "days payable outstanding (DPO)": the name without its acronym
    return " ".join(re.findall(r"[a-z0-9&%]+", text))


def _acronyms(text: str) -> list[str]:
    return [a.lower() for a in re.findall(r"\(([A-Za-z&]{2,8})\)", text)]


@dataclass(frozen=True, slots=True)
class Definition:
    name: str  # as the question writes it ("Fixed asset turnover ratio")
    expr: str  # the formula text
    start: int  # where the definition starts in the question


def definitions(question: str) -> list[Definition]:
    """The definitions a question writes out, in order ("X is defined as ...", "Define X as ...")."""
    found: list[Definition] = []
    for rx in _DEFINITIONS:
        for m in rx.finditer(question):
            end = _END.search(question, m.end())
            expr = question[m.end() : end.start() if end else len(question)].strip()
            name = _tail_phrase(_NAME_CUT.sub("", m.group("name")).strip(" .,:"))
            # ", calculated as": the definition starts at the keyword, the name is the question's own ask
            start = m.start("kw") if "kw" in rx.groupindex else m.start()
            if name and expr and all(abs(d.start - start) > 3 for d in found):
                found.append(Definition(name=name, expr=expr, start=start))
    return sorted(found, key=lambda d: d.start)


_NAME_STOP = re.compile(r"(?i)^(?:what|is|was|are|were|the|a|an|its|their|for|how|much)$")


def _tail_phrase(name: str) -> str:
    """The defined name without the asking words before it: "What is X's FY2023 cash ratio" -> "cash ratio"."""
    out: list[str] = []
    for tok in reversed(name.split()):
        if len(out) == 8 or _NAME_STOP.match(tok) or re.search(r"\d{2}|['’]s?$", tok):
            break
        out.insert(0, tok)
    return " ".join(out)


def _names_match(name: str, phrase: str) -> bool:
    n, p = _norm(name), _norm(phrase)
    if n and (n == p or re.search(rf"(?<![a-z0-9]){re.escape(n)}(?![a-z0-9])", p)):
        return True
    return bool(set(_acronyms(name)) & set(p.split())) or (bool(n) and n in _acronyms(phrase))


class _Parser:
    def __init__(self, target: int, defs: list[Definition]) -> None:
        self.target = target
        self.defs = defs

    def parse(self, text: str, base: int = 0, depth: int = 0, skip: frozenset[str] = frozenset()) -> Node:
        if depth > MAX_DEPTH:
            raise FormulaError("definitions nest too deep (a cycle?)")
        tokens = self._tokens(_REMARK.sub(" ", text))
        pos, node = self._sum(tokens, 0, base, depth, skip)
        if pos != len(tokens):
            raise FormulaError(f"unexpected {tokens[pos][1]!r} in {text!r}")
        return node

    @staticmethod
    def _tokens(text: str) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        buf = ""
        i = 0

        def flush() -> None:
            nonlocal buf
            if buf.strip():
                chunk = buf.strip().replace(",", "")
                out.append(("num", chunk) if _NUMBER.match(chunk) else ("term", buf.strip()))
            buf = ""

        while i < len(text):
            ch = text[i]
            if ch in "()":
                # "(DPO)" after a name is its acronym, not a group: kept in the term
                close = text.find(")", i)
                inner = text[i + 1 : close] if ch == "(" and close > 0 else ""
                if ch == "(" and buf.strip() and re.fullmatch(r"[A-Za-z&]{2,8}", inner):
                    buf += text[i : close + 1]
                    i = close + 1
                    continue
                flush()
                out.append(("paren", ch))
                i += 1
                continue
            m = _OPERATORS.match(text, i)
            if m and m.group(0).strip():
                flush()
                out.append(("op", _OP_OF[m.lastgroup or ""]))
                i = m.end()
                continue
            buf += ch
            i += 1
        flush()
        return out

    def _sum(
        self, toks: list[tuple[str, str]], pos: int, base: int, depth: int, skip: frozenset[str]
    ) -> tuple[int, Node]:
        pos, node = self._product(toks, pos, base, depth, skip)
        while pos < len(toks) and toks[pos] in (("op", "+"), ("op", "-")):
            op = toks[pos][1]
            pos, right = self._product(toks, pos + 1, base, depth, skip)
            node = Bin(op, node, right)
        return pos, node

    def _product(
        self, toks: list[tuple[str, str]], pos: int, base: int, depth: int, skip: frozenset[str]
    ) -> tuple[int, Node]:
        pos, node = self._factor(toks, pos, base, depth, skip)
        while pos < len(toks) and toks[pos] in (("op", "*"), ("op", "/")):
            op = toks[pos][1]
            pos, right = self._factor(toks, pos + 1, base, depth, skip)
            node = Bin(op, node, right)
        return pos, node

    def _factor(
        self, toks: list[tuple[str, str]], pos: int, base: int, depth: int, skip: frozenset[str]
    ) -> tuple[int, Node]:
        if pos >= len(toks):
            raise FormulaError("the formula ends with an operator")
        kind, val = toks[pos]
        if (kind, val) == ("op", "-"):
            pos, node = self._factor(toks, pos + 1, base, depth, skip)
            return pos, Neg(node)
        if (kind, val) == ("paren", "("):
            pos, node = self._sum(toks, pos + 1, base, depth, skip)
            if pos >= len(toks) or toks[pos] != ("paren", ")"):
                raise FormulaError("unbalanced parentheses")
            return pos + 1, node
        if kind == "num":
            return pos + 1, Num(float(val))
        if kind == "term":
            return pos + 1, self._operand(val, base, depth, skip)
        raise FormulaError(f"unexpected {val!r}")

    def _operand(self, phrase: str, base: int, depth: int, skip: frozenset[str]) -> Node:
        years = sorted(years_in(phrase))
        avg, change = bool(_AVERAGE.search(phrase)), bool(_CHANGE.search(phrase))
        if len(years) > 1 and not (avg or change):
            raise FormulaError(f"several years and no average or change: {phrase!r}")
        if len(years) == 1 and not (avg or change):
            base += years[0] - self.target
        # the question's own definitions first, then textbook terms, then line items
        for d in self.defs:
            if d.name not in skip and _names_match(d.name, phrase):
                if avg or change:
                    raise FormulaError(f"an average or change of a defined term: {phrase!r}")
                return self.parse(d.expr, base, depth + 1, skip | {d.name})
        item = item_in(phrase)
        for rx, formula in _TERMS:
            if rx.search(phrase) and formula not in skip and (item is None or _longer(rx, phrase, item.key)):
                if avg or change:
                    raise FormulaError(f"an average or change of a composite term: {phrase!r}")
                return self.parse(formula, base, depth + 1, skip | {formula})
        if item is None:
            raise FormulaError(f"no line item in {phrase!r}")
        if avg or change:
            if len(years) >= 2:
                first, last = years[0] - self.target + base, years[-1] - self.target + base
            else:
                first, last = base - 1, base
            a, b = Item(item.key, first), Item(item.key, last)
            return Avg((a, b)) if avg else Bin("-", b, a)
        return Item(item.key, base)


def _longer(term: re.Pattern[str], phrase: str, item_key: str) -> bool:
    """The term's words cover more of the phrase than the line item's ("EBITDA" over "EBIT")."""
    tm = term.search(phrase)
    im = next((rx.search(phrase) for k, rx in ITEM_MENTIONS if k == item_key), None)
    return tm is not None and (im is None or len(tm.group(0)) >= len(im.group(0)))


# ---------------------------------------------------------------------------------------------
# A definition as a metric


def _percent_already(node: Node) -> bool:
    return isinstance(node, Bin) and node.op == "*" and Num(100.0) in (node.left, node.right)


def _days(node: Node) -> bool:
    if isinstance(node, Bin):
        if node.op == "*" and (Num(365.0) in (node.left, node.right) or Num(360.0) in (node.left, node.right)):
            return True
        return _days(node.left) or _days(node.right)
    return False


def _divides(node: Node) -> bool:
    if isinstance(node, Bin):
        return node.op == "/" or _divides(node.left) or _divides(node.right)
    return isinstance(node, Avg) or (isinstance(node, Neg) and _divides(node.node))


_STOP = re.compile(r"(?i)^(?:the|a|an|is|was|what|of|for|its|their|and|in|on|at|to)$")


def _spelled_out(name: str, ask: str) -> str:
    """ "CCC" -> "cash conversion cycle (CCC)" when the question spells the acronym out before it."""
    m = re.search(rf"([^?.]*?)\(\s*{re.escape(name)}\s*\)", ask)
    if m is None:
        return name
    out: list[str] = []
    for tok in reversed(m.group(1).split()):
        if len(out) == 6 or _STOP.match(tok) or re.search(r"\d|['’]s?$", tok):
            break
        out.insert(0, tok)
    return f"{' '.join(out)} ({name})" if out else name


def _display_name(name: str) -> str:
    words_ = re.sub(r"(?i)^(?:the|a|an)\s+", "", name).split()
    if words_ and not words_[0].isupper():
        words_[0] = words_[0].lower()
    return " ".join(words_)


def ask_text(question: str) -> str:
    """The question without the definitions it writes out (what it asks, not how to compute it)."""
    defs = definitions(question)
    return question[: defs[0].start] if defs else question


def asked_definition(question: str) -> Definition | None:
    """The definition of what the question asks: the first defined name the asking part mentions."""
    defs = definitions(question)
    if not defs:
        return None
    ask = question[: defs[0].start]
    for d in defs:
        if _names_match(d.name, ask):
            return d
    return None


def defined_metric(question: str, target: int) -> Metric | None:
    """The metric the question defines for itself, over line items at year offsets from `target`;
    None when it defines none or an operand is not a line item, number or defined term."""
    asked = asked_definition(question)
    if asked is None:
        return None
    parser = _Parser(target, definitions(question))
    try:
        node = parser.parse(asked.expr, skip=frozenset({asked.name}))
    except FormulaError:
        return None
    refs = items_of(node)
    if not refs:
        return None
    if PERCENT.search(question) or re.search(r"(?i)%|\bpercent|\bmargin\b", asked.name):
        unit = "%"
        if not _percent_already(node):
            node = Bin("*", node, Num(100.0))
    elif _days(node):
        unit = "days"
    elif _divides(node):
        unit = "x"
    else:
        unit = "USD"
    in_words = words(node)
    args = tuple(f"{r.key}@{r.offset}" if r.offset else r.key for r in refs)
    step = Step(fn="compute", args=args, unit=unit, expression=expression(node, refs), op="defined formula",
                formula=in_words)  # fmt: skip
    return Metric(
        key="defined",
        name=_display_name(_spelled_out(asked.name, ask_text(question))),
        pattern=re.compile(re.escape(asked.name), re.I),
        needs=tuple((r.key, r.offset) for r in refs),
        steps=(step,),
        formula=in_words,
        unit=unit,
        decimals=0 if unit == "USD" else 2,
    )


def same_formula(defined: Metric, textbook: Metric) -> bool:
    """Whether the question's definition computes what the textbook metric computes: both evaluated on
    the same made-up inputs (a percent and its ratio count as the same)."""
    keys = sorted({k for k, _ in defined.needs} | {k for k, _ in textbook.needs})

    def get(key: str, offset: int) -> CalcInput:
        # distinct, unrelated values per (item, year): equal results mean equal formulas, not chance
        return CalcInput(
            name=f"{key}@{offset}", value=97.0 + 13.0 * keys.index(key) + 7.3 * offset * offset + 3.1 * offset
        )

    try:
        mine = run_steps(defined.steps, get)[-1].result
        theirs = [s.result for s in run_steps(textbook.steps, get)]
    except (CalculatorError, KeyError):
        return False
    return any(math.isclose(mine, t * f, rel_tol=1e-9) for t in theirs for f in (1.0, 100.0, 0.01))


# ---------------------------------------------------------------------------------------------
# "using X as the denominator"

_DENOMINATOR = re.compile(
    r"(?i)\busing\s+(?:the\s+)?(?P<what>[^.?,;]{2,60}?)\s+as\s+(?:the\s+)?(?P<role>denominator|numerator)\b"
)


def using_denominator(metric: Metric, question: str) -> Metric:
    """The metric with the denominator (or numerator) the question names: "net margin using total
    revenues as the denominator". Unchanged when the question names none, the named words are no line
    item, or the metric's answer is not a plain share or ratio of two line items."""
    m = _DENOMINATOR.search(question)
    if m is None:
        return metric
    item = item_in(m.group("what"))
    last = metric.steps[-1]
    if item is None or last.fn not in ("margin", "ratio") or len(last.args) != 2:
        return metric
    pos = 1 if m.group("role").lower() == "denominator" else 0
    old = last.args[pos]
    old_key, _, off = old.partition("@")
    if old_key not in ITEMS or old_key == item.key:
        return metric
    new = item.key + (f"@{off}" if off else "")
    args = tuple(new if i == pos else a for i, a in enumerate(last.args))
    steps = (*metric.steps[:-1], Step(fn=last.fn, args=args, name=last.name, unit=last.unit, op=last.op))
    named = {st.name for st in steps if st.name}
    refs = [a.partition("@") for st in steps for a in st.args if a not in named]
    needs = tuple(dict.fromkeys((k, int(o) if o else 0) for k, _, o in refs))
    formula = metric.formula.replace(ITEMS[old_key].name, ITEMS[item.key].name)
    return Metric(
        key=metric.key,
        name=metric.name,
        pattern=metric.pattern,
        needs=needs,
        steps=steps,
        formula=formula if formula != metric.formula else f"{metric.formula} (over {ITEMS[item.key].name})",
        unit=metric.unit,
        decimals=metric.decimals,
    )
