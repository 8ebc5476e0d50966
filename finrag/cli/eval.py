"""`finrag eval ...`: measurements over question sets. A new evaluation command is one more
`@eval_app.command(NAME)` function (here or in a module that imports `eval_app`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from finrag.cli.common import console, err, ingest_with_progress, print_eval, print_report, service, settings_or_exit

eval_app = typer.Typer(help="Measure retrieval on questions with evidence pages.", no_args_is_help=True)

DEFAULT_INDEX = Path.home() / ".cache" / "finrag" / "financebench"


@eval_app.command("financebench")
def eval_financebench(
    questions: Annotated[Path, typer.Option("--questions", exists=True, help="questions JSON lines")],
    pdf_dir: Annotated[Path | None, typer.Option("--pdf-dir", help="filings to ingest (reused if indexed)")] = None,
    index_dir: Annotated[
        Path | None, typer.Option("--index-dir", help="index folder (default ~/.cache/finrag/financebench)")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="JSON report")] = None,
) -> None:
    """Ingest (or reuse) an index and score page/doc recall@k and MRR with the question text only."""
    from finrag.eval.financebench import evaluate
    from finrag.eval.metrics import load_questions
    from finrag.ingest.pipeline import FilingOverrides

    settings = settings_or_exit(index_dir or DEFAULT_INDEX)
    svc = service(settings)
    try:
        if pdf_dir is not None:
            report = ingest_with_progress(svc, [pdf_dir], None, FilingOverrides())
            if report.count("ingested"):
                print_report(report)
        result = evaluate(svc, load_questions(questions))
    finally:
        svc.close()
    print_eval(result)
    if out:
        out.write_text(json.dumps(result, indent=2))
        console.print(f"report written to {out}")


@eval_app.command("ablate")
def eval_ablate(
    questions: Annotated[Path, typer.Option("--questions", exists=True, help="questions JSON lines")],
    index_dir: Annotated[Path | None, typer.Option("--index-dir", help="an index built by `eval financebench`")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="JSON rows")] = None,
    cross_encoder: Annotated[bool, typer.Option(help="add a row with the cross-encoder reranker")] = False,
    per_half: Annotated[bool, typer.Option(help="print each half by id (A | B) too")] = False,
) -> None:
    """Each retrieval lever on/off over the same index: recall@k, MRR and latency in one table."""
    from finrag.eval.ablate import ABLATIONS, ablate
    from finrag.eval.metrics import load_questions

    settings = settings_or_exit(index_dir or DEFAULT_INDEX)
    svc = service(settings)
    configs = list(ABLATIONS)
    if cross_encoder:
        configs.append(("+ cross-encoder rerank", {"rerank": "cross-encoder"}))
    cols = [
        "page_recall@1",
        "page_recall@5",
        "page_recall@10",
        "doc_recall@5",
        "mrr",
        "latency_ms_p50",
        "latency_ms_p95",
    ]
    table = Table(title=f"retrieval ablation ({index_dir or settings.data_dir})")
    table.add_column("config")
    for c in cols:
        table.add_column(c, justify="right")
    try:
        rows = ablate(svc, load_questions(questions), configs,
                      on_config=lambda name, row: err.print(f"{name}: p@5 {row['page_recall@5']:.3f}"))  # fmt: skip
    finally:
        svc.close()
    for row in rows:
        table.add_row(row["config"], *(f"{row[c]:.3f}" if "latency" not in c else f"{row[c]:.0f}" for c in cols))
    console.print(table)
    if per_half:
        half_cols = ("page_recall@1", "page_recall@5", "page_recall@20", "doc_recall@5", "mrr")
        halves = Table(title="per half by id (A | B)")
        halves.add_column("config")
        for c in half_cols:
            halves.add_column(c, justify="right")
        for row in rows:
            a, b = row["halves"]["A"], row["halves"]["B"]
            halves.add_row(row["config"], *(f"{a[c]:.3f} | {b[c]:.3f}" for c in half_cols))
        console.print(halves)
    if out:
        out.write_text(json.dumps(rows, indent=2))


@eval_app.command("answers")
def eval_answers(
    questions: Annotated[Path, typer.Option("--questions", exists=True, help="questions JSON lines with gold answers")],
    index_dir: Annotated[Path | None, typer.Option("--index-dir", help="an index built by `eval financebench`")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="JSON report")] = None,
    html: Annotated[Path | None, typer.Option("--html", help="HTML report (self-contained, opens offline)")] = None,
    judge: Annotated[bool, typer.Option(help="grade text answers with the configured LLM (FINRAG_LLM_*)")] = True,
) -> None:
    """Ask every question through the service and grade the answers (numeric, yes/no, refusal, LLM judge)."""
    from finrag.eval.answers_cli import run_answers

    settings = settings_or_exit(index_dir or DEFAULT_INDEX)
    svc = service(settings)
    try:
        run_answers(svc, settings, questions, out, html, use_judge=judge, console=console, err=err)
    finally:
        svc.close()
