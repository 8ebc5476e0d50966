"""`finrag migrate` (also `python -m finrag.db.migrations`)"""

from __future__ import annotations

from typing import Annotated

import typer

from finrag.cli.common import settings_or_exit


def migrate_command(
    action: Annotated[str, typer.Argument(help="upgrade | current | head")] = "upgrade",
    url: Annotated[str, typer.Option(help="SQLAlchemy URL (default FINRAG_DATABASE_URL)")] = "",
    revision: Annotated[str, typer.Option(help="target revision for upgrade")] = "head",
) -> None:
    """Bring the database to the latest schema (`upgrade`), or print `current` / `head`.

    URL defaults to FINRAG_DATABASE_URL, then the embedded SQLite of FINRAG_DATA_DIR."""
    from finrag.db.migrations import current_revision, head, upgrade

    if action not in ("upgrade", "current", "head"):
        raise typer.BadParameter(f"unknown action {action!r}: upgrade, current or head")
    if action == "head":
        typer.echo(head())
        return
    target = url or settings_or_exit().sqlite_url
    if action == "upgrade":
        typer.echo(f"at revision {upgrade(target, revision)}")
    else:
        typer.echo(current_revision(target) or "none")
