"""The formula solver of bench/numeric_check.py: can the helper formulas (finrag's calculator) reproduce a
figure from the figures printed on its evidence pages, within the figure's rounding?

`operand_pool` reads the pages' non-percent figures at each page's scale (with their table row, column and
year), `derive` tries the calculator's formulas over every pair / row of them with numpy and returns the
first that matches, as logged calculator steps; `restrict` keeps only the columns of given years.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from finrag.finance import calculator as calc
from finrag.finance.calculator import CalcInput, CalcStep
from finrag.finance.figures import Figure, analyze_page


@dataclass(slots=True)
class Operand:
    value: float  # base units
    key: str
    text: str
    year: int | None = None
    row: tuple[str, int] | None = None
    col: int | None = None

    def as_input(self, name: str) -> CalcInput:
        return CalcInput(name=name, value=self.value, citation=self.key, year=self.year)


@dataclass(slots=True)
class Derivation:
    """A found formula: `build(operands)` gives its logged steps (the last one gives the figure)."""

    build: Callable[[Sequence[Operand]], CalcStep | list[CalcStep]]
    operands: list[Operand]
    steps: list[CalcStep] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.steps = self.rebuild(self.operands)

    def rebuild(self, operands: Sequence[Operand]) -> list[CalcStep]:
        out = self.build(operands)
        return out if isinstance(out, list) else [out]

    @property
    def step(self) -> CalcStep:
        return self.steps[-1]


@dataclass(slots=True)
class Pool:
    ops: list[Operand] = field(default_factory=list)
    rows: dict[tuple[str, int], list[Operand | None]] = field(default_factory=dict)


def operand_pool(sources: dict[str, str]) -> Pool:
    """Non-percent figures of the pages, read at the page's stated scale (dollars etc.)."""
    pool = Pool()
    seen: set[tuple[str, float, int]] = set()
    for key, text in sources.items():
        page = analyze_page(text)
        scale = page.scales[0] if page.scales else 1.0
        by_idx: dict[int, Operand] = {}
        for i, f in enumerate(page.figures):
            if f.unit in ("%", "bps") or f.number == 0:
                continue
            value = abs(f.value) if f.scale_word else f.number * scale
            cell = page.cells.get(i)
            row_id = None
            for rid, cells in page.rows.items():
                if i in cells:
                    row_id = (key, rid)
                    break
            op = Operand(
                value=value,
                key=key,
                text=f.text,
                year=cell.year if cell else None,
                row=row_id,
                col=row_id and page.rows[row_id[1]].index(i),
            )
            by_idx[i] = op
            if (key, value, f.start) not in seen:
                seen.add((key, value, f.start))
                pool.ops.append(op)
        for rid, cells in page.rows.items():
            pool.rows[(key, rid)] = [by_idx.get(i) if i is not None else None for i in cells]
    return pool


def _within(results: np.ndarray, target: float, tol: float) -> np.ndarray:
    return np.abs(np.abs(results) - target) <= tol


def restrict(pool: Pool, years: Sequence[int]) -> Pool:
    """Only table cells in the columns of `years` (the years the question names)."""
    keep = {id(o) for o in pool.ops if o.year in years}
    return Pool(
        ops=[o for o in pool.ops if id(o) in keep],
        rows={k: [c if c is not None and id(c) in keep else None for c in cells] for k, cells in pool.rows.items()},
    )


