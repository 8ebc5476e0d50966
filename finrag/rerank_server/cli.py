"""`finrag rerank-server`. Register in finrag/cli.py with
`app.command("rerank-server")(rerank_server_command)`."""

from __future__ import annotations

import os
from typing import Annotated

import typer


def rerank_server_command(
    host: Annotated[str, typer.Option("--host", help="interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port")] = 8080,
    model: Annotated[
        str, typer.Option("--model", help="CrossEncoder: hub id or local path (FINRAG_RETRIEVAL_CROSS_ENCODER_MODEL)")
    ] = "",
    device: Annotated[str, typer.Option("--device", help="auto (GPU when available), cpu, cuda, cuda:1 ...")] = "auto",
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, help="pairs per forward pass")] = 32,
    max_length: Annotated[int, typer.Option("--max-length", min=16, help="tokens per (query, passage) pair")] = 512,
) -> None:
    """Serve the cross-encoder reranker over HTTP (POST /rerank); point API replicas at it with
    FINRAG_RETRIEVAL_RERANK=remote and FINRAG_RETRIEVAL_RERANK_URL=http://host:port."""
    from finrag.logs import configure_logging
    from finrag.rerank_server.app import DEFAULT_MODEL, run_rerank_server

    configure_logging(os.environ.get("FINRAG_LOG_LEVEL", "INFO"))
    chosen = model or os.environ.get("FINRAG_RETRIEVAL_CROSS_ENCODER_MODEL") or DEFAULT_MODEL
    run_rerank_server(host, port, chosen, device, max_length=max_length, batch_size=batch_size)
