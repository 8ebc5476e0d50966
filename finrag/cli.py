"""finrag command line: ingest, ask, documents, eval, demo."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from finrag.ingest.pipeline import FilingOverrides, IngestReport, discover
from finrag.logs import configure_logging
from finrag.settings import Settings, SettingsError, load_settings

app = typer.Typer(help="Cited question answering over financial filings.", no_args_is_help=True)
documents_app = typer.Typer(help="List, show and delete ingested documents.", no_args_is_help=True)
eval_app = typer.Typer(help="Measure retrieval on questions with evidence pages.", no_args_is_help=True)
app.add_typer(documents_app, name="documents")
app.add_typer(eval_app, name="eval")


def _register_service_commands() -> None:
    """`finrag serve` and `finrag keys` need the serve extra; without it the rest of the CLI still works."""
    try:
        from finrag.serve.cli import keys_app, serve_command
    except ImportError:  # pragma: no cover - the serve extra is not installed
        return
    app.add_typer(keys_app, name="keys")
    app.command("serve")(serve_command)
    from finrag.rerank_server.cli import rerank_server_command

    app.command("rerank-server")(rerank_server_command)
    try:  # the `server` extra: queue worker, document updater, database migrations
        from finrag.queue.worker import worker_command
        from finrag.registry.migrations import migrate_command
        from finrag.updater.run import updater_command
    except ImportError:  # pragma: no cover
        return
    app.command("worker")(worker_command)
    app.command("updater")(updater_command)
    app.command("migrate")(migrate_command)


_register_service_commands()
console = Console()
err = Console(stderr=True)

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="index + registry folder (FINRAG_DATA_DIR)")]
Tenant = Annotated[str | None, typer.Option("--tenant", help="tenant (FINRAG_TENANT)")]


def _settings(data_dir: Path | None, **overrides: object) -> Settings:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    values = {k: v for k, v in overrides.items() if v is not None}
    if data_dir is not None:
        values["data_dir"] = data_dir
    try:
        return load_settings(**values)
    except SettingsError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None


def _service(settings: Settings):  # type: ignore[no-untyped-def]
    from finrag.service import QAService

    _refuse_if_served(settings)
    return QAService(settings)


def _refuse_if_served(settings: Settings) -> None:
    """One process owns the embedded store: stop (touching nothing) when another one does."""
    from finrag.index.owner import StoreLockedError
    from finrag.serve.remote import embedded_owner

    holder = embedded_owner(settings)
    if holder is not None:
        err.print(f"[red]{StoreLockedError(settings.data_dir, holder)}[/red]")
        raise typer.Exit(3)


@app.callback()
def _main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="info-level JSON logs")] = False,
) -> None:
    configure_logging("INFO" if verbose else "WARNING")
    os.umask(0o077)  # the index, registry and uploads hold tenants' filings: owner-only (0600 / 0700)


def ingest_with_progress(service, paths: list[Path], tenant: str | None, overrides: FilingOverrides) -> IngestReport:  # type: ignore[no-untyped-def]
    files = discover(paths)
    with Progress(
        TextColumn("[bold]ingest"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[last]}"),
        console=err,
        transient=False,
    ) as progress:
        task = progress.add_task("ingest", total=len(files), last="")

        def on_event(event) -> None:  # type: ignore[no-untyped-def]
            progress.update(task, advance=1, last=f"{Path(event.path).name}: {event.status}")

        return service.ingest(paths, tenant=tenant, overrides=overrides, on_event=on_event)


def print_report(report: IngestReport) -> None:
    table = Table(title="ingest")
    for col in ("file", "status", "doc id", "pages", "chunks", "reason"):
        table.add_column(col)
    for e in report.events:
        style = {"failed": "red", "skipped": "dim"}.get(e.status, "")
        table.add_row(Path(e.path).name, e.status, e.doc_id, str(e.pages), str(e.chunks), e.reason, style=style)
    console.print(table)
    pps = report.pages / report.wall_s if report.wall_s else 0.0
    done = report.count("ingested") + report.count("replaced")
    console.print(
        f"{done} ingested, {report.count('skipped')} unchanged, "
        f"{len(report.failed)} failed; {report.pages} pages, {report.chunks} chunks in {report.wall_s:.1f}s "
        f"({pps:.1f} pages/s)"
    )


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="PDF files or folders")],
    data_dir: DataDir = None,
    tenant: Tenant = None,
    company: Annotated[str | None, typer.Option(help="override the company on the cover page")] = None,
    fiscal_year: Annotated[int | None, typer.Option("--fiscal-year", help="override the fiscal year")] = None,
    doc_type: Annotated[str | None, typer.Option("--doc-type", help="override: 10-K, 10-Q, 8-K, ...")] = None,
) -> None:
    """Ingest filings (idempotent: unchanged files are skipped, changed files replace their old version)."""
    missing = [p for p in paths if not p.exists()]
    if missing:
        err.print(f"[red]not found:[/red] {', '.join(map(str, missing))}")
        raise typer.Exit(2)
    settings = _settings(data_dir, tenant=tenant)
    service = _service(settings)
    try:
        report = ingest_with_progress(service, paths, tenant, FilingOverrides(company, fiscal_year, doc_type))
    finally:
        service.close()
    print_report(report)
    if report.failed:
        raise typer.Exit(1)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="the question")],
    data_dir: DataDir = None,
    tenant: Tenant = None,
    top_k: Annotated[int, typer.Option("--top-k", min=1, max=50)] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="machine-readable output")] = False,
    trace: Annotated[bool, typer.Option("--trace", help="include the retrieval trace")] = False,
    mode: Annotated[
        str, typer.Option("--mode", help="auto, easy, agentic, vision or long_context (FINRAG_ANSWER_MODE)")
    ] = "",
) -> None:
    """Answer a question from the indexed filings, with citations."""
    from finrag.service import QuestionError

    settings = _settings(data_dir, tenant=tenant)
    answer = _ask_owner(settings, question, top_k, mode)
    if answer is None:
        service = _service(settings)
        try:
            answer = service.ask(question, top_k=top_k, mode=mode or None)
        except (QuestionError, ValueError) as exc:  # ValueError: an unknown --mode
            err.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from None
        finally:
            service.close()
    if as_json:
        data = answer.model_dump()
        if not trace:
            data.pop("trace", None)
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        return
    print_answer(answer, trace)


def _ask_owner(settings: Settings, question: str, top_k: int, mode: str):  # type: ignore[no-untyped-def]
    """When a server owns the data folder: its answer through its API, or a clear stop. None otherwise."""
    from finrag.serve.remote import RemoteError, ask_server, embedded_owner

    holder = embedded_owner(settings)
    if holder is None:
        return None
    try:
        return ask_server(settings, holder, question, top_k, mode or None)
    except RemoteError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(3) from None


def print_answer(answer, trace: bool = False) -> None:  # type: ignore[no-untyped-def]
    console.print(f"[bold]Q:[/bold] {answer.question}")
    console.print(f"[bold]A:[/bold] {answer.text}")
    if answer.citations:
        table = Table(title="citations", show_lines=False)
        for col in ("#", "document", "page", "quote", "score"):
            table.add_column(col)
        for i, c in enumerate(answer.citations, 1):
            table.add_row(str(i), c.doc_name, str(c.page), c.quote[:160], f"{c.score:.3f}")
        console.print(table)
    for note in answer.notes:
        console.print(f"[dim]note: {note}[/dim]")
    timings = ", ".join(f"{k} {v:.0f} ms" for k, v in answer.timings_ms.items() if k in ("retrieve", "answer", "total"))
    console.print(f"[dim]pipeline: {answer.pipeline}; {timings}[/dim]")
    if trace:
        console.print_json(data=answer.trace)


@documents_app.command("list")
def documents_list(
    data_dir: DataDir = None, tenant: Tenant = None, as_json: Annotated[bool, typer.Option("--json")] = False
) -> None:
    """List documents with their status and inferred filing metadata."""
    settings = _settings(data_dir, tenant=tenant)
    from finrag.registry.sql import SqlRegistry

    docs = SqlRegistry(settings.sqlite_url).list(tenant=settings.tenant)
    if as_json:
        sys.stdout.write(json.dumps([_doc_dict(d) for d in docs], indent=2) + "\n")
        return
    table = Table(title=f"documents ({settings.tenant})")
    for col in ("doc id", "name", "status", "company", "form", "FY", "pages", "chunks", "error"):
        table.add_column(col)
    for d in docs:
        f = d.filing
        table.add_row(d.doc_id, d.name, d.status.value, f.company, str(f.doc_type), str(f.fiscal_year or ""),
                      str(d.pages), str(d.chunks), d.error[:60])  # fmt: skip
    console.print(table)


def _doc_dict(d) -> dict:  # type: ignore[no-untyped-def]
    from dataclasses import asdict

    data = asdict(d)
    data["status"] = d.status.value
    data["filing"]["doc_type"] = str(d.filing.doc_type)
    return data


@documents_app.command("show")
def documents_show(
    doc: Annotated[str, typer.Argument(help="doc id or name")],
    data_dir: DataDir = None,
    tenant: Tenant = None,
) -> None:
    """Show one document."""
    settings = _settings(data_dir, tenant=tenant)
    from finrag.registry.sql import SqlRegistry

    reg = SqlRegistry(settings.sqlite_url)
    rec = reg.get(settings.tenant, doc) or next((d for d in reg.list(tenant=settings.tenant) if d.name == doc), None)
    if rec is None:
        err.print(f"[red]unknown document:[/red] {doc} (see `finrag documents list`)")
        raise typer.Exit(1)
    console.print_json(data=_doc_dict(rec))


@documents_app.command("delete")
def documents_delete(
    doc: Annotated[str, typer.Argument(help="doc id or name")],
    data_dir: DataDir = None,
    tenant: Tenant = None,
) -> None:
    """Delete a document and its chunks."""
    settings = _settings(data_dir, tenant=tenant)
    service = _service(settings)
    try:
        ok = service.delete_document(doc)
    finally:
        service.close()
    if not ok:
        err.print(f"[red]unknown document:[/red] {doc}")
        raise typer.Exit(1)
    console.print(f"deleted {doc}")


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

    settings = _settings(index_dir or Path.home() / ".cache" / "finrag" / "financebench")
    service = _service(settings)
    try:
        if pdf_dir is not None:
            report = ingest_with_progress(service, [pdf_dir], None, FilingOverrides())
            if report.count("ingested"):
                print_report(report)
        result = evaluate(service, load_questions(questions))
    finally:
        service.close()
    print_eval(result)
    if out:
        out.write_text(json.dumps(result, indent=2))
        console.print(f"report written to {out}")


def print_eval(result: dict) -> None:  # type: ignore[type-arg]
    table = Table(title=f"retrieval ({result['n']} questions)")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in result.items():
        if key not in ("questions", "n"):
            table.add_row(key, f"{value:.3f}" if isinstance(value, float) else str(value))
    console.print(table)


@eval_app.command("ablate")
def eval_ablate(
    questions: Annotated[Path, typer.Option("--questions", exists=True, help="questions JSON lines")],
    index_dir: Annotated[Path | None, typer.Option("--index-dir", help="an index built by `eval financebench`")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="JSON rows")] = None,
    cross_encoder: Annotated[bool, typer.Option(help="add a row with the cross-encoder reranker")] = False,
) -> None:
    """Each retrieval lever on/off over the same index: recall@k, MRR and latency in one table."""
    from finrag.eval.ablate import ABLATIONS, ablate
    from finrag.eval.metrics import load_questions

    settings = _settings(index_dir or Path.home() / ".cache" / "finrag" / "financebench")
    service = _service(settings)
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
        rows = ablate(service, load_questions(questions), configs,
                      on_config=lambda name, row: err.print(f"{name}: p@5 {row['page_recall@5']:.3f}"))  # fmt: skip
    finally:
        service.close()
    for row in rows:
        table.add_row(row["config"], *(f"{row[c]:.3f}" if "latency" not in c else f"{row[c]:.0f}" for c in cols))
    console.print(table)
    if out:
        out.write_text(json.dumps(rows, indent=2))


@app.command()
def demo(data_dir: DataDir = None) -> None:
    """Generate the sample filings, ingest them and answer the golden questions (offline)."""
    from finrag.eval.financebench import evaluate
    from finrag.eval.metrics import load_questions
    from finrag.sample.generate import generate_samples

    settings = _settings(data_dir or Path(".finrag") / "demo")
    sample_dir = settings.data_dir / "samples"
    generate_samples(sample_dir)
    service = _service(settings)
    try:
        report = ingest_with_progress(service, [sample_dir], None, FilingOverrides())
        print_report(report)
        golden = load_questions(sample_dir / "golden.jsonl")
        for q in golden[:4]:
            print_answer(service.ask(q.question, top_k=5))
            console.rule()
        result = evaluate(service, golden)
    finally:
        service.close()
    print_eval(result)


if __name__ == "__main__":  # pragma: no cover
    app()
