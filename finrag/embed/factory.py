"""Pick the embedder implementation once, from settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from finrag.embed.minilm import BucketedEmbedder, OnnxEmbedder, SentenceTransformerEmbedder
from finrag.embed.remote import OpenAIEmbedder

if TYPE_CHECKING:
    from finrag.settings import Settings


def build_embedder(settings: Settings) -> BucketedEmbedder | OpenAIEmbedder:
    """onnx-int8 (default: fastest on CPU), onnx (fp32), torch (reference) or openai (a remote
    OpenAI-compatible endpoint). Nothing is loaded yet."""
    if settings.embedder == "openai":
        if not settings.embedding_model:
            raise ValueError("FINRAG_EMBEDDER=openai needs FINRAG_EMBEDDING_MODEL (e.g. text-embedding-3-large)")
        return OpenAIEmbedder(
            settings.embedding_model,
            settings.embedding_dim,
            base_url=settings.embedding_base_url or None,
            api_key=settings.embedding_api_key or None,
            batch_size=settings.embed_batch_size,
        )
    common = {
        "batch_size": settings.embed_batch_size,
        "threads": settings.embed_threads,
        "device": settings.device,
    }
    if settings.embedder == "torch":
        return SentenceTransformerEmbedder(settings.embedding_model, **common)  # type: ignore[arg-type]
    if settings.embedder in ("onnx", "onnx-int8"):
        return OnnxEmbedder(
            settings.embedding_model,
            int8=settings.embedder == "onnx-int8",
            cache_dir=settings.cache_dir / "models",
            **common,  # type: ignore[arg-type]
        )
    raise ValueError(f"unknown embedder {settings.embedder!r} (onnx-int8, onnx, torch, openai)")
