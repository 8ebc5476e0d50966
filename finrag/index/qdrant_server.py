"""Vector store on a Qdrant server (or qdrant-client's local mode for tests): the same payload mapping,
named vectors and queries as the embedded edge store, so the two are interchangeable.

Collection layout (created on first `warm_up` when missing; an existing collection is used as is):

* named vectors: ``dense`` (cosine, `dim` floats, children only) and ``bm25`` (sparse, IDF modifier: Qdrant
  computes IDF from the collection at query time, we send term frequencies from `Bm25Encoder`);
* payload from `finrag.index.payload.chunk_payload`, with keyword / integer / bool payload indexes on the
  fields we filter by; ``tenant`` is a *tenant* index (``is_tenant=True``) so Qdrant co-locates each tenant's
  points and filtered HNSW searches stay fast with many tenants;
* every read filters by tenant inside the query (never after), hybrid = two prefetches (dense over children,
  sparse over everything) fused with RRF on the server (``RrfQuery(k)``, needs Qdrant >= 1.16).

Scaling knobs (constructor arguments, only used when the collection is created):

* ``shard_number``: shards of the collection; with several nodes, >= number of nodes so data spreads out.
  Rule of thumb: 1 shard per node per ~10-20 M points, and a multiple of the node count.
* ``replication_factor``: copies of each shard (2 = survives one node down); ``write_consistency_factor``:
  replicas that must acknowledge a write (1 = fastest; = replication_factor for read-your-writes on all).
* ``on_disk``: dense vectors memory-mapped instead of in RAM (HNSW graph stays in RAM); set for large
  corpora when RAM is tight. ``on_disk_payload`` keeps payloads (chunk text) on disk, the indexed fields
  stay in memory. ``sparse_on_disk`` likewise for the sparse inverted index.
* ``hnsw_m`` / ``hnsw_ef_construct``: graph density/quality; the Qdrant defaults (16 / 100) fit MiniLM.

Writes wait for the server to apply them (``wait=True``) so a document marked ready is searchable.
"""

from __future__ import annotations

import logging
import threading
import time
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from qdrant_client import QdrantClient
from qdrant_client import models as m
from qdrant_client.http.exceptions import UnexpectedResponse