def derive(target: Figure, pool: Pool) -> Derivation | None:
    """First helper formula over page figures that reproduces `target` within its rounding."""
    want_pct = target.unit == "%"
    t = abs(target.value)
    tol = target.tolerance() + 1e-9 * max(1.0, t)
    ops = pool.ops
    if not ops:
        return None
    v = np.array([o.value for o in ops])
    n = len(v)
    with np.errstate(divide="ignore", invalid="ignore"):
        a, b = v[:, None], v[None, :]
        pair_formulas: list[tuple[str, np.ndarray, Callable[..., CalcStep]]] = (
            [
                ("margin", a / b * 100, lambda x, y: calc.margin(x.as_input("part"), y.as_input("total"))),
                (
                    "pct_change",
                    (a - b) / b * 100,
                    lambda x, y: calc.pct_change(x.as_input("current"), y.as_input("prior")),
                ),
            ]
            if want_pct
            else [
                ("ratio", a / b, lambda x, y: calc.ratio(x.as_input("numerator"), y.as_input("denominator"))),
                (
                    "difference",
                    a - b,
                    lambda x, y: calc.difference(x.as_input("a"), y.as_input("b"), unit="USD"),
                ),
                ("sum", a + b, lambda x, y: calc.total(x.as_input("v1"), y.as_input("v2"), unit="USD")),
            ]
        )
        for _, res, build in pair_formulas:
            hit = np.argwhere(_within(res, t, tol) & ~np.eye(n, dtype=bool))
            if len(hit):
                i, j = hit[0]
                return Derivation(lambda o, build=build: build(*o), [ops[i], ops[j]])

        # adjacent cells of one row: two year-ends of a balance, for averages
        pairs: list[tuple[Operand, Operand]] = []
        for cells in pool.rows.values():
            for c in range(len(cells) - 1):
                x, y = cells[c], cells[c + 1]
                if x is not None and y is not None:
                    pairs.append((x, y))
        if pairs:
            avg = np.array([(x.value + y.value) / 2 for x, y in pairs])
            if not want_pct:
                res = v[:, None] / avg[None, :]  # turnover, ROA as a fraction
                hit = np.argwhere(_within(res, t, tol))
                if len(hit):
                    i, k = hit[0]
                    x, y = pairs[k]

                    def b_turn(o: Sequence[Operand]) -> CalcStep:
                        return calc.turnover(
                            o[0].as_input("flow"), o[2].as_input("balance_begin"), o[1].as_input("balance_end")
                        )

                    return Derivation(b_turn, [ops[i], x, y])
                res = 365 * avg[None, :] / v[:, None]  # days ratios
                hit = np.argwhere(_within(res, t, tol))
                if len(hit):
                    i, k = hit[0]
                    x, y = pairs[k]

                    def b_days(o: Sequence[Operand]) -> CalcStep:
                        return calc.days_ratio(
                            o[2].as_input("balance_begin"), o[1].as_input("balance_end"), o[0].as_input("flow")
                        )

                    return Derivation(b_days, [ops[i], x, y])
                # DPO with purchases = COGS + change in inventory; cells with known years only
                dated = [(x, y) for x, y in pairs if x.year and y.year and x.year != y.year]
                flows = [o for o in ops if o.year]
                if dated and flows:
                    av = np.array([(x.value + y.value) / 2 for x, y in dated])
                    dinv = np.array([x.value - y.value for x, y in dated])
                    fv = np.array([o.value for o in flows])
                    purchases = fv[:, None] + dinv[None, :]  # flow x inventory pair
                    res = 365 * av[:, None, None] / purchases[None, :, :]
                    hit = np.argwhere(_within(res, t, tol))
                    if len(hit):
                        k, f, m = hit[0]
                        (ap1, ap0), (inv1, inv0) = dated[k], dated[m]

                        def b_dpo(o: Sequence[Operand]) -> CalcStep:
                            return calc.dpo(
                                o[1].as_input("ap_begin"),
                                o[0].as_input("ap_end"),
                                o[2].as_input("cogs"),
                                o[4].as_input("inventory_begin"),
                                o[3].as_input("inventory_end"),
                            )

                        operands = [ap1, ap0, flows[f], inv1, inv0]
                        return Derivation(b_dpo, operands)

        # whole rows with year columns: multi-year average of a ratio, change of a ratio
        dated_rows = [
            [c for c in cells if c is not None and c.year]
            for cells in pool.rows.values()
            if sum(c is not None and c.year is not None for c in cells) >= 2
        ]
        for k in (3, 2):
            rows_k = [r[:k] for r in dated_rows if len(r) >= k]
            if not rows_k:
                continue
            m = np.array([[c.value for c in r] for r in rows_k])
            share = m[:, None, :] / m[None, :, :]  # row_i / row_j per column
            res = share.mean(axis=2) * (100 if want_pct else 1)
            hit = np.argwhere(_within(res, t, tol) & ~np.eye(len(rows_k), dtype=bool))
            if len(hit):
                i, j = hit[0]
                operands = [*rows_k[i], *rows_k[j]]

                def b_avg(o: Sequence[Operand], k: int = k, pct: bool = want_pct) -> list[CalcStep]:
                    ratio = calc.margin if pct else calc.ratio
                    parts = [ratio(o[c].as_input(f"part{c}"), o[k + c].as_input(f"base{c}")) for c in range(k)]
                    # the average's inputs are the logged results of the per-year steps
                    ins = [CalcInput(name=f"{p.op}{c}", value=p.result) for c, p in enumerate(parts)]
                    return [*parts, calc.average(*ins, unit="%" if pct else "x")]

                return Derivation(b_avg, operands)
        if want_pct:
            rows_2 = [r[:2] for r in dated_rows]
            if rows_2:
                m = np.array([[c.value for c in r] for r in rows_2])
                share = m[:, None, :] / m[None, :, :] * 100
                res = share[:, :, 0] - share[:, :, 1]  # change of a margin, in points
                hit = np.argwhere(_within(res, t, tol) & ~np.eye(len(rows_2), dtype=bool))
                if len(hit):
                    i, j = hit[0]
                    operands = [*rows_2[i], *rows_2[j]]

                    def b_dm(o: Sequence[Operand]) -> CalcStep:
                        return calc.compute(
                            "{0} / {2} * 100 - {1} / {3} * 100",
                            [
                                o[0].as_input("part_new"),
                                o[1].as_input("part_old"),
                                o[2].as_input("base_new"),
                                o[3].as_input("base_old"),
                            ],
                            unit="%",
                        )

                    return Derivation(b_dm, operands)

        # three same-year cells: (a + b) / c (EBITDA margin), a + b - c (EBITDA less capex)
        by_year: dict[int, list[Operand]] = defaultdict(list)
        for o in ops:
            if o.year:
                by_year[o.year].append(o)
        for group in by_year.values():
            g = np.array([o.value for o in group])
            if len(g) < 3:
                continue
            s2 = g[:, None] + g[None, :]
            res = s2[:, :, None] / g[None, None, :] * 100 if want_pct else s2[:, :, None] - g[None, None, :]
            hit = np.argwhere(_within(res, t, tol))
            hit = [h for h in hit if len({*h}) == 3]
            if hit:
                i, j, k = hit[0]
                operands = [group[i], group[j], group[k]]

                def b_tri(o: Sequence[Operand], pct: bool = want_pct) -> CalcStep:
                    ins = [o[0].as_input("a"), o[1].as_input("b"), o[2].as_input("c")]
                    if pct:
                        return calc.compute("({0} + {1}) / {2} * 100", ins, unit="%")
                    return calc.compute("{0} + {1} - {2}", ins, unit="USD")

                return Derivation(b_tri, operands)
    return None
