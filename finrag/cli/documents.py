"""`finrag documents list | show | delete`"""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.table import Table

from finrag.cli.common import DataDir, Tenant, console, err, service, settings_or_exit

documents_app = typer.Typer(help="List, show and delete ingested documents.", no_args_is_help=True)


def _doc_dict(d: Any) -> dict[str, Any]:
    from dataclasses import asdict

    data = asdict(d)
    data["status"] = d.status.value
    data["filing"]["doc_type"] = str(d.filing.doc_type)
    return data


@documents_app.command("list")
def documents_list(
    data_dir: DataDir = None, tenant: Tenant = None, as_json: Annotated[bool, typer.Option("--json")] = False
) -> None:
    """List documents with their status and inferred filing metadata."""
    settings = settings_or_exit(data_dir, tenant=tenant)
    from finrag.registry.sqlite_read import list_documents, sqlite_path

    # SQLite (the embedded default) is read with the standard library: SQLAlchemy's import is most of
    # this command's time. Another database goes through the registry.
    path = sqlite_path(settings.sqlite_url)
    if path is not None:
        docs = list_documents(path, tenant=settings.tenant)
    else:
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


@documents_app.command("show")
def documents_show(
    doc: Annotated[str, typer.Argument(help="doc id or name")],
    data_dir: DataDir = None,
    tenant: Tenant = None,
) -> None:
    """Show one document."""
    settings = settings_or_exit(data_dir, tenant=tenant)
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
    settings = settings_or_exit(data_dir, tenant=tenant)
    svc = service(settings)
    try:
        ok = svc.delete_document(doc)
    finally:
        svc.close()
    if not ok:
        err.print(f"[red]unknown document:[/red] {doc}")
        raise typer.Exit(1)
    console.print(f"deleted {doc}")


@documents_app.command("relabel-sections")
def documents_relabel_sections(data_dir: DataDir = None, tenant: Tenant = None) -> None:
    """Set the section of every indexed page (Item 1, 1A, 7, notes ...) from the stored text, no re-embedding."""
    from finrag.ingest.sections import relabel_index

    settings = settings_or_exit(data_dir, tenant=tenant)
    svc = service(settings)
    try:
        done = relabel_index(svc.c.store, svc.c.registry, settings.tenant)
    finally:
        svc.close()
    console.print(f"sections set on {sum(done.values())} pages of {len(done)} documents")
