"""`finrag keys ...` and `finrag serve`. Register in finrag/cli.py with
`app.add_typer(keys_app, name="keys")` and `app.command("serve")(serve_command)`."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from finrag.settings import Settings, SettingsError, load_settings

keys_app = typer.Typer(help="Create, list and revoke API keys (stored as hashes only).", no_args_is_help=True)
console = Console()
err = Console(stderr=True)

DataDir = Annotated[Path | None, typer.Option("--data-dir", help="index + registry folder (FINRAG_DATA_DIR)")]


def _settings(data_dir: Path | None) -> Settings:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        return load_settings(**({"data_dir": data_dir} if data_dir is not None else {}))
    except SettingsError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None


def _keys(data_dir: Path | None):  # type: ignore[no-untyped-def]
    from finrag.serve.db import make_engine
    from finrag.serve.keys import KeyStore

    settings = _settings(data_dir)
    return KeyStore(make_engine(settings.sqlite_url), cache_s=0, max_per_tenant=settings.security.max_keys_per_tenant)


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


def serve_command(
    host: Annotated[str, typer.Option("--host", help="interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port")] = 8000,
    data_dir: DataDir = None,
) -> None:
    """Run the HTTP API and web page (uvicorn, one process; FINRAG_SERVE_* settings)."""
    import uvicorn

    from finrag.logs import configure_logging
    from finrag.serve.app import create_app
    from finrag.serve.middleware import RequestIdLogFilter

    configure_logging(os.environ.get("FINRAG_LOG_LEVEL", "INFO"))
    for handler in logging.getLogger().handlers:
        handler.addFilter(RequestIdLogFilter())
    from finrag.index.owner import announce_serving

    announce_serving(port)  # the store's owner lock tells other processes where this API is
    app = create_app(_settings(data_dir))
    # log_config=None keeps our JSON logs; uvicorn's own access log is replaced by finrag.serve.access.
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False, proxy_headers=True)
