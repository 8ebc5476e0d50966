"""finrag command line: every command is registered here, one module per resource.

The commands' modules import their heavy dependencies (service, FastAPI, uvicorn, alembic) inside the
command, so `finrag --help` stays fast and a missing optional extra only breaks the command needing it."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from finrag.cli.ask import ask
from finrag.cli.demo import demo
from finrag.cli.documents import documents_app
from finrag.cli.eval import eval_app
from finrag.cli.index import index_app
from finrag.cli.ingest import ingest
from finrag.cli.keys import keys_app
from finrag.cli.migrate import migrate_command
from finrag.cli.rerank_server import rerank_server_command
from finrag.cli.serve import serve_command
from finrag.cli.updater import updater_command
from finrag.cli.worker import worker_command

app = typer.Typer(help="Cited question answering over financial filings.", no_args_is_help=True)


@app.callback()
def _main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="info-level JSON logs")] = False,
) -> None:
    from finrag.logs import configure_logging

    configure_logging("INFO" if verbose else "WARNING")
    os.umask(0o077)  # the index, registry and uploads hold tenants' filings: owner-only (0600 / 0700)


app.command("ingest")(ingest)
app.command("ask")(ask)
app.add_typer(documents_app, name="documents")
app.add_typer(eval_app, name="eval")
app.add_typer(index_app, name="index")
app.command("demo")(demo)
app.add_typer(keys_app, name="keys")
app.command("serve")(serve_command)
app.command("worker")(worker_command)
app.command("updater")(updater_command)
app.command("migrate")(migrate_command)
app.command("rerank-server")(rerank_server_command)

__all__ = ["app"]
