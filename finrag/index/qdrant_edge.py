"""Embedded vector store: Qdrant edge shard on disk (dense + BM25 sparse, payload filters, RRF)."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import qdrant_edge as q

from finrag.index.owner import OwnerLock
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
_CHILDREN = q.FieldCondition(key="kind", match=q.MatchAny([ChunkKind.PASSAGE.value, ChunkKind.TABLE.value]))
SPARSE = "bm25"


class QdrantEdgeStore:
    """VectorStore role on an embedded Qdrant edge shard.

    Every read is filtered by tenant inside the query, so tenants never see each other's chunks.
    One process owns the folder (an OS lock taken before anything is opened); a second one gets
    `StoreLockedError` naming the owner and changes nothing."""

    def __init__(
        self,
        path: Path,
        dim: int = 384,
        quantization: str = "none",
        vectors_on_disk: bool = False,
        indexing_threshold_kb: int | None = None,
    ) -> None:
        """`quantization="int8"`: scalar int8 copies of the dense vectors kept in RAM for the search, the
        float originals only read to rescore the best candidates; `vectors_on_disk`: the originals are
        left on disk (mmap, not preloaded). Both take effect on segments the optimiser builds (`optimize`),
        on a new shard or, given when an existing one is opened, from its next optimisation.
        `indexing_threshold_kb`: segments with fewer KB of vectors stay unindexed when optimised (Qdrant's
        default, ~10 MB or ~6,500 MiniLM vectors, when None: a scan of a smaller segment is as fast)."""
        if quantization not in ("none", "int8"):
            raise ValueError(f"quantization: 'none' or 'int8', not {quantization!r}")
        self.path = Path(path)
        self.dim = dim
        self.quantization = quantization
        self.vectors_on_disk = vectors_on_disk
        self.indexing_threshold_kb = indexing_threshold_kb
        self._shard: q.EdgeShard | None = None
        # The shard is not safe for concurrent writers; readers and writers share it in-process.
        self._lock = threading.RLock()
        self.owner = OwnerLock(self.path)
        # The last write that failed (cleared by a successful reopen): readiness reports it.
        self.write_error = ""

    # lifecycle -----------------------------------------------------------------------------------
    def warm_up(self) -> None:
        if self._shard is not None:
            return
        with self._lock:
            if self._shard is not None:
                return
            self.owner.acquire()  # before any file of the shard is opened
            optimizers = None
            if self.indexing_threshold_kb is not None:
                optimizers = q.EdgeOptimizersConfig(indexing_threshold=self.indexing_threshold_kb)
            config = q.EdgeConfig(
                vectors={DENSE: self._vector_params()},
                sparse_vectors={SPARSE: q.EdgeSparseVectorParams(modifier=q.Modifier.Idf)},
                optimizers=optimizers,
            )
            if (self.path / "segments").exists() or any(self.path.glob("*")):
                tuned = self.quantization != "none" or self.vectors_on_disk or optimizers is not None
                # Without options the shard keeps what it was created with (an index built before them).
                self._shard = q.EdgeShard.load(str(self.path), config if tuned else None)
            else:
                self.path.mkdir(parents=True, exist_ok=True)
                self._shard = q.EdgeShard.create(str(self.path), config)
                for name in KEYWORD_FIELDS:
                    self._shard.update(q.UpdateOperation.create_field_index(name, q.PayloadSchemaType.Keyword))
                for name in INTEGER_FIELDS:
                    self._shard.update(q.UpdateOperation.create_field_index(name, q.PayloadSchemaType.Integer))
            log.debug("qdrant edge shard open", extra={"path": str(self.path)})

    def _vector_params(self) -> q.EdgeVectorParams:
        quantization = None
        if self.quantization == "int8":
            quantization = q.ScalarQuantizationConfig(type=q.ScalarType.Int8, quantile=0.99, always_ram=True)
        return q.EdgeVectorParams(
            size=self.dim,
            distance=q.Distance.Cosine,
            on_disk=True if self.vectors_on_disk else None,
            quantization_config=quantization,
        )

    @property
    def shard(self) -> q.EdgeShard:
        if self._shard is None:
            self.warm_up()
        assert self._shard is not None
        return self._shard

    def flush(self) -> None:
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
        """Run the shard's segment optimisers now (build the HNSW and payload indexes of segments that
        outgrew the indexing threshold, merge small ones). Qdrant edge has no background optimiser:
        without this, new points stay in plain segments that every search scans in full. True if any
        segment changed."""
        with self._lock:
            return bool(self.shard.optimize())

    def info(self) -> dict[str, int]:
        """Points and segments, and how many segments have a dense HNSW graph (`hnsw_segments`, 0 until
        `optimize`) and int8 copies (`int8_segments`). Qdrant edge 0.9.0's own `indexed_vectors_count`
        counts a plain segment's vectors too, so the index kind is read from each segment's config."""
        with self._lock:
            i = self.shard.info()
            hnsw = int8 = 0
            for config in (self.path / "segments").glob("*/segment.json"):
                dense = json.loads(config.read_text())["config"]["vector_data"].get(DENSE, {})
                hnsw += dense.get("index", {}).get("type") == "hnsw"
                int8 += "scalar" in (dense.get("quantization_config") or {})
        return {"points": i.points_count, "segments": i.segments_count, "hnsw_segments": hnsw, "int8_segments": int8}

    def close(self) -> None:
        with self._lock:
            try:
                if self._shard is not None:
                    self._shard.flush()
                    self._shard.close()
            finally:
                self._shard = None
                self.owner.release()

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
            try:
                self._drop_shard()
                self.warm_up()
                self._shard.flush()  # type: ignore[union-attr]
            except Exception as exc:
                return f"last write failed ({self.write_error}); reopening failed: {type(exc).__name__}: {exc}"
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
        with self._lock:
            for start in range(0, len(points), 512):
                self._write(q.UpdateOperation.upsert_points(points[start : start + 512]))

    def delete_document(self, tenant: str, doc_id: str) -> None:
        with self._lock:
            self._write(q.UpdateOperation.delete_points_by_filter(_doc_filter(tenant, doc_id)))

    def set_page_payload(self, tenant: str, doc_id: str, pages: dict[int, dict[str, Any]]) -> None:
        """Set payload fields on every point of each page (its parent and children), without re-embedding:
        how an index built before a payload field existed (e.g. `section_key`) is brought up to date."""
        with self._lock:
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
        with self._lock:
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
        child_flt = q.Filter(must=[*flt.must, _CHILDREN])
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
