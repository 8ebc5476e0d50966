"""Page-image index: one multi-vector per page (ColPali-style patch embeddings), scored by MaxSim.

Two implementations of the `PageImageIndex` role, chosen once from settings like the chunk store:
`EdgePageImageIndex` (an embedded qdrant-edge shard of its own, beside the chunk shard) and
`ServerPageImageIndex` (a collection on a Qdrant server, or qdrant-client's local mode in tests).
Both create their vectors on the first write, sized by the service's vectors (no dimension setting
to get wrong), and refuse vectors of another width afterwards."""

from __future__ import annotations

import json
import logging
import threading
import uuid
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from finrag.index.owner import OwnerLock, close_owned
from finrag.records import Scope

log = logging.getLogger(__name__)

PAGE_VECTOR = "page_image"
WIDTH_FILE = "page_images.json"
_KEYWORDS = ("tenant", "doc_id", "doc_type", "company")
_INTEGERS = ("fiscal_year", "page")


class PageVectorWidthError(ValueError):
    """Vectors of another width than the index was created with (the image model changed)."""


@dataclass(frozen=True, slots=True)
class PageHit:
    doc_id: str
    page: int  # zero-based
    score: float


def page_point_id(tenant: str, doc_id: str, page: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"finrag-page-image:{tenant}:{doc_id}:{page}"))


def _payload(tenant: str, doc_id: str, page: int, extra: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in extra.items() if v is not None and v != ""}
    out.update(tenant=tenant, doc_id=doc_id, page=page)
    return out


def _check_width(held: int | None, got: int, what: str) -> None:
    if held != got:
        raise PageVectorWidthError(
            f"{what} vectors are {got} wide; this index holds {held}-wide vectors "
            "(the image model changed: re-index the page images into a new data folder)"
        )


def _rows(vec: np.ndarray) -> list[list[float]]:
    return np.asarray(vec, dtype=np.float32).tolist()  # type: ignore[no-any-return]


