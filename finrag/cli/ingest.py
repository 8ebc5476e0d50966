"""`finrag ingest PATHS...`"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from finrag.cli.common import DataDir, Tenant, err, ingest_with_progress, print_report, service, settings_or_exit


def ingest(
    paths: Annotated[list[Path], typer.Argument(help="PDF files or folders")],
    data_dir: DataDir = None,
    tenant: Tenant = None,
    company: Annotated[str | None, typer.Option(help="override the company on the cover page")] = None,
    fiscal_year: Annotated[int | None, typer.Option("--fiscal-year", help="override the fiscal year")] = None,
    doc_type: Annotated[str | None, typer.Option("--doc-type", help="override: 10-K, 10-Q, 8-K, ...")] = None,
) -> None:
    """Ingest filings (idempotent: unchanged files are skipped, changed files replace their old version)."""
    from finrag.ingest.pipeline import FilingOverrides

    missing = [p for p in paths if not p.exists()]
    if missing:
        err.print(f"[red]not found:[/red] {', '.join(map(str, missing))}")
        raise typer.Exit(2)
    settings = settings_or_exit(data_dir, tenant=tenant)
    svc = service(settings)
    try:
        report = ingest_with_progress(svc, paths, tenant, FilingOverrides(company, fiscal_year, doc_type))
    finally:
        svc.close()
    print_report(report)
    if report.failed:
        raise typer.Exit(1)
