"""`finrag serve`"""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from finrag.cli.common import DataDir, configure_service_logging, settings_or_exit


def serve_command(
    host: Annotated[str, typer.Option("--host", help="interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port")] = 8000,
    data_dir: DataDir = None,
) -> None:
    """Run the HTTP API and web page (uvicorn, one process; FINRAG_SERVE_* settings)."""
    import uvicorn

    from finrag.serve.app import create_app
    from finrag.serve.middleware import RequestIdLogFilter

    settings = settings_or_exit(data_dir)
    configure_service_logging(settings)
    for handler in logging.getLogger().handlers:
        handler.addFilter(RequestIdLogFilter())
    from finrag.index.owner import announce_serving

    announce_serving(port)  # the store's owner lock tells other processes where this API is
    app = create_app(settings)
    # log_config=None keeps our JSON logs; uvicorn's own access log is replaced by finrag.serve.access.
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False, proxy_headers=True)
