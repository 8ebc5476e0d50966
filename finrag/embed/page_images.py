"""Page-image embeddings from a remote late-interaction model service (ColPali, ColQwen and the like run
on a GPU box; no weights ship with finrag and none fit a 2-core CPU).

Wire format, JSON over HTTP (what a thin wrapper around a ColPali model serves):

    POST {url}/v1/embed/images   {"images": ["<base64 PNG>", ...]}  -> {"embeddings": [[[f, ...], ...], ...]}
    POST {url}/v1/embed/queries  {"queries": ["question", ...]}     -> {"embeddings": [[[f, ...], ...], ...]}

Each embedding is a multi-vector: one row per image patch or query token, all rows of one width."""

from __future__ import annotations

import base64
import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

log = logging.getLogger(__name__)


class PageImageEmbeddingError(RuntimeError):
    """The page-image embedding service failed or answered something unusable."""


class RemotePageImageEmbedder:
    """PageImageEmbedder role over HTTP (httpx). Rows are L2-normalised here, so MaxSim over cosine
    scores means the same whatever the service returns."""

    def __init__(self, url: str, *, api_key: str | None = None, timeout_s: float = 60.0, batch_size: int = 8) -> None:
        self.url = url.rstrip("/")
        self.api_key = api_key
        self.timeout_s = timeout_s
        self.batch_size = batch_size
        self.name = f"remote-page-images@{self.url}"
        self._client: Any = None

    def warm_up(self) -> None:
        if self._client is None:
            import httpx

            headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
            self._client = httpx.Client(base_url=self.url, timeout=self.timeout_s, headers=headers)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def embed_images(self, images: Sequence[bytes]) -> list[np.ndarray]:
        out: list[np.ndarray] = []
        for start in range(0, len(images), self.batch_size):
            batch = [base64.b64encode(b).decode("ascii") for b in images[start : start + self.batch_size]]
            out += self._post("/v1/embed/images", {"images": batch}, len(batch))
        return out

    def embed_queries(self, texts: Sequence[str]) -> list[np.ndarray]:
        return self._post("/v1/embed/queries", {"queries": list(texts)}, len(texts)) if texts else []

    def _post(self, path: str, body: dict[str, Any], expected: int) -> list[np.ndarray]:
        import httpx

        self.warm_up()
        try:
            resp = self._client.post(path, json=body)
        except httpx.HTTPError as e:
            raise PageImageEmbeddingError(f"page-image embedding service at {self.url} unreachable: {e}") from e
        if resp.status_code != 200:
            raise PageImageEmbeddingError(
                f"page-image embedding service at {self.url}{path} answered {resp.status_code}: {resp.text[:200]}"
            )
        try:
            rows = resp.json()["embeddings"]
            arrays = [np.asarray(r, dtype=np.float32) for r in rows]
        except (ValueError, KeyError, TypeError) as e:
            raise PageImageEmbeddingError(f"page-image embedding service at {self.url}: malformed reply ({e})") from e
        if len(arrays) != expected or any(a.ndim != 2 or a.shape[0] == 0 for a in arrays):
            raise PageImageEmbeddingError(
                f"page-image embedding service at {self.url}: expected {expected} multi-vectors (rows x dim), "
                f"got {[a.shape for a in arrays]}"
            )
        if len({a.shape[1] for a in arrays}) > 1:
            raise PageImageEmbeddingError(f"page-image embedding service at {self.url}: rows of different widths")
        return [a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12) for a in arrays]
