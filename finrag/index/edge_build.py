"""The embedded store's index build, run as a child process: `python -m finrag.index.edge_build ARGS`.

qdrant-edge's `EdgeShard.optimize()` holds the GIL for the whole build (minutes at 1M points), which
would freeze every other thread of the serving process. So `QdrantEdgeStore.optimize` runs this: it
copies the parent's shard folder (which nothing writes meanwhile) to `path`, opens the copy with the
store's options, optimises it, and prints one JSON line `{"changed": bool, "points": int}`. Any failure
exits non-zero with the reason on stderr; the parent removes the copy and keeps its shard.

Built segments (an HNSW graph) are linked into the copy, not copied: a build writes new segments and
only reads the ones it merges or leaves, so a shard of many built segments needs only its unbuilt
ones' size free on disk, and the copy takes no time for the rest (tests/test_store_build.py checks that
the serving shard's files stay byte-identical through a build)."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import qdrant_edge as q

from finrag.index.qdrant_edge import ShardOptions, has_graph, load_shard, segment_configs


def built_segments(shard: Path) -> list[Path]:
    """The shard's segments that have an HNSW graph: made by a build, never written by one after."""
    return [folder for folder, config in segment_configs(shard) if has_graph(config)]


def copy_shard(source: Path, path: Path) -> None:
    """Copy the shard folder, linking the files of its built segments (one file system: the copy is a
    sibling of the shard)."""
    linked = built_segments(source)

    def copy_or_link(src: str, dst: str) -> None:
        if any(Path(src).is_relative_to(segment) for segment in linked):
            os.link(src, dst)
        else:
            shutil.copy2(src, dst)

    shutil.copytree(source, path, copy_function=copy_or_link)


def build(source: Path, path: Path, options: ShardOptions, points: int) -> bool:
    """Copy the shard at `source` to `path` and optimise the copy; True if any segment changed.
    `points`: what the parent's shard holds, checked before and after so a copy that lost points is
    never swapped in."""
    try:
        copy_shard(source, path)
    except OSError as exc:  # a full disk, typically: the build needs the unbuilt segments' size free
        raise RuntimeError(f"copying the shard for the index build failed: {exc}") from exc
    shard = load_shard(path, options)
    try:
        before = shard.count(q.CountRequest(exact=True))
        if before != points:
            raise RuntimeError(f"the copy holds {before} points, the shard {points}")
        changed = bool(shard.optimize())
        shard.flush()
        after = shard.count(q.CountRequest(exact=True))
        if after != points:
            raise RuntimeError(f"the build left {after} points of {points}")
    finally:
        shard.close()
    return changed


def main(argv: list[str]) -> int:
    args = json.loads(argv[0])
    options = ShardOptions(
        dim=int(args["dim"]),
        quantization=str(args["quantization"]),
        vectors_on_disk=bool(args["vectors_on_disk"]),
        indexing_threshold_kb=args["indexing_threshold_kb"],
        index_memory=str(args["index_memory"]),
        segment_max_points=args["segment_max_points"],
    )
    points = int(args["points"])
    try:
        changed = build(Path(args["source"]), Path(args["path"]), options, points)
    except Exception as exc:  # the parent reports the last lines of stderr
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(json.dumps({"changed": changed, "points": points}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
