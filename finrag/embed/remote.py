"""Embeddings from an OpenAI-compatible `/v1/embeddings` endpoint (OpenAI text-embedding-3-*, vLLM,
Ollama, TEI behind a compatible proxy). The expected dimension is part of the index contract:
vectors of another size are refused, never silently stored."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

log = logging.getLogger(__name__)


class EmbeddingDimensionError(RuntimeError):
    """The endpoint returned vectors of a size the index was not built for."""


class OpenAIEmbedder:
    """Embedder role over the official `openai` client."""

    def __init__(
        self,
        model: str,
        dim: int,
        base_url: str | None = None,
        api_key: str | None = None,
        batch_size: int = 128,
        timeout_s: float = 60.0,
        send_dimensions: bool = False,
    ) -> None:
        self.model = model
        self.dim = dim
        self.name = f"{model}/openai"
        self.base_url = base_url
        self.api_key = api_key
        self.batch_size = batch_size
        self.timeout_s = timeout_s
        # text-embedding-3-* can shorten vectors server-side; other servers reject the parameter.
        self.send_dimensions = send_dimensions
        self._client = None

    def warm_up(self) -> None:
        if self._client is not None:
            return
        from openai import OpenAI

        self._client = OpenAI(
            base_url=self.base_url, api_key=self.api_key or "not-needed", timeout=self.timeout_s, max_retries=2
        )

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        self.warm_up()
        assert self._client is not None
        rows: list[np.ndarray] = []
        for start in range(0, len(texts), self.batch_size):
            batch = [t if t.strip() else " " for t in texts[start : start + self.batch_size]]
            extra = {"dimensions": self.dim} if self.send_dimensions else {}
            resp = self._client.embeddings.create(model=self.model, input=batch, **extra)
            for item in sorted(resp.data, key=lambda d: d.index):
                vec = np.asarray(item.embedding, dtype=np.float32)
                if vec.shape != (self.dim,):
                    raise EmbeddingDimensionError(
                        f"embedding endpoint returned {vec.shape[0]}-dimensional vectors for model {self.model!r}; "
                        f"this index expects {self.dim} (FINRAG_EMBEDDING_DIM). Re-embed explicitly into a new "
                        "data dir if the model changed."
                    )
                rows.append(vec)
        out = np.stack(rows)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1.0, norms)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]

    def token_lengths(self, texts: Sequence[str]) -> list[int]:
        return [len(t) // 4 + 1 for t in texts]