class EdgePageImageIndex:
    """PageImageIndex on an embedded qdrant-edge shard (multi-vector, MaxSim comparator). One process
    owns the folder, as with the chunk shard."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.owner = OwnerLock(self.path)
        self._shard: Any = None
        self._dim: int | None = None
        self._lock = threading.RLock()

    def warm_up(self) -> None:
        import qdrant_edge as q

        with self._lock:
            if self._shard is not None or not (self.path / "segments").exists():
                return  # created on the first write: its width comes from the vectors
            self.owner.acquire()
            self._shard = q.EdgeShard.load(str(self.path))

    def _create(self, dim: int) -> None:
        import qdrant_edge as q

        self.owner.acquire()
        self.path.mkdir(parents=True, exist_ok=True)
        multi = q.MultiVectorConfig(comparator=q.MultiVectorComparator.MaxSim)
        config = q.EdgeConfig(
            vectors={PAGE_VECTOR: q.EdgeVectorParams(size=dim, distance=q.Distance.Cosine, multivector_config=multi)}
        )
        self._shard = q.EdgeShard.create(str(self.path), config)
        (self.path / WIDTH_FILE).write_text(json.dumps({"dim": dim}))  # the shard does not report its config
        for name in _KEYWORDS:
            self._shard.update(q.UpdateOperation.create_field_index(name, q.PayloadSchemaType.Keyword))
        for name in _INTEGERS:
            self._shard.update(q.UpdateOperation.create_field_index(name, q.PayloadSchemaType.Integer))
        self._dim = dim

    def _width(self) -> int | None:
        if self._dim is None and self._shard is not None:
            self._dim = int(json.loads((self.path / WIDTH_FILE).read_text())["dim"])
        return self._dim

    def upsert_pages(
        self, tenant: str, doc_id: str, pages: Sequence[int], vectors: Sequence[np.ndarray], payload: dict[str, Any]
    ) -> None:
        import qdrant_edge as q

        if not pages:
            return
        dim = int(vectors[0].shape[1])
        with self._lock:
            self.warm_up()
            if self._shard is None:
                self._create(dim)
            _check_width(self._width(), dim, "page-image")
            points = [
                q.Point(page_point_id(tenant, doc_id, p), {PAGE_VECTOR: _rows(v)}, _payload(tenant, doc_id, p, payload))
                for p, v in zip(pages, vectors, strict=True)
            ]
            self._shard.update(q.UpdateOperation.upsert_points(points))
            self._shard.flush()

    def search(self, tenant: str, query: np.ndarray, scope: Scope, limit: int) -> list[PageHit]:
        import qdrant_edge as q

        from finrag.index.qdrant_edge import scope_filter

        with self._lock:
            self.warm_up()
            if self._shard is None:
                return []
            _check_width(self._width(), query.shape[1], "query")
            found = self._shard.query(
                q.QueryRequest(
                    limit=limit,
                    query=q.Query.Nearest(_rows(query), using=PAGE_VECTOR),
                    filter=scope_filter(tenant, scope),
                    with_payload=True,
                )
            )
        return [PageHit(str(p.payload["doc_id"]), int(p.payload["page"]), float(p.score)) for p in found]

    def delete_document(self, tenant: str, doc_id: str) -> None:
        import qdrant_edge as q

        from finrag.index.qdrant_edge import _doc_filter

        with self._lock:
            self.warm_up()
            if self._shard is None:
                return
            self._shard.update(q.UpdateOperation.delete_points_by_filter(_doc_filter(tenant, doc_id)))
            self._shard.flush()

    def count(self, tenant: str | None = None, doc_id: str | None = None) -> int:
        import qdrant_edge as q

        with self._lock:
            self.warm_up()
            if self._shard is None:
                return 0
            must = [
                q.FieldCondition(key=k, match=q.MatchValue(v))
                for k, v in (("tenant", tenant), ("doc_id", doc_id))
                if v is not None
            ]
            return int(self._shard.count(q.CountRequest(exact=True, filter=q.Filter(must=must) if must else None)))

    def close(self) -> None:
        with self._lock:
            shard, self._shard = self._shard, None
            close_owned(shard, self.owner)


class ServerPageImageIndex:
    """PageImageIndex on a Qdrant server collection (`<collection>_pages`) through qdrant-client; with
    `location=":memory:"` qdrant-client's local mode (tests)."""

    def __init__(
        self,
        url: str = "",
        collection: str = "finrag_pages",
        api_key: str | None = None,
        *,
        location: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        if not (url or location):
            raise ValueError("ServerPageImageIndex needs a url or location=':memory:'")
        self.url = url
        self.location = location
        self.collection = collection
        self.api_key = api_key
        self.timeout = timeout
        self._client: Any = None
        self._dim: int | None = None
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        from qdrant_client import QdrantClient

        with self._lock:
            if self._client is None:
                self._client = (
                    QdrantClient(url=self.url, api_key=self.api_key, timeout=int(self.timeout))
                    if self.url
                    else QdrantClient(location=self.location or ":memory:")
                )
            if self._dim is None and self._client.collection_exists(self.collection):
                vectors = self._client.get_collection(self.collection).config.params.vectors
                self._dim = int(vectors[PAGE_VECTOR].size)

    def _create(self, dim: int) -> None:
        from qdrant_client import models as m

        multi = m.MultiVectorConfig(comparator=m.MultiVectorComparator.MAX_SIM)
        params = m.VectorParams(size=dim, distance=m.Distance.COSINE, multivector_config=multi)
        self._client.create_collection(self.collection, vectors_config={PAGE_VECTOR: params})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # local mode: payload indexes are a no-op there
            for name in _KEYWORDS:
                self._client.create_payload_index(self.collection, name, field_schema=m.PayloadSchemaType.KEYWORD)
            for name in _INTEGERS:
                self._client.create_payload_index(self.collection, name, field_schema=m.PayloadSchemaType.INTEGER)
        self._dim = dim

    def upsert_pages(
        self, tenant: str, doc_id: str, pages: Sequence[int], vectors: Sequence[np.ndarray], payload: dict[str, Any]
    ) -> None:
        from qdrant_client import models as m

        if not pages:
            return
        dim = int(vectors[0].shape[1])
        self.warm_up()
        if self._dim is None:
            self._create(dim)
        _check_width(self._dim, dim, "page-image")
        points = [
            m.PointStruct(
                id=page_point_id(tenant, doc_id, p),
                vector={PAGE_VECTOR: _rows(v)},
                payload=_payload(tenant, doc_id, p, payload),
            )
            for p, v in zip(pages, vectors, strict=True)
        ]
        self._client.upsert(self.collection, points, wait=True)

    def search(self, tenant: str, query: np.ndarray, scope: Scope, limit: int) -> list[PageHit]:
        from finrag.index.qdrant_server import scope_filter

        self.warm_up()
        if self._dim is None:
            return []
        _check_width(self._dim, query.shape[1], "query")
        found = self._client.query_points(
            self.collection,
            query=_rows(query),
            using=PAGE_VECTOR,
            query_filter=scope_filter(tenant, scope),
            limit=limit,
            with_payload=True,
        ).points
        return [PageHit(str(p.payload["doc_id"]), int(p.payload["page"]), float(p.score)) for p in found]

    def delete_document(self, tenant: str, doc_id: str) -> None:
        from qdrant_client import models as m

        from finrag.index.qdrant_server import _doc_filter

        self.warm_up()
        if self._dim is not None:
            self._client.delete(self.collection, m.FilterSelector(filter=_doc_filter(tenant, doc_id)), wait=True)

    def count(self, tenant: str | None = None, doc_id: str | None = None) -> int:
        from qdrant_client import models as m

        self.warm_up()
        if self._dim is None:
            return 0
        must = [
            m.FieldCondition(key=k, match=m.MatchValue(value=v))
            for k, v in (("tenant", tenant), ("doc_id", doc_id))
            if v is not None
        ]
        flt = m.Filter(must=must) if must else None  # type: ignore[arg-type]
        return int(self._client.count(self.collection, count_filter=flt, exact=True).count)

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
