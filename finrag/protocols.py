"""One Protocol per role. Embedded and server implementations both satisfy these, and callers
only ever see the Protocol (the factory picks the implementation once, from settings)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from finrag.records import Chunk, DocStatus, DocumentRecord, Filing, Hit, Page, Scope


class ParseError(Exception):
    """A file that cannot be read as a PDF (corrupt, encrypted with a password, empty, not a PDF).

    The message is meant for people; ingest records it as the document's failure reason."""


@runtime_checkable
class Parser(Protocol):
    def parse(self, path: Path) -> Iterator[Page]:
        """Yield pages in order. Raises ParseError for files that cannot be parsed."""
        ...

    def page_count(self, path: Path) -> int: ...


@runtime_checkable
class FilingDescriber(Protocol):
    def describe(self, pages: Sequence[Page], file_name: str) -> Filing:
        """Infer company / form / fiscal period from the first pages; the file name is a fallback."""
        ...


@runtime_checkable
class Chunker(Protocol):
    def chunk(self, doc_id: str, tenant: str, doc_name: str, filing: Filing, pages: Sequence[Page]) -> list[Chunk]:
        """Parents (pages) and children (passages, tables) for one filing."""
        ...


@runtime_checkable
class Embedder(Protocol):
    name: str
    dim: int

    def warm_up(self) -> None: ...

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised float32 matrix, one row per text."""
        ...

    def embed_query(self, text: str) -> np.ndarray: ...


class SparseVec(Protocol):
    indices: list[int]
    values: list[float]


@runtime_checkable
class SparseEncoder(Protocol):
    def embed_document(self, text: str) -> SparseVec: ...

    def embed_query(self, text: str) -> SparseVec: ...


@runtime_checkable
class VectorStore(Protocol):
    """Dense + sparse chunk index. Every read takes the tenant and filters inside the store."""

    def warm_up(self) -> None: ...

    def upsert(self, chunks: Sequence[Chunk], dense: np.ndarray | None, sparse: Sequence[SparseVec | None]) -> None: ...

    def delete_document(self, tenant: str, doc_id: str) -> None: ...

    def set_page_payload(self, tenant: str, doc_id: str, pages: dict[int, dict[str, Any]]) -> None:
        """Set payload fields on every point of each page (parent and children) without re-embedding."""
        ...

    def set_document_payload(self, tenant: str, doc_id: str, payload: dict[str, Any]) -> None:
        """Set payload fields on every point of one document (a corrected company, form or fiscal year)
        without re-embedding."""
        ...

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
        """Dense over children + sparse over everything, fused with RRF inside the store."""
        ...

    def hybrid_search_many(
        self,
        tenant: str,
        scope: Scope,
        queries: Sequence[tuple[np.ndarray | None, SparseVec | None, int]],
        prefetch_limit: int,
        rrf_k: int = 60,
    ) -> list[list[Hit]]:
        """Several hybrid searches (dense, sparse, limit) under one tenant + scope filter, sent as one
        batch; one result list per query, in order (empty for a query with neither vector)."""
        ...

    def get_chunks(self, tenant: str, ids: Sequence[str]) -> list[Chunk]: ...

    def page_chunks(self, tenant: str, doc_id: str, pages: Iterable[int]) -> list[Chunk]:
        """Parent (page) chunks of the given zero-based pages."""
        ...

    def count(self, tenant: str | None = None, doc_id: str | None = None) -> int: ...

    def flush(self) -> None: ...

    def optimize(self) -> bool:
        """Build the search indexes (HNSW graph, payload indexes, quantised copies) of what was written,
        and return when they are built: True if this call built or merged anything. The embedded store
        has no background optimiser, so this is the only way its segments get indexed; a Qdrant server
        optimises in the background, and there this waits for it to finish (False: nothing was pending).
        Raises when the build fails; the embedded store then keeps serving its shard as it was."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class Registry(Protocol):
    """Documents (and later jobs, keys, ...) in a SQL database."""

    def warm_up(self) -> None: ...

    def get(self, tenant: str, doc_id: str) -> DocumentRecord | None: ...

    def find_by_hash(self, tenant: str, content_hash: str) -> DocumentRecord | None: ...

    def find_by_source(self, tenant: str, source_path: str) -> list[DocumentRecord]: ...

    def upsert(self, record: DocumentRecord) -> None: ...

    def set_status(self, tenant: str, doc_id: str, status: DocStatus, **fields: object) -> None: ...

    def list(self, tenant: str | None = None, status: DocStatus | None = None) -> list[DocumentRecord]: ...

    def fingerprint(self, tenant: str | None = None, status: DocStatus | None = None) -> str:
        """A string that changes whenever `list(tenant, status)` would (cheap: no rows loaded)."""
        ...

    def count(self, tenant: str | None = None, status: DocStatus | None = None) -> int:
        """How many documents `list(tenant, status)` would return (no rows loaded)."""
        ...

    def ready_ids(self, tenant: str, doc_ids: Collection[str]) -> set[str]:
        """The READY documents among `doc_ids`."""
        ...

    def delete(self, tenant: str, doc_id: str) -> None: ...


@runtime_checkable
class Reranker(Protocol):
    def warm_up(self) -> None: ...

    def rerank(self, question: str, hits: list[Hit], top_k: int) -> list[Hit]: ...


@runtime_checkable
class PageImageEmbedder(Protocol):
    """Late-interaction embeddings of page images (ColPali-style): one multi-vector (a row per image
    patch) per page image, and one (a row per query token) per question, compared by MaxSim."""

    name: str

    def warm_up(self) -> None: ...

    def embed_images(self, images: Sequence[bytes]) -> list[np.ndarray]:
        """One (patches, dim) float32 array per PNG, in order."""
        ...

    def embed_queries(self, texts: Sequence[str]) -> list[np.ndarray]:
        """One (tokens, dim) float32 array per question, in order."""
        ...


class PageMatch(Protocol):
    doc_id: str
    page: int  # zero-based
    score: float


@runtime_checkable
class PageImageIndex(Protocol):
    """Page-image multi-vectors with MaxSim scoring. Every read takes the tenant and filters inside
    the store, like the chunk store; the scope's document / form / fiscal-year restriction applies too."""

    def warm_up(self) -> None: ...

    def upsert_pages(
        self, tenant: str, doc_id: str, pages: Sequence[int], vectors: Sequence[np.ndarray], payload: dict[str, Any]
    ) -> None:
        """`vectors[i]` is page `pages[i]`'s multi-vector; `payload`: the filing's scope fields."""
        ...

    def search(self, tenant: str, query: np.ndarray, scope: Scope, limit: int) -> list[PageMatch]: ...

    def delete_document(self, tenant: str, doc_id: str) -> None: ...

    def count(self, tenant: str | None = None, doc_id: str | None = None) -> int: ...

    def close(self) -> None: ...
