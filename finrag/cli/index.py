"""`finrag index optimize`: build the vector index now."""

from __future__ import annotations

import time

import typer

from finrag.cli.common import DataDir, console, service, settings_or_exit

index_app = typer.Typer(help="The vector index.", no_args_is_help=True)


@index_app.command("optimize")
def index_optimize(data_dir: DataDir = None) -> None:
    """Build the search indexes (HNSW graph, payload indexes, int8 copies with FINRAG_EDGE_QUANTIZATION=int8)
    of everything ingested, whatever its size (an ingest run only builds past FINRAG_EDGE_INDEX_MIN_POINTS).
    Minutes at a few hundred thousand points. On a Qdrant server this waits for its background optimiser."""
    settings = settings_or_exit(data_dir)
    svc = service(settings)
    try:
        store = svc.c.store
        store.warm_up()
        t = time.perf_counter()
        changed = store.optimize()
        took = time.perf_counter() - t
        points = store.count()
        info = getattr(store, "info", None)  # the embedded store reports its segments
        detail = ""
        if info is not None:
            i = info()
            detail = f"; {i['segments']} segments, {i['hnsw_segments']} with an HNSW graph, {i['int8_segments']} int8"
    finally:
        svc.close()
    verb = "built" if changed else "already built"
    console.print(f"index {verb}: {points:,} points in {took:.1f}s{detail}")
