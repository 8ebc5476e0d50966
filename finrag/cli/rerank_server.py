"""`finrag rerank-server`"""

from __future__ import annotations

from typing import Annotated

import typer

from finrag.cli.common import configure_service_logging, settings_or_exit


def rerank_server_command(
    host: Annotated[str, typer.Option("--host", help="interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port")] = 8080,
    model: Annotated[
        str, typer.Option("--model", help="CrossEncoder: hub id or local path (FINRAG_RETRIEVAL_CROSS_ENCODER_MODEL)")
    ] = "",
    device: Annotated[str, typer.Option("--device", help="auto (GPU when available), cpu, cuda, cuda:1 ...")] = "auto",
    batch_size: Annotated[
        int | None,
        typer.Option("--batch-size", min=1, help="pairs per forward pass (FINRAG_RETRIEVAL_RERANK_BATCH_SIZE)"),
    ] = None,
    max_length: Annotated[
        int | None,
        typer.Option(
            "--max-length", min=16, help="tokens per (query, passage) pair (FINRAG_RETRIEVAL_RERANK_MAX_LENGTH)"
        ),
    ] = None,
) -> None:
    """Serve the cross-encoder reranker over HTTP (POST /rerank); point API replicas at it with
    FINRAG_RETRIEVAL_RERANK=remote and FINRAG_RETRIEVAL_RERANK_URL=http://host:port."""
    from finrag.rerank_server.app import run_rerank_server

    settings = settings_or_exit()
    configure_service_logging(settings)
    chosen = model or settings.retrieval.cross_encoder_model
    r = settings.retrieval
    run_rerank_server(
        host,
        port,
        chosen,
        device,
        max_length=max_length or r.rerank_max_length,
        batch_size=batch_size or r.rerank_batch_size,
    )