from finrag.index.payload import (
    BOOL_FIELDS,
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
SPARSE = "bm25"
UPSERT_BATCH = 256  # points per request: keeps request bodies well under the server's 32 MB default limit


class QdrantServerStore:
    """VectorStore role on a Qdrant server.

    `url` is an http(s) URL (``http://qdrant:6333``); ``":memory:"`` or ``location=":memory:"`` / ``path=DIR``
    select qdrant-client's local mode (no server; used by tests and the benchmark). `api_key`: the
    server's key (FINRAG_QDRANT_API_KEY, passed by build_components)."""

    def __init__(
        self,
        url: str = "",
        collection: str = "finrag",
        dim: int = 384,
        api_key: str | None = None,
        *,
        location: str | None = None,
        path: str | None = None,
        prefer_grpc: bool = False,
        timeout: float = 30.0,
        shard_number: int | None = None,
        replication_factor: int | None = None,
        write_consistency_factor: int | None = None,
        on_disk: bool = False,
        on_disk_payload: bool = True,
        sparse_on_disk: bool = False,
        hnsw_m: int | None = None,
        hnsw_ef_construct: int | None = None,
        client: QdrantClient | None = None,
    ) -> None:
        if url == ":memory:":
            url, location = "", ":memory:"
        if not (url or location or path or client):
            raise ValueError("QdrantServerStore needs a url, location=':memory:', path=DIR or a client")
        self.url = url
        self.location = location
        self.path = str(path) if path is not None else None
        self.collection = collection
        self.dim = dim
        self.api_key = api_key  # FINRAG_QDRANT_API_KEY, through the settings (build_components)
        self.prefer_grpc = prefer_grpc
        self.timeout = timeout
        self.shard_number = shard_number
        self.replication_factor = replication_factor
        self.write_consistency_factor = write_consistency_factor
        self.on_disk = on_disk
        self.on_disk_payload = on_disk_payload
        self.sparse_on_disk = sparse_on_disk
        self.hnsw_m = hnsw_m
        self.hnsw_ef_construct = hnsw_ef_construct
        self._client = client
        self._ready = False
        self._lock = threading.Lock()

    # lifecycle -----------------------------------------------------------------------------------
    def warm_up(self) -> None:
        if self._ready:
            return
        with self._lock:
            if self._ready:
                return
            if self._client is None:
                if self.url:
                    self._client = QdrantClient(
                        url=self.url, api_key=self.api_key, prefer_grpc=self.prefer_grpc, timeout=int(self.timeout)
                    )
                elif self.path:
                    self._client = QdrantClient(path=self.path)
                else:
                    self._client = QdrantClient(location=self.location or ":memory:")
            if not self._client.collection_exists(self.collection):
                self._create_collection(self._client)
            self._ready = True
            log.debug("qdrant collection ready", extra={"collection": self.collection, "url": self.url or "local"})

    def _create_collection(self, client: QdrantClient) -> None:
        hnsw = None
        if self.hnsw_m is not None or self.hnsw_ef_construct is not None:
            hnsw = m.HnswConfigDiff(m=self.hnsw_m, ef_construct=self.hnsw_ef_construct)
        try:
            client.create_collection(
                self.collection,
                vectors_config={DENSE: m.VectorParams(size=self.dim, distance=m.Distance.COSINE, on_disk=self.on_disk)},
                sparse_vectors_config={
                    SPARSE: m.SparseVectorParams(
                        modifier=m.Modifier.IDF, index=m.SparseIndexParams(on_disk=self.sparse_on_disk)
                    )
                },
                shard_number=self.shard_number,
                replication_factor=self.replication_factor,
                write_consistency_factor=self.write_consistency_factor,
                on_disk_payload=self.on_disk_payload,
                hnsw_config=hnsw,
            )
        except (UnexpectedResponse, ValueError) as exc:
            # Several API replicas start at once: whoever loses the race finds the collection there.
            if not client.collection_exists(self.collection):
                raise
            log.debug("collection created by another process", extra={"error": str(exc)})
            return
        with warnings.catch_warnings():
            # Local mode warns that payload indexes do nothing there; on a server they are what makes
            # tenant / scope filters cheap.
            warnings.simplefilter("ignore", UserWarning)
            for name in KEYWORD_FIELDS:
                schema: Any = m.PayloadSchemaType.KEYWORD
                if name == "tenant":
                    schema = m.KeywordIndexParams(type=m.KeywordIndexType.KEYWORD, is_tenant=True)
                client.create_payload_index(self.collection, name, field_schema=schema, wait=True)
            for name in INTEGER_FIELDS:
                client.create_payload_index(self.collection, name, field_schema=m.PayloadSchemaType.INTEGER, wait=True)
            for name in BOOL_FIELDS:
                client.create_payload_index(self.collection, name, field_schema=m.PayloadSchemaType.BOOL, wait=True)

    @property
    def client(self) -> QdrantClient:
        if not self._ready:
            self.warm_up()
        assert self._client is not None
        return self._client

    def flush(self) -> None:
        """Nothing to do: every write already waited for the server (wait=True)."""

    def optimize(self, timeout_s: float = 3600.0, poll_s: float = 0.5) -> bool:
        """The server's optimiser runs in the background: wait until the collection is no longer
        optimising (status green, or grey: optimisations pending but not started, which we trigger).
        True if it was busy when called."""
        status = self.client.get_collection(self.collection).status
        if status == m.CollectionStatus.GREY:  # pending optimisations start on the next update
            self.client.update_collection(self.collection, optimizers_config=m.OptimizersConfigDiff())
        busy = status != m.CollectionStatus.GREEN
        deadline = time.monotonic() + timeout_s
        while status != m.CollectionStatus.GREEN:
            if status == m.CollectionStatus.RED:
                raise RuntimeError(f"qdrant collection {self.collection!r} is red (an optimisation failed)")
            if time.monotonic() > deadline:
                raise TimeoutError(f"qdrant collection {self.collection!r} still optimising after {timeout_s:.0f} s")
            time.sleep(poll_s)
            status = self.client.get_collection(self.collection).status
        return busy

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
            self._ready = False

    # writes --------------------------------------------------------------------------------------
    def upsert(self, chunks: Sequence[Chunk], dense: np.ndarray | None, sparse: Sequence[SparseVec | None]) -> None:
        points: list[m.PointStruct] = []
        dense_rows = iter(dense) if dense is not None else None
        for chunk, sp in zip(chunks, sparse, strict=True):
            vector: dict[str, Any] = {}
            # Same rule as the edge store: pages (parents) carry only BM25, children carry both.
            if chunk.kind != ChunkKind.PAGE and dense_rows is not None:
                vector[DENSE] = np.asarray(next(dense_rows), dtype=np.float32).tolist()
            if sp is not None and sp.indices:
                vector[SPARSE] = m.SparseVector(indices=list(sp.indices), values=list(sp.values))
            points.append(m.PointStruct(id=chunk.id, vector=vector, payload=chunk_payload(chunk)))
        for start in range(0, len(points), UPSERT_BATCH):
            self.client.upsert(self.collection, points[start : start + UPSERT_BATCH], wait=True)

    def delete_document(self, tenant: str, doc_id: str) -> None:
        self.client.delete(self.collection, m.FilterSelector(filter=_doc_filter(tenant, doc_id)), wait=True)

    def set_page_payload(self, tenant: str, doc_id: str, pages: dict[int, dict[str, Any]]) -> None:
        """Set payload fields on every point of each page (parent and children), without re-embedding."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # local mode: payload indexes are a no-op there
            for name in SECTION_FIELDS:  # idempotent: fields added since the collection was created
                self.client.create_payload_index(
                    self.collection, name, field_schema=m.PayloadSchemaType.KEYWORD, wait=True
                )
        for page, payload in pages.items():
            must = [
                *_doc_filter(tenant, doc_id).must,
                m.FieldCondition(key="page_start", match=m.MatchValue(value=page)),
            ]
            self.client.set_payload(self.collection, payload, points=m.Filter(must=must), wait=True)

    def set_document_payload(self, tenant: str, doc_id: str, payload: dict[str, Any]) -> None:
        """Set payload fields on every point of one document, without re-embedding."""
        self.client.set_payload(self.collection, payload, points=_doc_filter(tenant, doc_id), wait=True)

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
        """Several hybrid queries (dense, sparse, limit) under one filter, sent as one batch request."""
        flt = scope_filter(tenant, scope)
        requests: list[m.QueryRequest | None] = []
        for dense, sparse, limit in queries:
            prefetches: list[m.Prefetch] = []
            if dense is not None:
                prefetches.append(
                    m.Prefetch(query=_dense(dense), using=DENSE, limit=prefetch_limit, filter=_children(flt))
                )
            if sparse is not None and sparse.indices:
                prefetches.append(m.Prefetch(query=_sparse(sparse), using=SPARSE, limit=prefetch_limit, filter=flt))
            # The outer filter repeats the tenant so a prefetch added later without one cannot leak.
            requests.append(
                m.QueryRequest(
                    prefetch=prefetches,
                    query=m.RrfQuery(rrf=m.Rrf(k=rrf_k)),
                    filter=flt,
                    limit=limit,
                    with_payload=True,
                )
                if prefetches
                else None
            )
        batch = [r for r in requests if r is not None]
        results = iter(self.client.query_batch_points(self.collection, batch) if batch else [])
        return [
            [Hit(chunk=chunk_from_payload(str(p.id), p.payload or {}), score=p.score) for p in next(results).points]
            if r is not None
            else []
            for r in requests
        ]

    def get_chunks(self, tenant: str, ids: Sequence[str]) -> list[Chunk]:
        if not ids:
            return []
        # scroll with a tenant filter rather than retrieve(): retrieve() by id would ignore the tenant.
        flt = m.Filter(must=[_match("tenant", tenant), m.HasIdCondition(has_id=list(ids))])
        records, _ = self.client.scroll(self.collection, scroll_filter=flt, limit=len(ids), with_payload=True)
        by_id = {str(r.id): chunk_from_payload(str(r.id), r.payload or {}) for r in records}
        return [by_id[i] for i in ids if i in by_id]

    def page_chunks(self, tenant: str, doc_id: str, pages: Iterable[int]) -> list[Chunk]:
        wanted = sorted(set(pages))
        if not wanted:
            return []
        flt = m.Filter(
            must=[
                *_doc_filter(tenant, doc_id).must,  # type: ignore[misc]
                _match("kind", ChunkKind.PAGE.value),
                m.FieldCondition(key="page_start", match=m.MatchAny(any=wanted)),
            ]
        )
        records, _ = self.client.scroll(self.collection, scroll_filter=flt, limit=len(wanted) + 1, with_payload=True)
        return sorted((chunk_from_payload(str(r.id), r.payload or {}) for r in records), key=lambda c: c.page_start)

    def count(self, tenant: str | None = None, doc_id: str | None = None) -> int:
        must: list[Any] = []
        if tenant is not None:
            must.append(_match("tenant", tenant))
        if doc_id is not None:
            must.append(_match("doc_id", doc_id))
        flt = m.Filter(must=must) if must else None
        return self.client.count(self.collection, count_filter=flt, exact=True).count


# helpers --------------------------------------------------------------------------------------------
def _match(key: str, value: Any) -> m.FieldCondition:
    return m.FieldCondition(key=key, match=m.MatchValue(value=value))


def _dense(vec: np.ndarray) -> list[float]:
    return np.asarray(vec, dtype=np.float32).tolist()


def _sparse(vec: SparseVec) -> m.SparseVector:
    return m.SparseVector(indices=list(vec.indices), values=list(vec.values))


def _children(flt: m.Filter) -> m.Filter:
    return m.Filter(must=[*(flt.must or []), _match("is_child", True)])  # type: ignore[misc]


def _doc_filter(tenant: str, doc_id: str) -> m.Filter:
    return m.Filter(must=[_match("tenant", tenant), _match("doc_id", doc_id)])


def scope_filter(tenant: str, scope: Scope) -> m.Filter:
    """Tenant first, always; then the scope's document restriction (same rules as the edge store)."""
    must: list[Any] = [_match("tenant", tenant)]
    if scope.doc_ids:
        must.append(m.FieldCondition(key="doc_id", match=m.MatchAny(any=list(scope.doc_ids))))
    if scope.doc_types:
        must.append(m.FieldCondition(key="doc_type", match=m.MatchAny(any=list(scope.doc_types))))
    if scope.fiscal_years:
        must.append(m.FieldCondition(key="fiscal_year", match=m.MatchAny(any=list(scope.fiscal_years))))
    return m.Filter(must=must)
