"""`finrag updater SOURCE` (also `python -m finrag.updater`)"""

from __future__ import annotations

from typing import Annotated

import typer

from finrag.cli.common import configure_service_logging, settings_or_exit


def updater_command(
    source: Annotated[str, typer.Argument(help="a folder (watched) or s3://bucket/prefix (polled)")],
    tenant: Annotated[str, typer.Option("--tenant", help="tenant of the documents (FINRAG_TENANT)")] = "",
    interval_s: Annotated[float, typer.Option("--interval-s", help="seconds between scans")] = 30.0,
    once: Annotated[bool, typer.Option("--once", help="scan once, print the report and exit")] = False,
) -> None:
    """Keep the index in step with SOURCE: a folder (watched) or s3://bucket/prefix (polled by ETag)."""
    from finrag.updater.run import run_updater

    settings = settings_or_exit()
    configure_service_logging(settings)
    report = run_updater(settings, source, tenant=tenant or None, interval_s=interval_s, once=once)
    if report is not None:
        print(
            f"new {len(report.new)}  changed {len(report.changed)}  deleted {len(report.deleted)}  "
            f"unchanged {report.unchanged}  errors {len(report.errors)}"
        )
