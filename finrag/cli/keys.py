"""`finrag keys create | list | revoke`: API keys (stored as hashes only)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from finrag.cli.common import DataDir, console, err, settings_or_exit

if TYPE_CHECKING:
    from finrag.serve.keys import KeyStore

keys_app = typer.Typer(help="Create, list and revoke API keys (stored as hashes only).", no_args_is_help=True)


def _keys(data_dir: Path | None) -> KeyStore:
    from finrag.db import open_database
    from finrag.serve.keys import KeyStore

    settings = settings_or_exit(data_dir)
    return KeyStore(open_database(settings.sqlite_url), cache_s=0, max_per_tenant=settings.security.max_keys_per_tenant)


@keys_app.command("create")
def create_key(
    tenant: Annotated[str, typer.Option("--tenant", help="the tenant this key works in (created with it)")],
    name: Annotated[str, typer.Option("--name", help="who or what uses the key")],
    admin: Annotated[bool, typer.Option("--admin", help="also manage this tenant's keys")] = False,
    scope: Annotated[
        list[str] | None, typer.Option("--scope", help="query / ingest / admin (repeatable; default query+ingest)")
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Create a key and print it once: it cannot be shown again."""
    from finrag.serve.keys import DEFAULT_SCOPES, KeyRequestError

    scopes = list(scope or DEFAULT_SCOPES)
    if admin:
        scopes = sorted({*scopes, "query", "ingest", "admin"})
    try:
        secret, info = _keys(data_dir).create(tenant, name, scopes)
    except KeyRequestError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    err.print(f"created {info.key_id} for tenant {info.tenant!r} with scopes {','.join(info.scopes)}")
    err.print("store this key now; it is not shown again:")
    print(secret)  # alone on stdout so scripts can capture it


@keys_app.command("list")
def list_keys(
    tenant: Annotated[str | None, typer.Option("--tenant", help="only this tenant")] = None,
    revoked: Annotated[bool, typer.Option("--revoked", help="include revoked keys")] = False,
    data_dir: DataDir = None,
) -> None:
    """List keys (ids and prefixes, never secrets)."""
    table = Table(title="API keys")
    for col in ("key id", "tenant", "name", "prefix", "scopes", "created", "revoked"):
        table.add_column(col)
    for k in _keys(data_dir).list(tenant, include_revoked=revoked):
        table.add_row(k.key_id, k.tenant, k.name, k.prefix + "…", ",".join(k.scopes), k.created_at, k.revoked_at or "")
    console.print(table)


@keys_app.command("revoke")
def revoke_key(
    key_id: Annotated[str, typer.Argument(help="the key id shown by `keys list`")],
    data_dir: DataDir = None,
) -> None:
    """Revoke a key (running servers stop accepting it within FINRAG_SERVE_KEY_CACHE_S seconds)."""
    if not _keys(data_dir).revoke(key_id):
        err.print(f"[red]no live key {key_id!r}[/red]")
        raise typer.Exit(1)
    err.print(f"revoked {key_id}")
