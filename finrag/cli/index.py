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
    Built segments re-place their graph and BM25 index when FINRAG_EDGE_INDEX_MEMORY changed since.
    Minutes at a few hundred thousand points; the embedded store builds in a child process on a copy of
    the shard (the shard's size free on disk again). On a Qdrant server this waits for its background
    optimiser. Exit code 1 when the build fails (the index is left as it was)."""
    settings = settings_or_exit(data_dir)
    svc = service(settings)
    try:
        store = svc.c.store
        store.warm_up()
        t = time.perf_counter()
        try:
            changed = store.optimize()
        except Exception as exc:
            from finrag.index.qdrant_edge import IndexBuildError

            console.print(f"[red]index build failed[/red]: {type(exc).__name__}: {exc}")
            if isinstance(exc, IndexBuildError):  # the embedded store kept its shard
                console.print("the index is left as it was and still serves")
            raise typer.Exit(1) from None
        took = time.perf_counter() - t
        points = store.count()
        info = getattr(store, "info", None)  # the embedded store reports its segments
        detail = ""
        if info is not None:
            i = info()
            detail = (
                f"; {i['segments']} segments, {i['hnsw_segments']} with an HNSW graph, {i['int8_segments']} int8,"
                f" {i['mapped_graph_segments']} with the graph and {i['mapped_bm25_segments']} with the BM25 index"
                " memory-mapped"
            )
    finally:
        svc.close()
    verb = "built" if changed else "already built"
    console.print(f"index {verb}: {points:,} points in {took:.1f}s{detail}")
