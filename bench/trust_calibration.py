"""Trust-score calibration: a labeled set built at run time, scored by the product's scorer.

    .venv/bin/python bench/trust_calibration.py --questions ../shared/financebench/questions_dev.jsonl

Items (finrag/eval/calibration.py) come from (a) the FinanceBench dev questions — gold answers and
rule-made paraphrases must pass; altered figures, wrong period / row / company answers and non-answers
must be flagged — their evidence pages taken from the gold evidence page text, and (b) the sample
filings' golden questions (generated into a temporary folder). Each item is scored through
`finrag.eval.calibration.score` (swap its body to measure another scorer); an item is flagged when its
score is under the fallback threshold (FINRAG_ANSWER_FAITHFULNESS_THRESHOLD, 0.7).

Prints: false alarms on correct answers (target <= 2 %), altered figures caught (>= 99 %), wrong
period / company / row caught (>= 95 %), non-answers flagged (>= 95 %), AUROC of score vs correctness.
Nothing from FinanceBench is written to the repository; --out writes the per-item report elsewhere.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from finrag.eval.calibration import TARGETS, WRONG_LABELS, build_items, measure
from finrag.eval.metrics import load_questions
from finrag.sample.generate import GOLDEN_FILE, generate_samples
from finrag.settings import AnswerSettings

console = Console()


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{v:.1%}"


def print_report(report: dict[str, Any]) -> None:
    parts = [("overall", report["overall"]), *report["by_source"].items(), *report.get("by_half", {}).items()]
    table = Table(title=f"trust-score calibration (flagged: score < {report['threshold']})")
    table.add_column("metric")
    for name, _ in parts:
        table.add_column(name, justify="right")
    table.add_column("target", justify="right")
    keys = [("false_alarms", "correct"), ("false_alarms_figure_on_page", "correct_figure_on_page"),
            ("altered_caught", "altered_n"), ("wrong_period_company_row_caught", "wrong_period_company_row_n"),
            *((f"{lab}_caught", f"{lab}_n") for lab in WRONG_LABELS if lab not in ("altered", "non_answer")),
            ("non_answers_flagged", "non_answer_n")]  # fmt: skip
    for key, n_key in keys:
        target = TARGETS.get(key)
        table.add_row(
            key, *(f"{_pct(p[key])} of {p[n_key]}" for _, p in parts), f"{target[0]} {target[1]:.0%}" if target else ""
        )
    table.add_row("AUROC", *(str(p["auroc"]) for _, p in parts), "")
    table.add_row("AUROC (+ flipped, refusals)", *(str(p["auroc_all"]) for _, p in parts), "")
    console.print(table)
    flags = Table(title="flag rate by rule (overall)")
    flags.add_column("rule:label")
    flags.add_column("flagged", justify="right")
    for k, v in report["overall"]["flag_rate_by_variant"].items():
        flags.add_row(k, _pct(v))
    console.print(flags)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--questions", type=Path, default=Path("../shared/financebench/questions_dev.jsonl"))
    p.add_argument("--no-sample", action="store_true", help="leave out the sample filings' golden questions")
    p.add_argument("--out", type=Path, help="JSON report with every item's score (keep it outside the repo)")
    args = p.parse_args()
    items = []
    if args.questions.exists():
        items += build_items(load_questions(args.questions), "financebench")
    else:
        console.print(f"[yellow]{args.questions} not found: FinanceBench items left out[/yellow]")
    if not args.no_sample:
        with tempfile.TemporaryDirectory() as tmp:
            generate_samples(Path(tmp))
            items += build_items(load_questions(Path(tmp) / GOLDEN_FILE), "sample")
    report = measure(items, threshold=AnswerSettings().faithfulness_threshold)
    print_report(report)
    if args.out:
        args.out.write_text(json.dumps(report, indent=2))
        console.print(f"report written to {args.out}")


if __name__ == "__main__":
    main()
