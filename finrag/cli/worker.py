"""`finrag worker` (also `python -m finrag.queue`)"""

from __future__ import annotations

from typing import Annotated

import typer

from finrag.cli.common import configure_service_logging, settings_or_exit


def worker_command(
    max_jobs: Annotated[int, typer.Option("--max-jobs", help="exit after this many jobs; 0 = run until SIGTERM")] = 0,
    visibility_s: Annotated[float, typer.Option("--visibility-s", help="job lease (FINRAG_WORKER_VISIBILITY_S)")] = 0.0,
    metrics_port: Annotated[
        int, typer.Option("--metrics-port", help="export online-evaluation scores (FINRAG_WORKER_METRICS_PORT)")
    ] = 0,
) -> None:
    """Run ingest / delete / online-evaluation jobs from the Redis queue (FINRAG_SERVE_REDIS_URL) until SIGTERM."""
    from finrag.jobs import run_worker

    settings = settings_or_exit()
    configure_service_logging(settings)
    run_worker(
        settings,
        max_jobs=max_jobs or None,
        visibility_s=visibility_s or settings.worker.visibility_s,
        metrics_port=metrics_port or settings.worker.metrics_port,
    )
