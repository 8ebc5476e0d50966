"""`finrag eval answers`: the command's body, kept here so the CLI registration stays a few lines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from finrag.eval.answers import grade_questions
from finrag.eval.grading import AnswerJudge
from finrag.eval.metrics import load_questions
from finrag.eval.report_html import render_html
from finrag.settings import Settings


def build_answer_judge(settings: Settings) -> AnswerJudge | None:
    """A grading judge through the configured LLM providers; None when no provider is configured."""
    from finrag.answer.llm_answerer import LLMAnswerer

    llm = LLMAnswerer.from_settings(settings.llm)
    return AnswerJudge(llm) if llm.has_llm else None


def print_summary(report: dict[str, Any], console: Console) -> None:
    tol0, tol1 = report["tolerances"]
    table = Table(title=f"answers ({report['n']} questions; judge: {report['judge'] or 'none'})")
    for col in ("part", "n", "correct", "incorrect", "refused", "ungraded", f"num @{tol0:.0%}", f"num @{tol1:.1%}",
                "yes/no", "p50 ms", "p95 ms", "wrong@trust≥0.9"):  # fmt: skip
        table.add_column(col, justify="right" if col != "part" else "left")
    parts = [("overall", report["overall"]), *((f"half {k}", v) for k, v in report["by_half"].items()),
             *((k, v) for k, v in report["by_type"].items())]  # fmt: skip
    for name, s in parts:
        num, yn = s["numeric"], s["yes_no"]
        table.add_row(
            name, str(s["n"]), str(s["correct"]), str(s["incorrect"]), str(s["refused"]), str(s["ungraded"]),
            f"{num[f'exact@{tol0:.0%}']:.0%}/{num['n']}", f"{num[f'exact@{tol1:.1%}']:.0%}/{num['n']}",
            f"{yn['right_polarity']:.0%}/{yn['n']}", f"{s['latency_ms_p50']:.0f}", f"{s['latency_ms_p95']:.0f}",
            str(s["wrong_with_trust>=0.9"]),
        )  # fmt: skip
    console.print(table)


def run_answers(
    service: Any,
    settings: Settings,
    questions_file: Path,
    out: Path | None,
    html: Path | None,
    *,
    use_judge: bool,
    console: Console,
    err: Console,
) -> dict[str, Any]:
    """Grade every question of `questions_file` through `service` (the caller closes it); write the reports."""
    judge = build_answer_judge(settings) if use_judge else None
    questions = load_questions(questions_file)
    report = grade_questions(
        service,
        questions,
        judge=judge,
        on_question=lambda q, row: err.print(f"{q.id}: {row['grade']} ({row['kind']}) {row['latency_ms']:.0f} ms"),
    )
    print_summary(report, console)
    if out:
        out.write_text(json.dumps(report, indent=2))
        console.print(f"report written to {out}")
    if html:
        html.write_text(render_html(report), encoding="utf-8")
        console.print(f"HTML report written to {html}")
    return report
