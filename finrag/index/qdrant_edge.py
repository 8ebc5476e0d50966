"""Embedded vector store: Qdrant edge shard on disk (dense + BM25 sparse, payload filters, RRF)."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import qdrant_edge as q

from finrag.index.owner import OwnerLock, close_owned
from finrag.index.payload import (
    INTEGER_FIELDS,
    KEYWORD_FIELDS,
    SECTION_FIELDS,
    chunk_from_payload,
    chunk_payload,
)
from finrag.protocols import SparseVec
from finrag.records import Chunk, ChunkKind, Hit, Scope

log = logging.getLogger(__name__)

DENSE = "dense"
# Children only (dense vectors live on them). A keyword match, not a bool index: qdrant-edge 0.9.0's
# bool index matched nothing once segments were optimised (seen on a 57k-point shard).
CHILDREN = q.FieldCondition(key="kind", match=q.MatchAny([ChunkKind.PASSAGE.value, ChunkKind.TABLE.value]))
SPARSE = "bm25"
# The child process that builds the index on a copy of the shard (`QdrantEdgeStore.optimize`).
BUILD_MODULE = "finrag.index.edge_build"
# Where built segments keep the HNSW graph and the BM25 inverted index (Qdrant's memory tiers):
# pinned = on the heap; cached = memory-mapped and read into the page cache when the shard opens;
# cold = memory-mapped, each page read from disk on first use. The int8 copies stay pinned.
INDEX_MEMORY: dict[str, q.Memory | None] = {"pinned": None, "cached": q.Memory.Cached, "cold": q.Memory.Cold}


class IndexBuildError(RuntimeError):
    """The index build failed; the shard that was serving is unchanged and still serves."""


@dataclass(frozen=True, slots=True)
class ShardOptions:
    """What a shard is opened with; the index build's child process opens its copy with the same."""

    dim: int = 384
    quantization: str = "none"
    vectors_on_disk: bool = False
    indexing_threshold_kb: int | None = None
    index_memory: str = "pinned"
    segment_max_points: int | None = None

    @property
    def tuned(self) -> bool:
        return (
            self.quantization != "none"
            or self.vectors_on_disk
            or self.indexing_threshold_kb is not None
            or self.index_memory != "pinned"
            or self.segment_max_points is not None
        )

    @property
    def max_segment_kb(self) -> int | None:
        """Qdrant sizes segments by their float vectors (4 bytes a dimension), in KB."""
        if self.segment_max_points is None:
            return None
        return -(-self.segment_max_points * self.dim * 4 // 1024)

    def config(self) -> q.EdgeConfig:
        quantization = None
        if self.quantization == "int8":
            quantization = q.ScalarQuantizationConfig(type=q.ScalarType.Int8, quantile=0.99, always_ram=True)
        # "pinned" leaves Qdrant's default (on the heap), so shards built before the option load unchanged.
        memory = INDEX_MEMORY[self.index_memory]
        hnsw = None
        if memory is not None:
            # Qdrant's default graph parameters: only the placement differs from a graph built without it.
            hnsw = q.HnswIndexConfig(m=16, ef_construct=100, full_scan_threshold=10_000, memory=memory)
        dense = q.EdgeVectorParams(
            size=self.dim,
            distance=q.Distance.Cosine,
            on_disk=True if self.vectors_on_disk else None,
            quantization_config=quantization,
            hnsw_config=hnsw,
        )
        optimizers = None
        if self.indexing_threshold_kb is not None or self.max_segment_kb is not None:
            # Qdrant only merges segments, never splits one: the bound keeps built segments apart once
            # they reach it; the ingest run's mid-run builds keep each new one near it.
            optimizers = q.EdgeOptimizersConfig(
                indexing_threshold=self.indexing_threshold_kb, max_segment_size=self.max_segment_kb
            )
        return q.EdgeConfig(
            vectors={DENSE: dense},
            sparse_vectors={SPARSE: q.EdgeSparseVectorParams(modifier=q.Modifier.Idf, memory=memory)},
            optimizers=optimizers,
        )


def segment_configs(shard: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    """Each segment folder of a shard with its config (`segment.json`): what kind of index it has, where
    it keeps it. qdrant-edge 0.9.0 reports none of this through its API."""
    for config in (shard / "segments").glob("*/segment.json"):
        yield config.parent, json.loads(config.read_text())["config"]


def has_graph(config: dict[str, Any]) -> bool:
    """The segment was built: its dense vectors have an HNSW graph (a build never writes into it again)."""
    return config["vector_data"].get(DENSE, {}).get("index", {}).get("type") == "hnsw"


def load_shard(path: Path, options: ShardOptions) -> q.EdgeShard:
    """Open an existing shard folder. Without options the shard keeps what it was created with (an
    index built before them)."""
    return q.EdgeShard.load(str(path), options.config() if options.tuned else None)


def _sibling(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


class QdrantEdgeStore:
    """VectorStore role on an embedded Qdrant edge shard.

    Every read is filtered by tenant inside the query, so tenants never see each other's chunks.
    One process owns the folder (an OS lock taken before anything is opened); a second one gets
    `StoreLockedError` naming the owner and changes nothing. `optimize` builds the index in a child
    process on a copy (`<path>.building`) while this one keeps answering reads from the current shard,
    then swaps the folders by renames (`<path>.old` while they swap); `warm_up` repairs what a crash
    between those steps left behind."""

    def __init__(
        self,
        path: Path,
        dim: int = 384,
        quantization: str = "none",
        vectors_on_disk: bool = False,
        indexing_threshold_kb: int | None = None,
        index_memory: str = "pinned",
        segment_max_points: int | None = None,
    ) -> None:
        """`quantization="int8"`: scalar int8 copies of the dense vectors kept in RAM for the search, the
        float originals only read to rescore the best candidates; `vectors_on_disk`: the originals are
        left on disk (mmap, not preloaded). Both take effect on segments the optimiser builds (`optimize`),
        on a new shard or, given when an existing one is opened, from its next optimisation.
        `indexing_threshold_kb`: segments with fewer KB of vectors stay unindexed when optimised (Qdrant's
        default, ~10 MB or ~6,500 MiniLM vectors, when None: a scan of a smaller segment is as fast).
        `index_memory`: where built segments keep the HNSW graph and the BM25 inverted index (`INDEX_MEMORY`);
        like quantisation it applies to segments built from then on, and `optimize` re-places built ones.
        `segment_max_points`: a build never merges segments past this many points (None: Qdrant's own
        bound, 256 MB of float vectors per CPU, ~333k MiniLM points on 2 cores and ~2.7M on 16). Qdrant
        never splits a segment, so a long ingest builds as it goes to keep new segments near the bound
        (`IngestPipeline(segment_points=)`): one build of everything would need one segment's memory for
        all of it."""
        if quantization not in ("none", "int8"):
            raise ValueError(f"quantization: 'none' or 'int8', not {quantization!r}")
        if index_memory not in INDEX_MEMORY:
            raise ValueError(f"index_memory: one of {', '.join(INDEX_MEMORY)}, not {index_memory!r}")
        self.path = Path(path)
        self.dim = dim
        self.quantization = quantization
        self.vectors_on_disk = vectors_on_disk
        self.indexing_threshold_kb = indexing_threshold_kb
        self.index_memory = index_memory
        self.segment_max_points = segment_max_points
        self._shard: q.EdgeShard | None = None
        # The shard is not safe for concurrent writers; readers and writers share it in-process.
        self._lock = threading.RLock()
        # Writes take this first (then `_lock`); `optimize` holds it from the copy to the swap, so a
        # write waits for the build instead of landing in the shard the copy no longer sees. Reads never
        # take it: they keep going during a build.
        self._write_gate = threading.Lock()
        self._closing = threading.Event()  # `close` asks a running build to stop
        self._building = False  # a build's copy is in use: a reopen must not take it for a leftover
        self.owner = OwnerLock(self.path)
        # The last write that failed (cleared by a successful reopen): readiness reports it.
        self.write_error = ""

    # lifecycle -----------------------------------------------------------------------------------
    @property
    def options(self) -> ShardOptions:
        return ShardOptions(
            self.dim,
            self.quantization,
            self.vectors_on_disk,
            self.indexing_threshold_kb,
            self.index_memory,
            self.segment_max_points,
        )

    def warm_up(self) -> None:
        if self._shard is not None:
            return
        with self._lock:
            if self._shard is not None:
                return
            self.owner.acquire()  # before any file of the shard is opened
            if not self._building:
                self._repair_swap()
            self._open()
            log.debug("qdrant edge shard open", extra={"path": str(self.path)})

    def _open(self) -> None:
        if (self.path / "segments").exists() or any(self.path.glob("*")):
            self._shard = load_shard(self.path, self.options)
            return
        self.path.mkdir(parents=True, exist_ok=True)
        self._shard = q.EdgeShard.create(str(self.path), self.options.config())
        for name in KEYWORD_FIELDS:
            self._shard.update(q.UpdateOperation.create_field_index(name, q.PayloadSchemaType.Keyword))
        for name in INTEGER_FIELDS:
            self._shard.update(q.UpdateOperation.create_field_index(name, q.PayloadSchemaType.Integer))

    def _repair_swap(self) -> None:
        """Undo what a process that died during `optimize` left, or an earlier build whose removals failed
        (we hold the owner lock, so no build of another process is running): between the two renames the
        shard is at `<path>.old` and nothing at `path`; a finished swap may leave `.old`; an unfinished
        build leaves `.building`."""
        old, building = _sibling(self.path, ".old"), _sibling(self.path, ".building")
        if old.exists():
            if self.path.exists():
                log.warning("removing the pre-build shard a finished index build left", extra={"path": str(old)})
                shutil.rmtree(old)
            else:
                log.warning("restoring the shard an interrupted index build swap left aside", extra={"path": str(old)})
                old.rename(self.path)
        if building.exists():
            log.warning("removing the copy an interrupted index build left", extra={"path": str(building)})
            shutil.rmtree(building)

    @property
    def shard(self) -> q.EdgeShard:
        if self._shard is None:
            self.warm_up()
        assert self._shard is not None
        return self._shard

    def flush(self) -> None:
        # A write: during a build it waits, so the files the child copies stay at rest.
        with self._write_gate:
            self._flush()

    def _flush(self) -> None:
        with self._lock:
            if self._shard is None:
                return
            try:
                self._shard.flush()
            except Exception as exc:
                self.write_error = f"{type(exc).__name__}: {exc}"
                log.error("qdrant edge flush failed; the shard will be reopened", extra={"error": self.write_error})
                self._drop_shard()
                raise

    def optimize(self) -> bool:
        """Run the shard's segment optimisers (build the HNSW and payload indexes of segments that
        outgrew the indexing threshold, merge small ones). Qdrant edge has no background optimiser:
        without this, new points stay in plain segments that every search scans in full. True if any
        segment changed.

        qdrant-edge holds the GIL for the whole build (minutes at 1M points), so it runs in a child
        process on a copy of the shard while this process keeps answering reads from the current one.
        Writes wait for it (the write gate), so none is lost. The copy links the files of built segments
        (a build only reads them) and copies the rest: it needs the unbuilt segments' size free on disk.
        Raises `IndexBuildError` when the build fails (the copy is removed; the current shard is
        unchanged and still serves) or when `close` stops it."""
        with self._write_gate:
            self.warm_up()
            with self._lock:
                self._flush()  # the copy must hold every write so far
                points = self.shard.count(q.CountRequest(exact=True))
            building, old = _sibling(self.path, ".building"), _sibling(self.path, ".old")
            self._building = True
            try:
                self._repair_swap()  # leftovers of a failed removal earlier: the renames need the names
                changed = self._build_in_child(building, points)
                if changed:
                    t = time.perf_counter()
                    with self._lock:
                        self._swap_in(building)
                    # Reads wait for the swap (close + reopen): the one pause a build costs them.
                    swap_s = time.perf_counter() - t
                    log.info("index build swapped in", extra={"path": str(self.path), "seconds": swap_s})
                    # Outside `_lock`: removing GBs of files need not hold up the reads.
                    shutil.rmtree(old, ignore_errors=True)
            finally:
                # After a swap nothing is left there; after a failure or a no-op build, the copy.
                shutil.rmtree(building, ignore_errors=True)
                self._building = False
            return changed

    def _build_in_child(self, building: Path, points: int) -> bool:
        """Copy the shard to `building` and optimise the copy in `python -m finrag.index.edge_build`;
        True if a segment changed. The child copies too: a copy in this process would contend for the
        GIL with the reads, file by file. Nothing writes meanwhile (the gate), so the files are at rest."""
        args = {"source": str(self.path), "path": str(building), "points": points, **asdict(self.options)}
        cmd = [sys.executable, "-m", BUILD_MODULE, json.dumps(args)]
        # The child imports the same finrag as this process, installed or not.
        root = str(Path(__file__).resolve().parents[2])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        try:
            while True:
                try:
                    out, err = proc.communicate(timeout=0.2)
                    break
                except subprocess.TimeoutExpired:
                    if self._closing.is_set():
                        raise IndexBuildError("index build stopped: the store is closing") from None
        finally:
            if proc.poll() is None:  # stopped, or interrupted (Ctrl-C): no orphan writing the copy
                proc.kill()
                proc.communicate()
        if proc.returncode != 0:
            tail = "\n".join(err.strip().splitlines()[-5:])
            raise IndexBuildError(f"index build failed in its child process (exit {proc.returncode}): {tail}")
        try:
            result = json.loads(out.strip().splitlines()[-1])
        except (ValueError, IndexError):
            raise IndexBuildError(f"index build child printed no result: {out[-500:]!r}") from None
        return bool(result["changed"])

    def _swap_in(self, building: Path) -> None:
        """Replace the shard by the built copy: close, rename current -> `.old`, copy -> path, reopen
        (the caller removes `.old`). The owner lock is keyed by the path (`<path>.lock`), not the folder,
        so it stays ours throughout. If the new shard does not open, the old one is put back."""
        old = _sibling(self.path, ".old")
        self._drop_shard()
        moved = False
        try:
            self.path.rename(old)
            moved = True
            building.rename(self.path)
            self._open()
        except Exception as exc:
            self._drop_shard()
            if moved:
                if self.path.exists():
                    self.path.rename(building)  # the caller removes it
                old.rename(self.path)
            self._open()
            why = f"{type(exc).__name__}: {exc}"
            raise IndexBuildError(f"the built index could not be swapped in ({why}); kept the old one") from exc

    def info(self) -> dict[str, int]:
        """Points and segments, and how many segments have a dense HNSW graph (`hnsw_segments`, 0 until
        `optimize`), int8 copies (`int8_segments`), and a graph or BM25 index memory-mapped (`mapped_*`).
        Qdrant edge 0.9.0's own `indexed_vectors_count` counts a plain segment's vectors too, so the index
        kind is read from each segment's config."""
        with self._lock:
            i = self.shard.info()
            hnsw = int8 = mapped_graphs = mapped_bm25 = 0
            for _, segment in segment_configs(self.path):
                dense = segment["vector_data"].get(DENSE, {})
                index = dense.get("index", {})
                hnsw += has_graph(segment)
                options = index.get("options", {})
                mapped_graphs += options.get("memory") in ("cold", "cached") or bool(options.get("on_disk"))
                int8 += "scalar" in (dense.get("quantization_config") or {})
                bm25 = segment.get("sparse_vector_data", {}).get(SPARSE, {}).get("index", {})
                mapped_bm25 += bm25.get("index_type") == "Mmap"
        return {
            "points": i.points_count,
            "segments": i.segments_count,
            "hnsw_segments": hnsw,
            "int8_segments": int8,
            "mapped_graph_segments": mapped_graphs,  # HNSW graph memory-mapped (cached / cold), not on the heap
            "mapped_bm25_segments": mapped_bm25,  # BM25 inverted index likewise
        }

    def close(self) -> None:
        # A running build is stopped (its copy removed) rather than waited for: it can take minutes.
        self._closing.set()
        try:
            with self._write_gate, self._lock:
                shard, self._shard = self._shard, None
                close_owned(shard, self.owner)
        finally:
            self._closing.clear()

    def _write(self, op: q.UpdateOperation) -> None:
        """One update; a failure drops the shard so the next use reopens it from disk."""
        try:
            self.shard.update(op)
            self.write_error = ""
        except Exception as exc:
            self.write_error = f"{type(exc).__name__}: {exc}"
            log.error("qdrant edge write failed; the shard will be reopened", extra={"error": self.write_error})
            self._drop_shard()
            raise

    def _drop_shard(self) -> None:
        shard, self._shard = self._shard, None
        if shard is not None:
            try:
                shard.close()
            except Exception:  # it is broken already; reopening from disk is the way back
                log.debug("closing a failed shard", exc_info=True)

    def check_writable(self) -> str | None:
        """None when the store can take writes, else why not. After a failed write it reopens the
        shard (the owner lock is still ours) and clears the error when that works."""
        with self._lock:
            if not self.owner.held and self._shard is not None:
                return "the store's owner lock is not held"
            if not self.write_error:
                return None
            # Reopening writes to the shard's files: not while a build's child copies them.
            if not self._write_gate.acquire(blocking=False):
                return f"last write failed ({self.write_error}); the reopen waits for the index build"
            try:
                self._drop_shard()
                self.warm_up()
                self._shard.flush()  # type: ignore[union-attr]
            except Exception as exc:
                return f"last write failed ({self.write_error}); reopening failed: {type(exc).__name__}: {exc}"
            finally:
                self._write_gate.release()
            log.warning("qdrant edge shard reopened after a failed write", extra={"error": self.write_error})
            self.write_error = ""
            return None

    # writes --------------------------------------------------------------------------------------
    def upsert(self, chunks: Sequence[Chunk], dense: np.ndarray | None, sparse: Sequence[SparseVec | None]) -> None:
        points = []
        dense_rows = iter(dense) if dense is not None else None
        for chunk, sp in zip(chunks, sparse, strict=True):
            vector: dict[str, Any] = {}
            if chunk.kind != ChunkKind.PAGE and dense_rows is not None:
                vector[DENSE] = next(dense_rows).tolist()
            if sp is not None and sp.indices:
                vector[SPARSE] = q.SparseVector(indices=list(sp.indices), values=list(sp.values))
            points.append(q.Point(chunk.id, vector, chunk_payload(chunk)))
        with self._write_gate, self._lock:
            for start in range(0, len(points), 512):
                self._write(q.UpdateOperation.upsert_points(points[start : start + 512]))

    def delete_document(self, tenant: str, doc_id: str) -> None:
        with self._write_gate, self._lock:
            self._write(q.UpdateOperation.delete_points_by_filter(_doc_filter(tenant, doc_id)))

    def set_page_payload(self, tenant: str, doc_id: str, pages: dict[int, dict[str, Any]]) -> None:
        """Set payload fields on every point of each page (its parent and children), without re-embedding:
        how an index built before a payload field existed (e.g. `section_key`) is brought up to date."""
        with self._write_gate, self._lock:
            for name in SECTION_FIELDS:  # idempotent: indexes of fields added since the shard was created
                self.shard.update(q.UpdateOperation.create_field_index(name, q.PayloadSchemaType.Keyword))
            for page, payload in pages.items():
                flt = q.Filter(
                    must=[
                        *_doc_filter(tenant, doc_id).must,
                        q.FieldCondition(key="page_start", match=q.MatchValue(page)),
                    ]
                )
                self.shard.update(q.UpdateOperation.set_payload_by_filter(flt, payload))

    def set_document_payload(self, tenant: str, doc_id: str, payload: dict[str, Any]) -> None:
        """Set payload fields on every point of one document, without re-embedding."""
        with self._write_gate, self._lock:
            self.shard.update(q.UpdateOperation.set_payload_by_filter(_doc_filter(tenant, doc_id), payload))

    # reads ---------------------------------------------------------------------------------------
    def hybrid_search(
        self,
        tenant: str,
        dense: np.ndarray | None,
        sparse: SparseVec | None,
        scope: Scope,
        limit: int,
        prefetch_limit: int,
        rrf_k: int = 60,
    ) -> list[Hit]:
        return self.hybrid_search_many(tenant, scope, [(dense, sparse, limit)], prefetch_limit, rrf_k)[0]

    def hybrid_search_many(
        self,
        tenant: str,
        scope: Scope,
        queries: Sequence[tuple[np.ndarray | None, SparseVec | None, int]],
        prefetch_limit: int,
        rrf_k: int = 60,
    ) -> list[list[Hit]]:
        """Several hybrid queries (dense, sparse, limit) under one filter, planned as one batch: the
        shard shares its pass over the segments between them."""
        flt = scope_filter(tenant, scope)
        child_flt = q.Filter(must=[*flt.must, CHILDREN])
        requests: list[q.QueryRequest | None] = []
        for dense, sparse, limit in queries:
            prefetches = []
            if dense is not None:
                prefetches.append(
                    q.Prefetch(
                        limit=prefetch_limit, query=q.Query.Nearest(dense.tolist(), using=DENSE), filter=child_flt
                    )
                )
            if sparse is not None and sparse.indices:
                sp = q.SparseVector(indices=list(sparse.indices), values=list(sparse.values))
                prefetches.append(q.Prefetch(limit=prefetch_limit, query=q.Query.Nearest(sp, using=SPARSE), filter=flt))
            requests.append(
                q.QueryRequest(
                    limit=limit, prefetches=prefetches, query=q.Fusion.Rrf(k=rrf_k), with_payload=True, filter=flt
                )
                if prefetches
                else None
            )
        batch = [r for r in requests if r is not None]
        with self._lock:
            results = iter(self.shard.query_batch(q.QueryBatchRequest(batch)) if batch else [])
        return [
            [Hit(chunk=chunk_from_payload(str(p.id), p.payload or {}), score=p.score) for p in next(results)]
            if r is not None
            else []
            for r in requests
        ]

    def get_chunks(self, tenant: str, ids: Sequence[str]) -> list[Chunk]:
        if not ids:
            return []
        flt = q.Filter(must=[q.FieldCondition(key="tenant", match=q.MatchValue(tenant)), q.HasIdCondition(set(ids))])
        with self._lock:
            records, _ = self.shard.scroll(q.ScrollRequest(limit=len(ids), filter=flt, with_payload=True))
        by_id = {str(r.id): chunk_from_payload(str(r.id), r.payload or {}) for r in records}
        return [by_id[i] for i in ids if i in by_id]

    def page_chunks(self, tenant: str, doc_id: str, pages: Iterable[int]) -> list[Chunk]:
        wanted = sorted(set(pages))
        if not wanted:
            return []
        flt = q.Filter(
            must=[
                *_doc_filter(tenant, doc_id).must,
                q.FieldCondition(key="kind", match=q.MatchValue(ChunkKind.PAGE.value)),
                q.FieldCondition(key="page_start", match=q.MatchAny(wanted)),
            ]
        )
        with self._lock:
            records, _ = self.shard.scroll(q.ScrollRequest(limit=len(wanted) + 1, filter=flt, with_payload=True))
        return sorted((chunk_from_payload(str(r.id), r.payload or {}) for r in records), key=lambda c: c.page_start)

    def count(self, tenant: str | None = None, doc_id: str | None = None) -> int:
        must = []
        if tenant is not None:
            must.append(q.FieldCondition(key="tenant", match=q.MatchValue(tenant)))
        if doc_id is not None:
            must.append(q.FieldCondition(key="doc_id", match=q.MatchValue(doc_id)))
        with self._lock:
            return self.shard.count(q.CountRequest(exact=True, filter=q.Filter(must=must) if must else None))


def _doc_filter(tenant: str, doc_id: str) -> q.Filter:
    return q.Filter(
        must=[
            q.FieldCondition(key="tenant", match=q.MatchValue(tenant)),
            q.FieldCondition(key="doc_id", match=q.MatchValue(doc_id)),
        ]
    )


def scope_filter(tenant: str, scope: Scope) -> q.Filter:
    """Tenant first, always; then the scope's document restriction."""
    must: list[Any] = [q.FieldCondition(key="tenant", match=q.MatchValue(tenant))]
    if scope.doc_ids:
        must.append(q.FieldCondition(key="doc_id", match=q.MatchAny(list(scope.doc_ids))))
    if scope.doc_types:
        must.append(q.FieldCondition(key="doc_type", match=q.MatchAny(list(scope.doc_types))))
    if scope.fiscal_years:
        must.append(q.FieldCondition(key="fiscal_year", match=q.MatchAny(list(scope.fiscal_years))))
    return q.Filter(must=must)
