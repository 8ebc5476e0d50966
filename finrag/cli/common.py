"""What every command shares: settings through `load_settings` (clear errors), consoles, common options,
printing of reports, answers and evaluations."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from finrag.ingest.pipeline import FilingOverrides, IngestReport
    from finrag.service import QAService
    from finrag.settings import Settings

console = Console()
err = Console(stderr=True)

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="index + registry folder (FINRAG_DATA_DIR)")]
Tenant = Annotated[str | None, typer.Option("--tenant", help="tenant (FINRAG_TENANT)")]


def settings_or_exit(data_dir: Path | None = None, **overrides: object) -> Settings:
    """The settings for a command, or exit 2 with the message naming each bad variable."""
    # Imported here: pydantic-settings costs ~0.15 s, which `finrag --help` does not need.
    from finrag.settings import SettingsError, load_settings

    # The only environment write: models are packaged or exported locally, never fetched at run time.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    values = {k: v for k, v in overrides.items() if v is not None}
    if data_dir is not None:
        values["data_dir"] = data_dir
    try:
        return load_settings(**values)
    except SettingsError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None


def service(settings: Settings) -> QAService:
    from finrag.service import QAService

    refuse_if_served(settings)
    return QAService(settings)


def refuse_if_served(settings: Settings) -> None:
    """One process owns the embedded store: stop (touching nothing) when another one does."""
    from finrag.index.owner import StoreLockedError
    from finrag.serve.remote import embedded_owner

    holder = embedded_owner(settings)
    if holder is not None:
        err.print(f"[red]{StoreLockedError(settings.data_dir, holder)}[/red]")
        raise typer.Exit(3)


def configure_service_logging(settings: Settings) -> None:
    """Long-running commands log JSON at FINRAG_LOG_LEVEL."""
    from finrag.logs import configure_logging

    configure_logging(settings.log_level)


def ingest_with_progress(svc: Any, paths: list[Path], tenant: str | None, overrides: FilingOverrides) -> IngestReport:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from finrag.ingest.pipeline import discover

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

        def on_event(event: Any) -> None:
            progress.update(task, advance=1, last=f"{Path(event.path).name}: {event.status}")

        return svc.ingest(paths, tenant=tenant, overrides=overrides, on_event=on_event)


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
        f"({pps:.1f} pages/s)" + (f"; documents embedded by {report.embedder}" if report.embedded else "")
    )
    if report.index_build_s is not None:
        console.print(f"index built over {report.index_points:,} points in {report.index_build_s:.1f}s")
    if report.index_build_error:
        console.print(
            f"[red]index build over {report.index_points:,} points failed[/red]: {report.index_build_error}\n"
            "the documents are ingested and searched without the index; retry with `finrag index optimize`"
        )


def print_answer(answer: Any, trace: bool = False) -> None:
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


def print_eval(result: dict[str, Any]) -> None:
    table = Table(title=f"retrieval ({result['n']} questions)")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in result.items():
        if key not in ("questions", "n"):
            table.add_row(key, f"{value:.3f}" if isinstance(value, float) else str(value))
    console.print(table)
